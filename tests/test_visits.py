"""Visits: logging, the follow-up reminder they schedule, the dates they keep, the work log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.activity import visits as visit_service
from crm.services.errors import DomainError, NotFound, StaleEdit
from crm.services.followups.reminders import pending_reminders_for
from models import (
    AuditAction,
    AuditEntry,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Visit,
    VisitKind,
)
from tests.paging import walk_pages

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def ago(**delta) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


def reminders() -> list[Reminder]:
    return list(db.session.scalars(select(Reminder).order_by(Reminder.id)))


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


# The follow-up reminder ------------------------------------------------------


def test_follow_up_date_creates_one_reminder_for_the_owner(org, customer):
    follow_up = (ago(hours=1).astimezone(SHANGHAI) + timedelta(days=7)).date()

    visit = visit_service.log_visit(
        customer,
        actor=org["m1"],
        occurred_at=ago(hours=1),
        kind=VisitKind.ON_SITE,
        next_step="Send the revised quote",
        follow_up_on=follow_up,
    )
    db.session.commit()

    [reminder] = reminders()
    assert reminder.owner == org["m1"] and reminder.customer == customer
    assert reminder.visit_id == visit.id and reminder.source is ReminderSource.VISIT
    assert reminder.status is ReminderStatus.PENDING and reminder.has_time is False
    assert reminder.due_on == follow_up
    # 08:30 in Shanghai is 00:30 UTC the same day.
    assert reminder.due_at == datetime.combine(follow_up, datetime.min.time(), UTC).replace(
        minute=30
    )
    assert reminder.note == "Send the revised quote"


def test_a_supervisor_logging_a_visit_schedules_the_follow_up_for_the_owner(org, customer):
    org["m1"].timezone = "America/New_York"
    db.session.commit()
    follow_up = date.today() + timedelta(days=3)

    visit = visit_service.log_visit(
        customer, actor=org["sup1"], occurred_at=ago(hours=2), follow_up_on=follow_up
    )
    db.session.commit()

    assert visit.user == org["sup1"]
    [reminder] = reminders()
    assert reminder.owner == org["m1"]
    # The owner's time zone decides when 08:30 is.
    local_due = reminder.due_at.astimezone(NEW_YORK)
    assert (local_due.date(), local_due.hour, local_due.minute) == (follow_up, 8, 30)


def test_no_follow_up_date_no_reminder(org, customer):
    visit_service.log_visit(customer, actor=org["m1"], occurred_at=ago(hours=1))
    db.session.commit()
    assert reminders() == []


def test_editing_the_follow_up_date_moves_the_reminder(org, customer):
    first = date.today() + timedelta(days=5)
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=1), follow_up_on=first, next_step="Call"
    )
    db.session.commit()
    [before] = reminders()

    later = first + timedelta(days=10)
    visit_service.update_visit(
        visit,
        actor=org["m1"],
        version=visit.version,
        occurred_at=visit.occurred_at,
        kind=visit.kind,
        next_step="Call the CFO",
        follow_up_on=later,
    )
    db.session.commit()

    [after] = reminders()
    assert after.id == before.id and after.due_on == later
    assert after.due_at.astimezone(SHANGHAI).date() == later
    assert after.note == "Call the CFO"


def test_clearing_the_follow_up_date_removes_the_pending_reminder(org, customer):
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=1), follow_up_on=date.today()
    )
    db.session.commit()

    visit_service.update_visit(
        visit,
        actor=org["m1"],
        version=visit.version,
        occurred_at=visit.occurred_at,
        kind=visit.kind,
        follow_up_on=None,
    )
    db.session.commit()

    assert reminders() == []


def test_a_done_follow_up_is_kept_and_a_new_date_schedules_a_new_one(org, customer):
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=3), follow_up_on=date.today()
    )
    db.session.commit()
    [done] = reminders()
    done.status = ReminderStatus.DONE
    db.session.commit()

    new_day = date.today() + timedelta(days=14)
    visit_service.update_visit(
        visit,
        actor=org["m1"],
        version=visit.version,
        occurred_at=visit.occurred_at,
        kind=visit.kind,
        follow_up_on=new_day,
    )
    db.session.commit()

    kept, new = reminders()
    assert kept.id == done.id and kept.status is ReminderStatus.DONE
    assert kept.due_on == date.today()
    assert new.status is ReminderStatus.PENDING and new.due_on == new_day


def test_deleting_the_visit_removes_its_pending_reminder_and_unlinks_done_ones(org, customer):
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=2), follow_up_on=date.today()
    )
    other = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=1), follow_up_on=date.today()
    )
    db.session.commit()
    done = db.session.scalar(select(Reminder).where(Reminder.visit_id == other.id))
    done.status = ReminderStatus.DISMISSED
    db.session.commit()

    visit_service.delete_visit(visit, actor=org["m1"])
    visit_service.delete_visit(other, actor=org["m1"])
    db.session.commit()

    [left] = reminders()
    assert left.id == done.id and left.visit_id is None
    assert left.status is ReminderStatus.DISMISSED
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


# Rules -----------------------------------------------------------------------


def test_contacts_met_must_be_the_customers(org, customer, make_customer, make_contact):
    stranger = make_contact(make_customer(org["m1"]))
    ours = make_contact(customer)

    with pytest.raises(DomainError) as refused:
        visit_service.log_visit(
            customer, actor=org["m1"], occurred_at=ago(hours=1), contacts=[ours, stranger]
        )
    db.session.rollback()

    assert refused.value.field == "contact_ids"
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_the_opportunity_must_be_the_customers(org, customer, make_customer, make_opportunity):
    elsewhere = make_opportunity(make_customer(org["m1"]))

    with pytest.raises(DomainError) as refused:
        visit_service.log_visit(
            customer, actor=org["m1"], occurred_at=ago(hours=1), opportunity=elsewhere
        )
    db.session.rollback()

    assert refused.value.field == "opportunity_id"
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_a_visit_links_the_customers_opportunity(org, customer, make_opportunity):
    opportunity = make_opportunity(customer)
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(hours=1), opportunity=opportunity.id
    )
    db.session.commit()
    assert visit.opportunity == opportunity


def test_out_of_scope_customer_cannot_be_visited(org, customer):
    with pytest.raises(NotFound):
        visit_service.log_visit(customer, actor=org["m3"], occurred_at=ago(hours=1))


def test_a_visit_cannot_be_in_the_future_nor_follow_up_before_it(org, customer):
    with pytest.raises(DomainError) as future:
        visit_service.log_visit(customer, actor=org["m1"], occurred_at=ago(hours=-3))
    assert future.value.field == "occurred_on"
    with pytest.raises(DomainError) as before:
        visit_service.log_visit(
            customer,
            actor=org["m1"],
            occurred_at=ago(days=2),
            follow_up_on=(ago(days=2).astimezone(SHANGHAI) - timedelta(days=1)).date(),
        )
    assert before.value.field == "follow_up_on"


# Derived dates ---------------------------------------------------------------


def test_last_visit_and_last_contacted_follow_edits_and_deletes(org, customer, make_contact):
    wang, li = make_contact(customer, name="王总"), make_contact(customer, name="李工")
    older = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=10), contacts=[wang]
    )
    newer = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=2), contacts=[wang, li]
    )
    db.session.commit()
    customer_version = customer.version
    assert customer.last_visit_at == newer.occurred_at
    assert wang.last_contacted_at == li.last_contacted_at == newer.occurred_at

    # Move the newer visit before the older one, and drop 李工 from it.
    visit_service.update_visit(
        newer,
        actor=org["m1"],
        version=newer.version,
        occurred_at=ago(days=20),
        kind=newer.kind,
        contacts=[wang],
    )
    db.session.commit()
    assert customer.last_visit_at == older.occurred_at
    assert wang.last_contacted_at == older.occurred_at
    assert li.last_contacted_at is None

    visit_service.delete_visit(older, actor=org["m1"])
    db.session.commit()
    assert customer.last_visit_at == newer.occurred_at
    assert wang.last_contacted_at == newer.occurred_at

    visit_service.delete_visit(newer, actor=org["m1"])
    db.session.commit()
    assert customer.last_visit_at is None and wang.last_contacted_at is None
    # Derived dates are not edits: an open edit form of the customer is not made stale.
    assert customer.version == customer_version


def test_visits_are_audited_on_the_customer(org, customer, make_contact):
    contact = make_contact(customer)
    visit = visit_service.log_visit(
        customer, actor=org["m1"], occurred_at=ago(days=1), purpose="Intro"
    )
    db.session.commit()
    visit_service.update_visit(
        visit,
        actor=org["m1"],
        version=visit.version,
        occurred_at=visit.occurred_at,
        kind=VisitKind.PHONE,
        purpose="Intro",
        contacts=[contact],
    )
    visit_id = visit.id
    visit_service.delete_visit(visit, actor=org["m1"])
    db.session.commit()

    entries = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "visits").order_by(AuditEntry.id)
        )
    )
    assert [e.action for e in entries] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.DELETE,
    ]
    assert {e.customer_id for e in entries} == {customer.id}
    assert {e.entity_id for e in entries} == {visit_id}
    assert entries[1].changes == {
        "kind": ["on_site", "phone"],
        "contact_ids": [[], [contact.id]],
    }


def test_changing_only_the_contacts_moves_the_version(org, customer, make_contact):
    visit = visit_service.log_visit(customer, actor=org["m1"], occurred_at=ago(days=1))
    db.session.commit()
    version = visit.version
    visit_service.update_visit(
        visit,
        actor=org["m1"],
        version=version,
        occurred_at=visit.occurred_at,
        kind=visit.kind,
        contacts=[make_contact(customer)],
    )
    db.session.commit()
    assert visit.version > version
    with pytest.raises(StaleEdit):
        visit_service.update_visit(
            visit, actor=org["m1"], version=version, occurred_at=visit.occurred_at, kind="phone"
        )


# Pages -----------------------------------------------------------------------


def test_the_form_offers_the_customers_active_contacts(
    client, login, english, customer, make_customer, make_contact
):
    make_contact(customer, name="在职联系人")
    make_contact(customer, name="离职联系人", active=False)
    make_contact(make_customer(english["m1"]), name="别家联系人")
    login(client, english["m1"])

    page = client.get(f"/visits/new?customer_id={customer.id}").get_data(as_text=True)

    assert "在职联系人" in page
    assert "离职联系人" not in page and "别家联系人" not in page
    assert 'type="date"' in page and 'type="time"' in page


def test_logging_a_visit_from_the_form_in_the_users_zone(
    client, login, english, customer, make_contact
):
    english["m1"].timezone = "America/New_York"
    db.session.commit()
    contact = make_contact(customer)
    login(client, english["m1"])
    local = ago(days=3).astimezone(NEW_YORK).replace(hour=20, minute=15, second=0)
    follow_up = local.date() + timedelta(days=7)

    response = client.post(
        f"/visits/new?customer_id={customer.id}",
        data={
            "occurred_on": local.date().isoformat(),
            "occurred_time": "20:15",
            "kind": "phone",
            "contact_ids": [str(contact.id)],
            "opportunity_id": "0",
            "purpose": "Renewal",
            "outcome": "Agreed to a demo",
            "next_step": "Book the demo",
            "follow_up_on": follow_up.isoformat(),
        },
    )

    assert response.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert visit.occurred_at == local.astimezone(UTC)
    assert visit.kind is VisitKind.PHONE and visit.contacts == [contact]
    assert visit.user == english["m1"]
    [reminder] = reminders()
    assert reminder.due_on == follow_up and reminder.note == "Book the demo"
    shown = client.get(response.location).get_data(as_text=True)
    assert "Agreed to a demo" in shown and follow_up.isoformat() in shown


def test_a_stranger_contact_in_the_form_is_refused(
    client, login, english, customer, make_customer, make_contact
):
    stranger = make_contact(make_customer(english["m1"]))
    login(client, english["m1"])
    now = ago(hours=1).astimezone(SHANGHAI)

    response = client.post(
        f"/visits/new?customer_id={customer.id}",
        data={
            "occurred_on": now.date().isoformat(),
            "occurred_time": now.strftime("%H:%M"),
            "kind": "on_site",
            "contact_ids": [str(stranger.id)],
            "opportunity_id": "0",
        },
    )

    assert response.status_code == 400
    assert "must be contacts of this customer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_the_customer_picker_offers_my_customers_and_finds_by_name(
    client, login, english, customer, make_customer
):
    other = make_customer(english["m3"], name="别组的客户")
    login(client, english["m1"])

    page = client.get("/visits/new").get_data(as_text=True)
    assert customer.name in page and other.name not in page

    found = client.get("/visits/new", query_string={"q": customer.name})
    assert found.status_code == 302 and f"customer_id={customer.id}" in found.location
    hidden = client.get("/visits/new", query_string={"q": other.name})
    assert hidden.status_code == 200
    assert f"customer_id={other.id}" not in hidden.get_data(as_text=True)
    assert client.get(f"/visits/new?customer_id={other.id}").status_code == 404


def test_a_stale_edit_answers_409_with_the_saved_values(client, login, english, customer):
    visit = visit_service.log_visit(
        customer, actor=english["m1"], occurred_at=ago(days=1), outcome="First version"
    )
    db.session.commit()
    old_version = visit.version
    visit_service.update_visit(
        visit,
        actor=english["sup1"],
        version=old_version,
        occurred_at=visit.occurred_at,
        kind=visit.kind,
        outcome="The supervisor's version",
    )
    db.session.commit()
    login(client, english["m1"])
    local = visit.occurred_at.astimezone(SHANGHAI)

    response = client.post(
        f"/visits/{visit.id}/edit",
        data={
            "occurred_on": local.date().isoformat(),
            "occurred_time": local.strftime("%H:%M"),
            "kind": "on_site",
            "opportunity_id": "0",
            "outcome": "My stale version",
            "version": str(old_version),
        },
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The supervisor&#39;s version" in page and "My stale version" in page
    db.session.refresh(visit)
    assert visit.outcome == "The supervisor's version"


def test_deleting_from_the_page(client, login, english, customer):
    visit = visit_service.log_visit(
        customer, actor=english["m1"], occurred_at=ago(days=1), follow_up_on=date.today()
    )
    db.session.commit()
    login(client, english["m1"])

    response = client.post(f"/visits/{visit.id}/delete", data={"confirmed": "1"})

    assert response.status_code == 302 and "/visits/" in response.location
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert reminders() == []


# The work log ----------------------------------------------------------------


def visit_ids(page: str) -> set[int]:
    import re

    return {int(v) for v in re.findall(r'data-visit="(\d+)"', page)}


def test_the_work_log_shows_my_visits_and_my_supervisor_sees_the_team(
    client, login, english, make_customer, make_visit
):
    org = english
    mine = make_visit(make_customer(org["m1"]), occurred_at=ago(minutes=5))
    teammates = make_visit(make_customer(org["m2"]), occurred_at=ago(minutes=5))
    other_team = make_visit(make_customer(org["m3"]), occurred_at=ago(minutes=5))

    login(client, org["m1"])
    assert visit_ids(client.get("/visits/").get_data(as_text=True)) == {mine.id}

    login(client, org["sup1"])
    assert visit_ids(client.get("/visits/").get_data(as_text=True)) == {mine.id, teammates.id}
    only_m2 = client.get(f"/visits/?member={org['m2'].id}").get_data(as_text=True)
    assert visit_ids(only_m2) == {teammates.id}

    login(client, org["admin"])
    everyone = client.get("/visits/").get_data(as_text=True)
    assert visit_ids(everyone) == {mine.id, teammates.id, other_team.id}
    team_two = client.get(f"/visits/?team={org['team2'].id}").get_data(as_text=True)
    assert visit_ids(team_two) == {other_team.id}


def test_an_admins_work_log_counts_per_team_and_a_chosen_team_per_member(
    client, login, english, make_user, make_customer, make_visit
):
    """The whole organisation's week: a figure per team (linked to the team's log), and one
    for the people in no team; a chosen team: a figure per member."""
    import re

    from crm.services.activity import work_log

    org = english
    loner = make_user("loner")  # a manager in no team
    for owner, count in (("m1", 2), ("m2", 1), ("m3", 1)):
        for _ in range(count):
            make_visit(make_customer(org[owner]), occurred_at=ago(minutes=5))
    make_visit(make_customer(loner), occurred_at=ago(minutes=5))

    login(client, org["admin"])
    page = client.get("/visits/").get_data(as_text=True)
    line = re.search(r'<p class="small text-muted" id="team-totals">(.*?)</p>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", "", line.group(1)).split())
    assert text == "Team One: 3 · Team Two: 1 · No team: 1"
    assert f"team={org['team1'].id}" in line.group(1) and 'id="member-totals"' not in page

    chosen = client.get(f"/visits/?team={org['team1'].id}").get_data(as_text=True)
    members = re.search(r'id="member-totals">(.*?)</p>', chosen, re.S).group(1)
    assert " ".join(members.split()) == "M1: 2 · M2: 1" and 'id="team-totals"' not in chosen

    # The same visits either way: the per-team figures are the members' summed.
    monday = work_log.week_monday(None, SHANGHAI)
    scope = {"monday": monday, "zone": SHANGHAI}
    by_user = work_log.work_log_totals(org["admin"], **scope).by_user
    by_team = work_log.work_log_totals(org["admin"], **scope, per_team=True).by_team
    teams = {org[key].id: org[key].team_id for key in ("m1", "m2", "m3")} | {loner.id: None}
    summed = {}
    for user_id, visits in by_user.items():
        summed[teams[user_id]] = summed.get(teams[user_id], 0) + visits
    assert dict(by_team) == summed


def test_visits_of_out_of_scope_customers_are_invisible(
    client, login, english, make_customer, make_visit
):
    org = english
    # m1 visited a customer that now belongs to the other team.
    handed_over = make_customer(org["m3"])
    gone = make_visit(handed_over, user=org["m1"], occurred_at=ago(minutes=5))

    for persona in ("m1", "sup1"):
        login(client, org[persona])
        assert gone.id not in visit_ids(client.get("/visits/").get_data(as_text=True))
        assert client.get(f"/visits/{gone.id}").status_code == 404
        assert client.get(f"/visits/{gone.id}/edit").status_code == 404
        assert client.post(f"/visits/{gone.id}/delete").status_code == 404
    assert db.session.get(Visit, gone.id) is not None


def test_the_week_is_the_users_local_week(client, login, english, make_customer, make_visit):
    org = english
    org["m1"].timezone = "America/New_York"
    db.session.commit()
    customer = make_customer(org["m1"])
    # Sunday 23:30 in New York is already Monday in UTC (and in Shanghai).
    sunday_night = datetime(2026, 11, 15, 23, 30, tzinfo=NEW_YORK)
    visit = make_visit(customer, occurred_at=sunday_night)
    login(client, org["m1"])

    week_46 = client.get("/visits/?week=2026-W46").get_data(as_text=True)
    week_47 = client.get("/visits/?week=2026-W47").get_data(as_text=True)

    assert visit_ids(week_46) == {visit.id} and visit_ids(week_47) == set()
    assert 'data-day="2026-11-15">1<' in week_46
    assert 'id="week-total">1<' in week_46


@pytest.mark.parametrize("days", [1, 7, 31])
def test_work_log_totals_count_local_days_across_a_clock_change(
    english, make_customer, make_visit, days
):
    """The database counts per local day and per person what reading each visit's local
    date counts: New York's clocks go back on Sunday 1 November 2026, so that day's
    midnights are 25 hours apart."""
    from crm.services.activity import work_log

    org = english
    first = date(2026, 11, 1) if days == 1 else date(2026, 10, 26)
    sup1 = org["sup1"]
    moments = [
        datetime(2026, 10, 26, 0, 1, tzinfo=NEW_YORK),
        datetime(2026, 10, 31, 23, 59, tzinfo=NEW_YORK),
        datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),  # before the change (UTC-4)
        datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK),  # after it (UTC-5)
        datetime(2026, 11, 2, 0, 0, tzinfo=NEW_YORK),
        datetime(2026, 11, 20, 12, 0, tzinfo=NEW_YORK),
        datetime(2026, 11, 25, 23, 59, tzinfo=NEW_YORK),
    ]
    customers = {who: make_customer(org[who]) for who in ("m1", "m2", "m3")}
    for number, moment in enumerate(moments):
        who = ("m1", "m2", "m3")[number % 3]  # m3: another team's, not in sup1's log
        make_visit(customers[who], user=org[who], occurred_at=moment.astimezone(UTC))
    totals = work_log.work_log_totals(sup1, monday=first, zone=NEW_YORK, days=days)
    last = first + timedelta(days=days)
    shown = [
        (number, moment.date())
        for number, moment in enumerate(moments)
        if number % 3 != 2 and first <= moment.date() < last
    ]
    assert totals.days == [first + timedelta(days=i) for i in range(days)]
    assert dict(totals.by_day) == {day: sum(1 for _n, d in shown if d == day) for _n, day in shown}
    users = [org["m1"].id if number % 3 == 0 else org["m2"].id for number, _d in shown]
    assert dict(totals.by_user) == {user: users.count(user) for user in users}
    assert totals.total == len(shown) > 0


def test_the_work_logs_pages_give_every_visit_of_the_week_once(
    app, client, login, english, make_customer, make_visit
):
    """The pager numbers its pages from the week's totals (not a count of its own)."""

    org = english
    app.config["PAGE_SIZE"] = 3
    made = {
        make_visit(make_customer(org[who]), user=org[who], occurred_at=ago(minutes=number)).id
        for number, who in enumerate(["m1", "m2"] * 4)
    }
    login(client, org["sup1"])
    pages = walk_pages(client, "/visits/")
    assert len(pages) == 3 and all("8 in all" in page for page in pages)
    assert sorted(visit for page in pages for visit in visit_ids(page)) == sorted(made)


def test_work_log_statement_count_does_not_grow(
    client, login, english, make_customer, make_contact, make_opportunity, count_queries
):
    org = english
    login(client, org["sup1"])
    customers = [make_customer(org[owner]) for owner in ("m1", "m2")]
    contacts = [make_contact(c) for c in customers]
    opportunities = [make_opportunity(c) for c in customers]
    counts = []
    for added in (5, 45):
        for i in range(added):
            n = i % 2
            db.session.add(
                Visit(
                    customer=customers[n],
                    user=customers[n].owner,
                    # Within this week whatever the day: the work log shows the current week.
                    occurred_at=ago(seconds=i + 1),
                    opportunity=opportunities[n],
                    contacts=[make_contact(customers[n]), contacts[n]],
                )
            )
        db.session.commit()
        db.session.expire_all()
        with count_queries() as statements:
            response = client.get("/visits/")
        assert response.status_code == 200
        counts.append(len(statements))
    assert len(visit_ids(response.get_data(as_text=True))) == 50
    assert counts[0] == counts[1], counts


# Home page -------------------------------------------------------------------


def test_home_page_lists_my_pending_follow_ups(client, login, english, customer, make_reminder):
    org = english
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    make_reminder(customer, due_on=today - timedelta(days=2), note="overdue one")
    make_reminder(customer, due_on=today, note="today one")
    make_reminder(customer, due_on=today + timedelta(days=3), note="upcoming one")
    make_reminder(customer, due_on=today, note="done one", status=ReminderStatus.DONE)
    make_reminder(customer, owner=org["m2"], due_on=today, note="someone else's")

    buckets = pending_reminders_for(org["m1"])
    assert [r.note for r in buckets.overdue] == ["overdue one"]
    assert [r.note for r in buckets.due_today] == ["today one"]
    assert [r.note for r in buckets.upcoming] == ["upcoming one"]

    login(client, org["m1"])
    page = client.get("/").get_data(as_text=True)
    assert "overdue one" in page and "today one" in page and "upcoming one" in page
    assert "done one" not in page and "someone else" not in page


def test_bulk_refresh_of_derived_dates(org, customer, make_contact, make_visit):
    """Demo data and imports insert visits directly, then recompute the dates in one go."""
    contact = make_contact(customer)
    make_visit(customer, occurred_at=ago(days=9), contacts=[contact])
    latest = make_visit(customer, occurred_at=ago(days=4), contacts=[contact])
    assert customer.last_visit_at is None

    visit_service.refresh_last_visits()
    visit_service.refresh_last_contacted()
    db.session.commit()
    db.session.expire_all()

    assert customer.last_visit_at == latest.occurred_at
    assert contact.last_contacted_at == latest.occurred_at
