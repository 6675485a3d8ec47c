"""My follow-ups: creating, snoozing, rescheduling, closing reminders through the pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import today_in
from crm.scheduler import tick
from crm.services.followups import notifications, outbox
from models import (
    AuditEntry,
    MessageStatus,
    OutboxMessage,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Visit,
)
from tests.smtp import SMTPServer

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    org["m1"].timezone = "America/New_York"
    db.session.commit()
    return org


@pytest.fixture
def customer(english, make_customer):
    return make_customer(english["m1"], name="江城智慧交通集团")


def ny_today() -> date:
    return today_in(NEW_YORK)


def timed_reminder(make_reminder, customer, day: date, at: time = time(15, 0), **fields):
    """A pending reminder at `at` New York time on `day` (m1 lives in New York here)."""
    due_at = datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(UTC)
    return make_reminder(customer, due_at=due_at, due_on=day, has_time=True, **fields)


def reload(reminder: Reminder) -> Reminder:
    db.session.expire_all()
    return db.session.get(Reminder, reminder.id)


def section_ids(html: str, key: str) -> list[int]:
    match = re.search(rf'<ul class="list-group" id="follow-ups-{key}">(.*?)</ul>', html, re.S)
    assert match, key
    return [
        int(i) for i in re.findall(r'<li class="list-group-item" id="reminder-(\d+)"', match[1])
    ]


# Creating ---------------------------------------------------------------------


def test_new_reminder_with_a_time_is_due_at_that_time_in_the_owners_zone(
    client, login, english, customer
):
    login(client, english["m1"])
    response = client.post(
        f"/reminders/new?customer_id={customer.id}",
        data={"due_on": "2036-01-15", "due_time": "09:30", "note": "bring the quote"},
    )
    assert response.status_code == 302
    reminder = db.session.scalar(select(Reminder))
    assert response.location.endswith(f"/reminders/{reminder.id}")
    assert reminder.owner_id == english["m1"].id
    assert reminder.source is ReminderSource.MANUAL
    assert reminder.has_time and reminder.due_on == date(2036, 1, 15)
    assert reminder.due_at == datetime(2036, 1, 15, 14, 30, tzinfo=UTC)  # 09:30 EST
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "reminders"))
    assert entry.customer_id == customer.id and entry.actor_id == english["m1"].id

    page = client.get(f"/reminders/{reminder.id}").get_data(as_text=True)
    assert "2036-01-15 09:30" in page and "bring the quote" in page


def test_new_reminder_without_a_time_is_due_at_half_past_eight_local(
    client, login, english, customer
):
    login(client, english["m1"])
    client.post(f"/reminders/new?customer_id={customer.id}", data={"due_on": "2036-07-01"})
    reminder = db.session.scalar(select(Reminder))
    assert not reminder.has_time
    assert reminder.due_at == datetime(2036, 7, 1, 12, 30, tzinfo=UTC)  # 08:30 EDT


def test_supervisor_sets_a_follow_up_for_the_customers_owner_in_the_owners_zone(
    client, login, english, customer
):
    login(client, english["sup1"])  # lives in Shanghai
    response = client.post(
        f"/reminders/new?customer_id={customer.id}",
        data={"due_on": "2036-01-15", "due_time": "09:30"},
    )
    assert response.status_code == 302
    reminder = db.session.scalar(select(Reminder))
    assert reminder.owner_id == english["m1"].id
    assert reminder.due_at == datetime(2036, 1, 15, 14, 30, tzinfo=UTC)


def test_new_reminder_refuses_a_past_day_and_saves_nothing(client, login, english, customer):
    login(client, english["m1"])
    yesterday = ny_today() - timedelta(days=1)
    response = client.post(
        f"/reminders/new?customer_id={customer.id}", data={"due_on": yesterday.isoformat()}
    )
    assert response.status_code == 400
    assert "cannot be set in the past" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_new_reminder_for_a_customer_out_of_scope_is_404(client, login, english, make_customer):
    other = make_customer(english["m3"])
    login(client, english["m1"])
    assert client.get(f"/reminders/new?customer_id={other.id}").status_code == 404
    response = client.post(f"/reminders/new?customer_id={other.id}", data={"due_on": "2036-01-01"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_new_reminder_offers_only_this_customers_open_opportunities(
    client, login, english, customer, make_customer, make_opportunity
):
    mine = make_opportunity(customer, title="智慧园区专网")
    foreign = make_opportunity(make_customer(english["m1"]), title="别家的商机")
    login(client, english["m1"])
    page = client.get(f"/reminders/new?customer_id={customer.id}").get_data(as_text=True)
    assert "智慧园区专网" in page and "别家的商机" not in page
    response = client.post(
        f"/reminders/new?customer_id={customer.id}",
        data={"due_on": "2036-01-15", "opportunity_id": foreign.id},
    )
    assert response.status_code == 400
    client.post(
        f"/reminders/new?customer_id={customer.id}",
        data={"due_on": "2036-01-15", "opportunity_id": mine.id},
    )
    assert db.session.scalar(select(Reminder)).opportunity_id == mine.id


# The list -----------------------------------------------------------------------


def test_my_follow_ups_are_split_by_the_owners_day(
    client, login, english, customer, make_customer, make_reminder
):
    today = ny_today()
    overdue = timed_reminder(make_reminder, customer, today - timedelta(days=2))
    due_today = make_reminder(
        customer, due_on=today, due_at=datetime.combine(today, time(8, 30), tzinfo=NEW_YORK)
    )
    next_week = timed_reminder(make_reminder, customer, today + timedelta(days=7))
    later = timed_reminder(make_reminder, customer, today + timedelta(days=8))
    done = timed_reminder(make_reminder, customer, today, status=ReminderStatus.DONE)
    teammates = timed_reminder(make_reminder, make_customer(english["m2"]), today)

    login(client, english["m1"])
    html = client.get("/reminders/").get_data(as_text=True)

    assert section_ids(html, "overdue") == [overdue.id]
    assert section_ids(html, "today") == [due_today.id]
    assert section_ids(html, "upcoming") == [next_week.id]
    assert section_ids(html, "later") == [later.id]
    for absent in (done, teammates):
        assert f'id="reminder-{absent.id}"' not in html
    assert "江城智慧交通集团" in html
    assert f"{(today - timedelta(days=2)).isoformat()} 15:00" in html  # New York time


def _later_pages(client, url: str) -> list[list[int]]:
    """The ids of the "Later" section on each page, following its Next links to the end."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(section_ids(html, "later"))
        more = re.search(r'href="([^"]+)" id="later-next"', html)
        url = more and more[1].replace("&amp;", "&")
    return pages


def test_every_later_follow_up_is_reachable_page_by_page(
    client, login, english, customer, make_customer, make_reminder
):
    today = ny_today()
    soon = [
        timed_reminder(make_reminder, customer, today + timedelta(days=10 + i)) for i in range(19)
    ]
    in_40_days = timed_reminder(make_reminder, customer, today + timedelta(days=40))
    in_400_days = timed_reminder(make_reminder, customer, today + timedelta(days=400))
    teammates = timed_reminder(
        make_reminder, make_customer(english["m2"]), today + timedelta(days=50)
    )

    login(client, english["m1"])
    pages = _later_pages(client, "/reminders/")

    expected = [r.id for r in soon] + [in_40_days.id, in_400_days.id]
    assert pages == [expected[:20], expected[20:]]
    assert "Later <span" in client.get("/reminders/").get_data(as_text=True)
    assert teammates.id not in sum(pages, [])
    # Out of range page numbers show the nearest page, never an error.
    assert (
        section_ids(client.get("/reminders/?later=0").get_data(as_text=True), "later")
        == (expected[:20])
    )
    far = client.get(f"/reminders/?later={10**30}&page={10**30}")
    assert far.status_code == 200
    assert section_ids(far.get_data(as_text=True), "later") == expected[20:]

    # Another manager reaches none of them, on their own list or by asking for m1's.
    login(client, english["m2"])
    assert _later_pages(client, "/reminders/") == [[teammates.id]]
    assert client.get(f"/reminders/?owner={english['m1'].id}&later=2").status_code == 404
    # m1's supervisor pages through them too.
    login(client, english["sup1"])
    assert _later_pages(client, f"/reminders/?owner={english['m1'].id}") == [
        expected[:20],
        expected[20:],
    ]


def test_more_near_follow_ups_than_a_page_go_on_to_the_next_page(
    client, login, english, customer, make_reminder, monkeypatch
):
    from blueprints.reminders import routes

    monkeypatch.setattr(routes, "LIST_LIMIT", 2)
    today = ny_today()
    near = [timed_reminder(make_reminder, customer, today + timedelta(days=i)) for i in range(3)]
    login(client, english["m1"])
    first = client.get("/reminders/").get_data(as_text=True)
    shown = [section_ids(first, key) for key in ("overdue", "today", "upcoming")]
    assert sum(shown, []) == [near[0].id, near[1].id]
    url = re.search(r'href="([^"]+)" id="page-next"', first)[1].replace("&amp;", "&")
    second = client.get(url).get_data(as_text=True)
    assert section_ids(second, "upcoming") == [near[2].id]
    assert 'id="page-first"' in second and 'id="page-next"' not in second


def test_supervisor_switches_to_a_team_members_follow_ups(
    client, login, english, customer, make_customer, make_reminder
):
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["sup1"])
    own = client.get("/reminders/").get_data(as_text=True)
    assert f'id="reminder-{reminder.id}"' not in own
    assert f'<option value="{english["m1"].id}"' in own  # the switch offers the team
    html = client.get(f"/reminders/?owner={english['m1'].id}").get_data(as_text=True)
    assert f'id="reminder-{reminder.id}"' in html
    assert "Follow-ups of M1" in html
    # Shown in the owner's zone, and says so to a viewer in another zone.
    assert "(America/New_York)" in html

    assert client.get(f"/reminders/?owner={english['m3'].id}").status_code == 404


def test_a_manager_cannot_open_a_colleagues_list_or_reminder(
    client, login, english, make_customer, make_reminder
):
    colleague = make_reminder(make_customer(english["m2"]))
    login(client, english["m1"])
    assert client.get(f"/reminders/?owner={english['m2'].id}").status_code == 404
    assert client.get(f"/reminders/{colleague.id}").status_code == 404
    response = client.post(f"/reminders/{colleague.id}/done", data={"version": 1})
    assert response.status_code == 404
    assert reload(colleague).status is ReminderStatus.PENDING


def test_list_statement_count_does_not_grow(
    client, login, english, customer, make_opportunity, make_visit, count_queries
):
    login(client, english["sup1"])
    opportunity = make_opportunity(customer)
    visit = make_visit(customer)
    today = ny_today()
    counts = []
    for added in (5, 45):
        for i in range(added):
            day = today + timedelta(days=i % 9 - 2)
            db.session.add(
                Reminder(
                    owner=english["m1"],
                    customer=customer,
                    opportunity=opportunity if i % 3 == 0 else None,
                    visit_id=visit.id if i % 3 == 1 else None,
                    source=ReminderSource.VISIT if i % 3 == 1 else ReminderSource.MANUAL,
                    due_on=day,
                    due_at=datetime.combine(day, time(10, 0), tzinfo=NEW_YORK),
                    has_time=i % 2 == 0,
                    note=f"note {i}",
                )
            )
            later = today + timedelta(days=30 + i)
            db.session.add(
                Reminder(
                    owner=english["m1"],
                    customer=customer,
                    opportunity=opportunity if i % 2 == 0 else None,
                    source=ReminderSource.MANUAL,
                    due_on=later,
                    due_at=datetime.combine(later, time(10, 0), tzinfo=NEW_YORK),
                    has_time=i % 2 == 1,
                    note=f"later {i}",
                )
            )
        db.session.commit()
        with count_queries() as statements:
            response = client.get(f"/reminders/?owner={english['m1'].id}")
        assert response.status_code == 200
        counts.append(len(statements))
    html = response.get_data(as_text=True)
    shown = sum(len(section_ids(html, key)) for key in ("overdue", "today", "upcoming"))
    assert shown == 50
    assert len(section_ids(html, "later")) == 20  # one page of the 50 later ones
    assert counts[0] == counts[1], counts


# Actions ------------------------------------------------------------------------


def test_snooze_one_day_moves_it_from_today_and_keeps_the_time(
    client, login, english, customer, make_reminder
):
    reminder = timed_reminder(make_reminder, customer, ny_today() - timedelta(days=3))
    login(client, english["m1"])
    response = client.post(
        f"/reminders/{reminder.id}/snooze",
        data={"version": reminder.version, "days": "1", "next": "/reminders/"},
    )
    assert response.status_code == 302 and response.location.endswith("/reminders/")
    reminder = reload(reminder)
    tomorrow = ny_today() + timedelta(days=1)
    assert reminder.due_on == tomorrow
    assert reminder.due_at == datetime.combine(tomorrow, time(15, 0), tzinfo=NEW_YORK)
    assert reminder.status is ReminderStatus.PENDING


def test_snooze_a_week_and_until_a_day(client, login, english, customer, make_reminder):
    date_only = make_reminder(customer, due_on=ny_today(), due_at=datetime.now(UTC))
    not_yet_due = timed_reminder(make_reminder, customer, ny_today() + timedelta(days=5))
    login(client, english["m1"])

    client.post(f"/reminders/{date_only.id}/snooze", data={"version": 1, "days": "7"})
    week = ny_today() + timedelta(days=7)
    date_only = reload(date_only)
    assert date_only.due_on == week and not date_only.has_time
    assert date_only.due_at == datetime.combine(week, time(8, 30), tzinfo=NEW_YORK)

    # Not due yet: put off from its own day, never brought closer.
    client.post(f"/reminders/{not_yet_due.id}/snooze", data={"version": 1, "days": "3"})
    assert reload(not_yet_due).due_on == ny_today() + timedelta(days=8)

    until = ny_today() + timedelta(days=20)
    client.post(
        f"/reminders/{not_yet_due.id}/snooze", data={"version": 2, "until": until.isoformat()}
    )
    assert reload(not_yet_due).due_on == until


def test_snooze_refuses_odd_days_and_past_dates(client, login, english, customer, make_reminder):
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["m1"])
    assert (
        client.post(f"/reminders/{reminder.id}/snooze", data={"version": 1, "days": "2"})
    ).status_code == 400
    response = client.post(
        f"/reminders/{reminder.id}/snooze",
        data={"version": 1, "until": ny_today().isoformat()},
    )
    assert response.status_code == 400
    assert "Snooze until a day after today" in response.get_data(as_text=True)
    assert reload(reminder).due_on == ny_today()


def test_reschedule_to_a_day_and_time_in_the_owners_zone(
    client, login, english, customer, make_reminder
):
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["sup1"])  # a supervisor in Shanghai moves the New York manager's
    response = client.post(
        f"/reminders/{reminder.id}/reschedule",
        data={"version": reminder.version, "due_on": "2036-01-15", "due_time": "07:45"},
    )
    assert response.status_code == 302
    reminder = reload(reminder)
    assert reminder.due_at == datetime(2036, 1, 15, 12, 45, tzinfo=UTC)
    assert reminder.has_time

    # Without a time it falls due at 08:30 local.
    client.post(
        f"/reminders/{reminder.id}/reschedule",
        data={"version": reminder.version, "due_on": "2036-01-16"},
    )
    reminder = reload(reminder)
    assert not reminder.has_time
    assert reminder.due_at == datetime(2036, 1, 16, 13, 30, tzinfo=UTC)
    changes = db.session.scalars(
        select(AuditEntry.changes).where(AuditEntry.entity_type == "reminders")
    ).all()
    assert len(changes) == 2 and "due_at" in changes[0]


def test_a_stale_reschedule_is_refused_and_shows_the_stored_values(
    client, login, english, customer, make_reminder
):
    reminder = timed_reminder(make_reminder, customer, ny_today(), note="stored note")
    login(client, english["m1"])
    client.post(f"/reminders/{reminder.id}/snooze", data={"version": 1, "days": "1"})
    response = client.post(
        f"/reminders/{reminder.id}/reschedule",
        data={"version": 1, "due_on": "2036-01-15", "due_time": "09:00"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this record" in html
    assert (ny_today() + timedelta(days=1)).isoformat() in html  # what is stored now
    assert 'value="2036-01-15"' in html  # the user's input is kept
    assert reload(reminder).due_on == ny_today() + timedelta(days=1)


def test_done_and_dismiss(client, login, english, customer, make_reminder):
    done = timed_reminder(make_reminder, customer, ny_today())
    dismissed = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["m1"])
    response = client.post(f"/reminders/{done.id}/done", data={"version": 1, "next": "/reminders/"})
    assert response.status_code == 302 and response.location.endswith("/reminders/")
    client.post(f"/reminders/{dismissed.id}/dismiss", data={"version": 1, "confirmed": "1"})
    assert reload(done).status is ReminderStatus.DONE
    assert reload(done).completed_at is not None
    assert reload(dismissed).status is ReminderStatus.DISMISSED

    # A second tap (or a stale tab) changes nothing and says why.
    again = client.post(f"/reminders/{done.id}/done", data={"version": 2})
    assert again.status_code == 400
    assert "closed already" in again.get_data(as_text=True)
    assert client.post(f"/reminders/{done.id}/snooze", data={"days": "1"}).status_code == 400
    html = client.get("/reminders/").get_data(as_text=True)
    assert f'id="reminder-{done.id}"' not in html


def test_an_open_redirect_is_not_followed(client, login, english, customer, make_reminder):
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["m1"])
    response = client.post(
        f"/reminders/{reminder.id}/done", data={"version": 1, "next": "https://evil.example/"}
    )
    assert response.location.endswith(f"/reminders/{reminder.id}")


def test_done_and_log_the_visit_in_one_form(
    client, login, english, customer, make_reminder, make_opportunity
):
    opportunity = make_opportunity(customer)
    reminder = timed_reminder(
        make_reminder, customer, ny_today(), note="discuss the SLA", opportunity=opportunity
    )
    login(client, english["m1"])
    next_day = ny_today() + timedelta(days=10)
    response = client.post(
        f"/reminders/{reminder.id}/done",
        data={
            "version": 1,
            "log_visit": "y",
            "kind": "phone",
            "outcome": "agreed on 99.9%",
            "follow_up_on": next_day.isoformat(),
        },
    )
    assert response.status_code == 302
    assert reload(reminder).status is ReminderStatus.DONE
    visit = db.session.scalar(select(Visit))
    assert visit.customer_id == customer.id and visit.user_id == english["m1"].id
    assert visit.kind.value == "phone" and visit.outcome == "agreed on 99.9%"
    assert visit.purpose == "discuss the SLA" and visit.opportunity_id == opportunity.id
    follow_up = db.session.scalar(select(Reminder).where(Reminder.visit_id == visit.id))
    assert follow_up.due_on == next_day and follow_up.status is ReminderStatus.PENDING


def test_done_and_log_the_visit_is_all_or_nothing(client, login, english, customer, make_reminder):
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["m1"])
    response = client.post(
        f"/reminders/{reminder.id}/done",
        data={
            "version": 1,
            "log_visit": "y",
            "kind": "on_site",
            "follow_up_on": (ny_today() - timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "cannot be before the visit" in response.get_data(as_text=True)
    assert reload(reminder).status is ReminderStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_the_list_page_forms_post_to_the_actions(client, login, english, customer, make_reminder):
    """The in-place forms carry what the actions need: no JavaScript involved."""
    reminder = timed_reminder(make_reminder, customer, ny_today())
    login(client, english["m1"])
    html = client.get("/reminders/").get_data(as_text=True)
    for action in ("done", "snooze", "reschedule", "dismiss"):
        assert f'action="/reminders/{reminder.id}/{action}"' in html
    assert 'name="days" value="1"' in html and 'name="days" value="7"' in html
    assert 'name="log_visit" value="y"' in html
    assert f'name="version" value="{reminder.version}"' in html


# Emails -------------------------------------------------------------------------


class TestEmailsFollowThePages:
    @pytest.fixture
    def smtp(self):
        with SMTPServer() as server:
            yield server

    @pytest.fixture
    def app_overrides(self, smtp):
        return {**smtp.config(), "BASE_URL": "https://crm.example.cn"}

    @staticmethod
    def run_tick(now=None):
        db.session.commit()
        tick(now)
        db.session.expire_all()

    def soon(self, make_reminder, customer, minutes=30):
        at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)
        return make_reminder(customer, due_at=at, due_on=at.date(), has_time=True)

    def test_done_or_dismissed_before_its_time_sends_nothing(
        self, smtp, client, login, english, customer, make_reminder
    ):
        done, dismissed = (self.soon(make_reminder, customer) for _ in range(2))
        login(client, english["m1"])
        client.post(f"/reminders/{done.id}/done", data={"version": 1})
        client.post(f"/reminders/{dismissed.id}/dismiss", data={"version": 1, "confirmed": "1"})
        self.run_tick(done.due_at + timedelta(minutes=1))
        assert smtp.of_kind("reminder:") == []

    def test_done_after_it_was_queued_cancels_the_email(
        self, smtp, client, login, english, customer, make_reminder
    ):
        reminder = self.soon(make_reminder, customer, minutes=-1)
        notifications.enqueue_due_reminders()  # written, not yet sent
        db.session.commit()
        login(client, english["m1"])
        client.post(f"/reminders/{reminder.id}/done", data={"version": 1})
        self.run_tick()
        assert smtp.of_kind("reminder:") == []
        assert db.session.scalar(select(OutboxMessage.status)) is MessageStatus.CANCELLED
        page = client.get(f"/reminders/{reminder.id}").get_data(as_text=True)
        assert 'data-status="cancelled"' in page

    def test_rescheduled_after_sending_is_sent_again_at_the_new_time(
        self, smtp, client, login, english, customer, make_reminder
    ):
        reminder = self.soon(make_reminder, customer, minutes=-1)
        self.run_tick()
        assert len(smtp.of_kind("reminder:")) == 1
        login(client, english["m1"])
        assert 'data-status="sent"' in client.get(f"/reminders/{reminder.id}").get_data(
            as_text=True
        )

        new_day = ny_today() + timedelta(days=2)
        client.post(
            f"/reminders/{reminder.id}/reschedule",
            data={"version": reminder.version, "due_on": new_day.isoformat(), "due_time": "10:15"},
        )
        new_at = datetime.combine(new_day, time(10, 15), tzinfo=NEW_YORK).astimezone(UTC)
        self.run_tick()  # not due yet
        self.run_tick(new_at - timedelta(minutes=1))
        assert len(smtp.of_kind("reminder:")) == 1
        self.run_tick(new_at + timedelta(seconds=30))
        mails = smtp.of_kind("reminder:")
        assert len(mails) == 2
        assert mails[1]["X-CRM-Key"] == outbox.reminder_key(reminder.id, new_at, english["m1"].id)
        assert f"{new_day.isoformat()} 10:15" in mails[1].get_body(("plain",)).get_content()

    def test_snoozed_after_sending_is_sent_again(
        self, smtp, client, login, english, customer, make_reminder
    ):
        reminder = self.soon(make_reminder, customer, minutes=-1)
        self.run_tick()
        login(client, english["m1"])
        client.post(f"/reminders/{reminder.id}/snooze", data={"version": 1, "days": "1"})
        reminder = reload(reminder)
        self.run_tick(reminder.due_at + timedelta(seconds=30))
        assert len(smtp.of_kind("reminder:")) == 2

    def test_switched_off_kinds_are_not_sent(
        self, smtp, client, login, english, customer, make_customer, make_reminder
    ):
        m1, m2 = english["m1"], english["m2"]  # m2 keeps the defaults: the control
        login(client, m1)
        response = client.post("/account/email", data={"email-reminder_lead_minutes": "0"})
        assert response.status_code == 302
        db.session.refresh(m1)
        assert not m1.email_reminders and not m1.email_daily_digest
        self.soon(make_reminder, customer, minutes=-1)
        self.soon(make_reminder, make_customer(m2), minutes=-1)

        self.run_tick()  # the reminders are due
        # 09:00 in New York tomorrow: daily digests are due for both (the reminders overdue).
        tomorrow = datetime.combine(ny_today() + timedelta(days=1), time(9), tzinfo=NEW_YORK)
        self.run_tick(tomorrow.astimezone(UTC))

        received = sorted((m["To"], m["X-CRM-Key"].split(":")[0]) for m in smtp.messages)
        assert (m2.email, "reminder") in received and (m2.email, "daily") in received
        assert [kind for to, kind in received if to == m1.email] == []

    def test_the_lead_time_set_on_the_account_page_sends_early(
        self, smtp, client, login, english, customer, make_reminder
    ):
        login(client, english["m1"])
        client.post(
            "/account/email",
            data={"email-email_reminders": "y", "email-reminder_lead_minutes": "60"},
        )
        self.soon(make_reminder, customer, minutes=45)
        self.run_tick()
        assert len(smtp.of_kind("reminder:")) == 1
