"""The plan columns of the supervisor's team table: on time, last week's completion, awaiting
review; each cell opens what it counts; one statement for them all, however many plans."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services import settings
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.plans import matching, periods
from crm.services.reporting import snapshots
from models import PlanKind, PlannedVisit, PlanStatus, PlanTask, Team, WorkPlan
from tests.test_dashboards import _count, _grow

NOW = datetime.now(UTC)


def monday_of(user):
    return periods.starts_on_for(PlanKind.WEEK, periods.today_for(user))


def week_plan(owner, starts_on, *, status=PlanStatus.SUBMITTED, submitted=None):
    plan = WorkPlan(
        owner=owner,
        kind=PlanKind.WEEK,
        starts_on=starts_on,
        status=status,
        first_submitted_at=submitted,
        submitted_at=submitted,
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def last_week_half_done(owner, monday, make_customer, make_visit):
    """Last week's plan: two planned visits, one carried out; one of two tasks ticked."""
    last = monday - timedelta(days=7)
    done_at, skipped = make_customer(owner), make_customer(owner)
    plan = week_plan(owner, last, status=PlanStatus.REVIEWED, submitted=NOW - timedelta(days=10))
    plan.visits += [
        PlannedVisit(customer=done_at, day=last + timedelta(days=1)),
        PlannedVisit(customer=skipped, day=last + timedelta(days=2)),
    ]
    plan.tasks += [PlanTask(text="报价", done=True), PlanTask(text="回访", done=False)]
    db.session.commit()
    week = periods.period_of(plan)
    make_visit(done_at, owner, occurred_at=week.start + timedelta(days=1, hours=3))
    make_visit(done_at, owner, occurred_at=week.start + timedelta(days=2, hours=3))  # unplanned
    return plan


def cells(page: str, manager) -> dict[str, str]:
    row = page.split(f'<tr data-manager="{manager.id}">')[1].split("</tr>")[0]
    return {
        name: cell
        for name, cell in re.findall(
            r'data-figure="(plan_\w+|plans_awaiting)"[^>]*>(.*?)</td>', row, re.S
        )
    }


@pytest.fixture
def team_plans(org, make_customer, make_visit):
    m1, m2 = org["m1"], org["m2"]
    org["sup1"].locale = org["admin"].locale = "en"
    monday = monday_of(org["sup1"])
    due = periods.deadline(PlanKind.WEEK, monday, m1)
    on_time = week_plan(m1, monday, submitted=due - timedelta(hours=1))
    late = week_plan(m2, monday, status=PlanStatus.RETURNED, submitted=due + timedelta(hours=1))
    last = last_week_half_done(m1, monday, make_customer, make_visit)
    week_plan(org["m3"], monday, submitted=due - timedelta(hours=1))  # another team's
    return {"on_time": on_time, "late": late, "last": last, "monday": monday}


def test_the_cells_and_where_they_lead(client, login, org, team_plans):
    login(client, org["sup1"])
    page = client.get("/").get_data(as_text=True)
    m1, m2 = cells(page, org["m1"]), cells(page, org["m2"])

    assert f'href="/plans/{team_plans["on_time"].id}"' in m1["plan_week"] and "✓" in m1["plan_week"]
    assert (
        f'href="/plans/{team_plans["late"].id}"' in m2["plan_week"]
        and "submitted late" in m2["plan_week"]
    )
    # Last week: the plan page's own rule (matching.completion_for) says 1 of 2 planned visits.
    completion = matching.completion_for([team_plans["last"]])[team_plans["last"].id]
    assert completion.percent == 50
    assert f'href="/plans/{team_plans["last"].id}"' in m1["plan_completion"]
    assert "50%" in m1["plan_completion"] and "1 / 2" in m1["plan_completion"]
    assert 'href="/plans/"' in m2["plan_completion"] and "—" in m2["plan_completion"]
    # m1's this-week plan awaits review; m2's came back for revision and does not.
    assert 'href="/plans/reviews"' in m1["plans_awaiting"] and ">1<" in m1["plans_awaiting"]
    assert ">0<" in m2["plans_awaiting"]
    assert f'data-manager="{org["m3"].id}"' not in page
    # Each link opens for the supervisor.
    for path in (f"/plans/{team_plans['on_time'].id}", "/plans/", "/plans/reviews"):
        assert client.get(path).status_code == 200, path


def test_a_handed_over_visit_leaves_the_completion_as_on_the_plan_page(
    client, login, org, team_plans, make_customer
):
    last = team_plans["last"]
    gone = make_customer(org["m1"])
    last.visits.append(PlannedVisit(customer=gone, day=last.starts_on + timedelta(days=3)))
    db.session.commit()
    hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[gone.id]),
        to_owner=org["m2"],
        options=HandoverOptions(),
        note="交接：请尽快拜访",
        reason="团队调整",
        token=uuid.uuid4().hex,
        expected_fingerprint=None,
    )
    db.session.commit()
    completion = matching.completion_for([last])[last.id]
    assert (completion.planned, completion.done, completion.handed_over) == (2, 1, 1)
    login(client, org["sup1"])
    cell = cells(client.get("/").get_data(as_text=True), org["m1"])["plan_completion"]
    assert "50%" in cell and "1 / 2" in cell


def test_no_plan_is_missing_and_leads_to_the_team_plans(client, login, org, team_plans):
    db.session.delete(team_plans["late"])
    db.session.commit()
    login(client, org["sup1"])
    m2 = cells(client.get("/").get_data(as_text=True), org["m2"])
    assert 'data-state="missing"' in client.get("/").get_data(as_text=True)
    assert "not submitted" in m2["plan_week"] and 'href="/plans/"' in m2["plan_week"]


def test_the_admins_deadline_decides_on_time(client, login, org, team_plans):
    # Due on the Wednesday before instead of the Friday: the plan sent an hour before
    # Friday's deadline is late now. The union reads the stored setting.
    settings.change(periods.WEEK_DUE_WEEKDAY.key, "3", actor=org["admin"])
    db.session.commit()
    login(client, org["sup1"])
    page = client.get("/").get_data(as_text=True)
    assert "submitted late" in cells(page, org["m1"])["plan_week"]


def test_an_admin_sees_the_columns_for_a_chosen_team_only(client, login, org, team_plans):
    login(client, org["admin"])
    assert 'data-figure="plan_week"' not in client.get("/").get_data(as_text=True)
    page = client.get(f"/?team={org['team1'].id}").get_data(as_text=True)
    assert "✓" in cells(page, org["m1"])["plan_week"]


def test_the_plan_columns_cost_one_statement_whatever_the_plans(
    client,
    login,
    org,
    count_queries,
    make_user,
    make_customer,
    make_opportunity,
    make_visit,
    make_reminder,
):
    login(client, org["sup1"])
    grow = (org, make_user, make_customer, make_opportunity, make_visit, make_reminder)
    _grow(*grow, managers=2, customers=5)
    # The scheduler's stage snapshot has run (at its start, then every 15 minutes): before
    # it the team's funnel costs one statement more (tests/test_dashboards.py).
    snapshots.refresh()
    db.session.commit()
    before_plans = _count(client, count_queries)
    monday = monday_of(org["sup1"])
    last_week_half_done(org["m1"], monday, make_customer, make_visit)
    week_plan(org["m1"], monday, submitted=NOW)
    small = _count(client, count_queries)
    assert small == before_plans + 0  # plans cost nothing over the empty columns' statement
    _grow(*grow, managers=6, customers=45)
    for manager in db.session.query(Team).filter_by(name="Team One").one().members:
        if manager.is_manager and manager.id != org["m1"].id:
            last_week_half_done(manager, monday, make_customer, make_visit)
            week_plan(manager, monday, submitted=NOW)
    assert _count(client, count_queries) == small <= 15
