"""Scope conditions that the route matrix cannot reach alone: records whose owner differs
from their customer's owner, lists, pickers, home figures, services called directly.

Each test here guards at least one condition that scripts/scope_mutations removes.
"""

# ruff: noqa: F811  (the two_teams fixture is imported, then requested by name)
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.extensions import db
from crm.permissions import visible_customers
from crm.services.errors import DomainError, NotAllowed, NotFound
from tests.test_access_query import Side, two_teams  # noqa: F401  (fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def crossed(org, two_teams, make_reminder, make_visit):
    """Rows whose owner is not their customer's owner, both within a team and across."""
    own, other = two_teams["own"], two_teams["other"]
    return {
        # m2's follow-up on m1's customer (same team): m1 does not see it, sup1 does.
        "teammates_follow_up": make_reminder(own.customer, owner=org["m2"], note="队友的跟进"),
        # m1's follow-up on m3's customer (left behind, say): m1 must not see it.
        "follow_up_elsewhere": make_reminder(other.customer, owner=org["m1"], note="外队的跟进"),
        # m3's follow-up on m1's customer: sup1 sees the customer, not m3's follow-up.
        "outsiders_follow_up": make_reminder(own.customer, owner=org["m3"], note="外人的跟进"),
        # m2 visited m1's customer; m1 visited m3's customer.
        "teammates_visit": make_visit(own.customer, user=org["m2"], purpose="队友的拜访"),
        "visit_elsewhere": make_visit(other.customer, user=org["m1"], purpose="外队的拜访"),
    }


def _page(client, login, user, url: str) -> str:
    login(client, user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# Follow-ups: the customer's scope and the follow-up owner's scope --------------------------


def test_a_follow_up_shows_only_when_customer_and_owner_are_in_scope(client, login, org, crossed):
    teammates = f"/reminders/{crossed['teammates_follow_up'].id}"
    elsewhere = f"/reminders/{crossed['follow_up_elsewhere'].id}"
    outsiders = f"/reminders/{crossed['outsiders_follow_up'].id}"
    login(client, org["m1"])
    assert client.get(teammates).status_code == 404  # not m1's follow-up
    assert client.get(elsewhere).status_code == 404  # not m1's customer
    login(client, org["sup1"])
    assert client.get(teammates).status_code == 200
    assert client.get(outsiders).status_code == 404  # m3 is outside sup1's team
    login(client, org["m2"])
    assert client.get(teammates).status_code == 404  # m2's, but on m1's customer


def test_follow_up_lists_leave_out_the_crossed_ones(client, login, org, crossed):
    from crm.services.followups.reminders import pending_reminders_for

    def notes(user, viewer=None):
        pending = pending_reminders_for(user, viewer=viewer, days_ahead=30)
        return {r.note for r in pending.overdue + pending.due_today + pending.upcoming}

    assert "外队的跟进" not in notes(org["m1"])  # m1's own, on a customer no longer theirs
    assert "队友的跟进" not in notes(org["m2"])
    assert notes(org["m3"], viewer=org["sup1"]) == set()  # m3's list seen by sup1: none
    assert "队友的跟进" not in _page(client, login, org["m1"], "/reminders/")
    assert "外队的跟进" not in _page(client, login, org["m1"], "/")


def test_the_customer_hub_shows_only_follow_ups_in_scope(client, login, org, two_teams, crossed):
    """The hub's list (the timeline is the customer's history, with every follow-up)."""
    teammates = f'id="customer-follow-up-{crossed["teammates_follow_up"].id}"'
    outsiders = f'id="customer-follow-up-{crossed["outsiders_follow_up"].id}"'
    page = _page(client, login, org["m1"], f"/customers/{two_teams['own'].customer.id}")
    assert teammates not in page and outsiders not in page
    page = _page(client, login, org["sup1"], f"/customers/{two_teams['own'].customer.id}")
    assert teammates in page and outsiders not in page


def test_the_calendar_feed_leaves_out_follow_ups_on_others_customers(org, crossed):
    from crm.services.followups.calendar import feed_reminders

    notes = {r.note for r in feed_reminders(org["m1"])}
    assert "外队的跟进" not in notes


def test_a_deactivated_user_sees_no_customer(org, two_teams):
    org["m1"].active = False
    db.session.commit()
    assert db.session.scalars(visible_customers(org["m1"])).all() == []


# The work log: whose visits, on whose customers -------------------------------------------


def test_the_work_log_shows_ones_own_visits_on_customers_in_scope(org, two_teams, crossed):
    from crm.services.activity import work_log

    monday = work_log.week_monday(None, SHANGHAI)
    scope = {"monday": monday, "zone": SHANGHAI, "member_id": None, "team_id": None}

    def purposes(viewer):
        return {v.purpose for v in db.session.scalars(work_log.work_log_visits(viewer, **scope))}

    def total(viewer):
        return work_log.work_log_totals(viewer, **scope)

    assert "队友的拜访" not in purposes(org["m1"])  # m2's visit: not in m1's log
    assert "外队的拜访" not in purposes(org["m1"])  # m3's customer: out of scope
    assert "队友的拜访" in purposes(org["sup1"])
    assert "外队的拜访" not in purposes(org["sup1"])
    assert dict(total(org["m1"]).by_user) == {org["m1"].id: 1}  # their visit to their customer
    assert dict(total(org["sup1"]).by_user) == {org["m1"].id: 1, org["m2"].id: 1}


def test_the_work_log_filter_offers_only_people_in_scope(client, login, org, two_teams):
    page = _page(client, login, org["sup1"], "/visits/")
    assert two_teams["other"].user.display_name not in page and ">Sup2" not in page
    assert two_teams["own"].user.display_name in page


def test_the_team_plans_list_only_people_in_scope(client, login, org, two_teams):
    page = _page(client, login, org["sup1"], "/plans/")
    rows = re.search(r'<table[^>]*id="team-plans".*?</table>', page, re.S).group(0)
    assert two_teams["own"].user.display_name in rows
    assert two_teams["other"].user.display_name not in rows and "Sup2" not in rows


# Lists and pickers -------------------------------------------------------------------------


def test_lists_show_only_the_teams_records(client, login, org, two_teams, make_profile):
    other = two_teams["other"]
    other.customer.region = "外队城市"
    make_profile(other.customer)
    db.session.commit()
    lists = ("/contacts/", "/competitors/", "/customers/", "/opportunities/")
    for url in (*lists, "/contacts/export.csv", "/customers/export.csv"):
        page = _page(client, login, org["sup1"], url)
        for text in (other.customer.name, other.contact.name, "外队城市", other.user.display_name):
            assert text not in page, (url, text)
    page = _page(client, login, org["sup1"], "/opportunities/")
    assert "Team Two" not in page


def test_pickers_find_only_customers_in_scope(client, login, org, two_teams):
    other = two_teams["other"]
    for url in (
        "/reminders/new?q=客户",
        "/visits/new?q=客户",
        "/visits/new",
        "/opportunities/new?q=客户",
        "/handovers/requests?q=客户",
    ):
        page = _page(client, login, org["m1"], url)
        assert other.customer.name not in page, url
        assert two_teams["own"].customer.name in page, url


def test_silent_counts_cover_only_the_scope(org, two_teams):
    from crm.services.activity.cadence import count_silent_by_tier

    long_ago = datetime.now(UTC) - timedelta(days=400)
    for side in two_teams.values():  # never visited, known for a year: silent
        side.customer.created_at, side.customer.last_visit_at = long_ago, None
    db.session.commit()

    def silent(user):
        return sum(count_silent_by_tier(user).values())

    assert silent(org["admin"]) == 2
    assert silent(org["m1"]) == 1 and silent(org["sup2"]) == 1


# Home figures of a supervisor ----------------------------------------------------------------


def test_a_supervisors_dashboard_counts_only_the_team(client, login, org, two_teams):
    other = two_teams["other"]
    other.opportunity.amount = Decimal("7654321")
    other.customer.contract_expiry = (datetime.now(UTC) + timedelta(days=20)).date()
    db.session.commit()
    page = _page(client, login, org["sup1"], "/")
    assert "7,654,321" not in page and "7654321" not in page
    assert other.user.display_name not in page


# Services called directly refuse an actor outside the scope ----------------------------------


def test_services_refuse_a_customer_outside_the_actors_scope(org, two_teams, make_competitor):
    from crm.services.activity import visits
    from crm.services.archive import competitors, contacts, customers
    from crm.services.followups import reminders
    from crm.services.pipeline import opportunities as pipeline

    customer = two_teams["other"].customer
    m1 = org["m1"]
    calls = [
        lambda: contacts.create_contact(customer, actor=m1, name="越权"),
        lambda: competitors.create_profile(customer, actor=m1, competitor=make_competitor()),
        lambda: customers.update_customer(customer, actor=m1, version=None, name="越权"),
        lambda: pipeline.create_opportunity(customer, actor=m1, title="越权"),
        lambda: reminders.create_reminder(
            customer, actor=m1, due_on=datetime.now(UTC).date() + timedelta(days=2)
        ),
        lambda: visits.log_visit(customer, actor=m1, occurred_at=datetime.now(UTC)),
    ]
    for call in calls:
        with pytest.raises((NotFound, NotAllowed)):  # the scope check, not a later rule
            call()
        db.session.rollback()


def test_services_refuse_a_person_outside_the_actors_scope(org, two_teams):
    from crm.services.archive import customers
    from crm.services.pipeline import opportunities as pipeline
    from crm.services.reporting import targets

    own = two_teams["own"].customer
    with pytest.raises(DomainError):  # an opportunity owner from another team
        pipeline.create_opportunity(own, actor=org["sup1"], title="越权", owner=org["m3"])
    db.session.rollback()
    with pytest.raises(DomainError) as refused:  # a parent group from another team
        customers.create_customer(
            actor=org["m1"], name="越权分公司", parent_id=two_teams["other"].customer.id
        )
    assert refused.value.field == "parent_id"
    db.session.rollback()
    with pytest.raises(NotAllowed):  # targets of another team's manager
        targets.set_target(org["m3"], weekly_visits=1, quarterly_won=Decimal(1), actor=org["sup1"])
    db.session.rollback()


def test_a_supervisor_sets_targets_only_for_the_team(client, login, org):
    login(client, org["sup1"])
    page = client.get("/reports/targets").get_data(as_text=True)
    assert ">M1" in page and ">Sup2" not in page
    response = client.post(
        "/reports/targets",
        data={"manager_id": org["sup1"].id, "weekly_visits": 5, "quarterly_won": "1"},
    )
    assert response.status_code == 404  # not their own targets either


def test_a_similar_name_does_not_link_the_other_teams_customer(client, login, org, two_teams):
    """The similar-name warning links only customers in scope and counts the others."""
    from crm.services.archive.identity import normalise_name

    own, other = two_teams["own"], two_teams["other"]
    for side in (own, other):  # what the service stores; the factory does not
        side.customer.name_key = normalise_name(side.customer.name)
    db.session.commit()
    login(client, org["m1"])
    for name, link, shown in (
        (other.customer.name, f'href="/customers/{other.customer.id}"', False),
        (own.customer.name, f'href="/customers/{own.customer.id}"', True),
    ):
        response = client.post(
            "/customers/new",
            data={
                "name": name,
                "tier": "C",
                "status": "prospect",
                "strategy": "",
                "parent_id": 0,
                "industry_id": 0,
            },
        )
        assert response.status_code == 400
        assert (link in response.get_data(as_text=True)) is shown, name


def test_a_group_tree_links_only_customers_in_scope(client, login, org, two_teams):
    """The group's names are shown (the structure is known); only those in scope link."""
    own, other = two_teams["own"], two_teams["other"]
    own.customer.parent_id = other.customer.id
    db.session.commit()
    link = f'href="/customers/{other.customer.id}"'
    assert link not in _page(client, login, org["m1"], f"/customers/{own.customer.id}")
    assert link in _page(client, login, org["admin"], f"/customers/{own.customer.id}")


def test_the_receiver_of_a_handover_sees_it_after_the_customer_moved_on(
    client, login, org, make_customer
):
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over

    customer = make_customer(org["sup1"], name="转手客户有限公司")

    def give(to, token):
        handover = hand_over(
            actor=org["admin"],
            selection=Selection(ids=[customer.id]),
            to_owner=to,
            options=HandoverOptions(),
            note="交接",
            token=token,
            expected_fingerprint=None,
        )
        db.session.commit()
        return handover

    first = give(org["m1"], "first")
    give(org["m3"], "second")
    login(client, org["m1"])  # received it: sees it, though the customer moved on
    response = client.get(f"/handovers/{first.id}")
    assert response.status_code == 200
    # ... but not its history since: that is outside m1's scope now.
    history = f'href="/handovers/customers/{customer.id}"'
    assert history not in response.get_data(as_text=True)
    login(client, org["m3"])  # neither side of the first, but the customer is theirs now
    response = client.get(f"/handovers/{first.id}")
    assert response.status_code == 200
    assert customer.name in response.get_data(as_text=True)
    assert history in response.get_data(as_text=True)


def test_team_choices_of_a_supervisor_are_the_teams_they_lead(org):
    """The opportunity filters offer teams to admins only today; the service holds the rule."""
    from crm.services.pipeline.search import team_choices

    assert team_choices(org["sup1"]) == [org["team1"]]
    assert team_choices(org["m1"]) == []


def test_funnel_and_expiring_contracts_stay_within_the_viewers_scope(org, two_teams, make_profile):
    """The team pages pass the team's owners as well; the viewer's scope is the rule."""
    from crm.services.pipeline import funnel
    from crm.services.reporting import metrics

    today = datetime.now(UTC).date()
    for side in two_teams.values():
        make_profile(side.customer, contract_expiry=today + timedelta(days=10))
    steps = funnel.funnel(org["sup1"], None, metrics.month_of(today, SHANGHAI))
    assert sum(step.open_count for step in steps) == 1  # the team's one opportunity
    contracts = funnel.expiring_contracts(org["sup1"], None, today)
    assert [p.customer_id for p in contracts] == [two_teams["own"].customer.id]


def test_a_supervisor_undoes_only_handovers_within_their_teams(client, login, org, make_customer):
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
    from models import Customer

    def give(customer, to):
        handover = hand_over(
            actor=org["admin"],
            selection=Selection(ids=[customer.id]),
            to_owner=to,
            options=HandoverOptions(),
            note="交接",
            token=f"undo-{customer.id}",
            expected_fingerprint=None,
        )
        db.session.commit()
        return handover

    went_out = make_customer(org["sup1"])  # from sup1's team to m3's
    came_in = make_customer(org["m3"])  # from m3 into sup1's team
    login(client, org["sup1"])
    for customer, to in ((went_out, org["m3"]), (came_in, org["m1"])):
        handover = give(customer, to)
        client.post(f"/handovers/{handover.id}/undo", data={"confirmed": "1"})
        db.session.expire_all()
        assert db.session.get(Customer, customer.id).owner_id == to.id, "undone across teams"
