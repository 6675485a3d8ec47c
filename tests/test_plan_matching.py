"""Plan against what happened: visits in the week matched to planned visits.

Weeks are the manager's (Asia/Shanghai here): Monday 7 December 2026 00:00 Shanghai is
Sunday 6 December 16:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import DomainError
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.plans import lifecycle, matching, periods
from models import PlanKind, PlannedVisit, PlanTask, Rating, Visit, VisitMatch, WorkPlan

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # Wednesday 2 December, 12:00 in Shanghai
MONDAY = date(2026, 12, 7)


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as UTC (Shanghai is UTC+8, no daylight saving)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def week(org):
    return lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=org["m1"], now=NOW)


def plan_visit(plan, customer, day=MONDAY, **fields) -> PlannedVisit:
    planned = PlannedVisit(plan=plan, customer=customer, day=day, **fields)
    db.session.add(planned)
    db.session.commit()
    return planned


def outcome_of(plan, planned):
    result = matching.plan_vs_actual(plan)
    return next(o for o in result.outcomes if o.planned.id == planned.id), result


def test_a_visit_in_the_week_carries_the_planned_visit(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer, MONDAY + timedelta(days=2))
    visit = make_visit(customer, occurred_at=shanghai(MONDAY + timedelta(days=1), 10))
    other = make_visit(make_customer(org["m1"]), occurred_at=shanghai(MONDAY, 9))

    outcome, result = outcome_of(week, planned)

    assert outcome.visit is visit and not outcome.handed_over
    assert result.unplanned == [other]
    assert (result.completion.planned, result.completion.done) == (1, 1)
    assert result.completion.unplanned == 1 and result.completion.percent == 100


def test_the_week_ends_at_midnight_sunday_in_the_managers_zone(
    org, week, make_customer, make_visit
):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer)
    sunday = MONDAY + timedelta(days=6)
    late = make_visit(customer, occurred_at=shanghai(sunday, 23, 30))  # Sunday 15:30 UTC
    make_visit(customer, occurred_at=shanghai(sunday + timedelta(days=1), 0, 10))  # next week
    make_visit(customer, occurred_at=shanghai(MONDAY, 0, 0) - timedelta(minutes=5))  # before

    outcome, result = outcome_of(week, planned)

    assert outcome.visit is late
    assert result.unplanned == []
    assert matching.completion_for([week])[week.id].unplanned == 0


def test_a_visit_moved_to_another_week_drops_out(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer)
    visit = make_visit(customer, occurred_at=shanghai(MONDAY, 10))
    assert outcome_of(week, planned)[0].visit is visit

    visit.occurred_at = shanghai(MONDAY + timedelta(days=7), 10)
    db.session.commit()

    outcome, result = outcome_of(week, planned)
    assert outcome.visit is None and result.completion.done == 0
    assert matching.completion_for([week])[week.id].done == 0


def test_only_the_plans_managers_visits_count(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer)
    make_visit(customer, user=org["sup1"], occurred_at=shanghai(MONDAY, 10))

    outcome, result = outcome_of(week, planned)

    assert outcome.visit is None and result.unplanned == []


def test_a_handed_over_customer_shows_as_handed_over(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer, MONDAY + timedelta(days=3))
    kept = plan_visit(week, make_customer(org["m1"]))
    hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m2"],
        options=HandoverOptions(),
        note="交接",
        token="t-1",
        expected_fingerprint=None,
    )
    db.session.commit()
    # The new owner's visit is theirs: it does not carry m1's planned visit.
    make_visit(customer, user=org["m2"], occurred_at=shanghai(MONDAY, 10))

    outcome, result = outcome_of(week, planned)

    assert outcome.visit is None and outcome.handed_over
    assert not outcome_of(week, kept)[0].handed_over
    assert (result.completion.planned, result.completion.handed_over) == (1, 1)
    assert matching.completion_for([week])[week.id] == result.completion


def test_each_visit_carries_one_planned_visit_the_earliest_first(
    org, week, make_customer, make_visit
):
    customer = make_customer(org["m1"])
    first = plan_visit(week, customer, MONDAY)
    second = plan_visit(week, customer, MONDAY + timedelta(days=3))
    early = make_visit(customer, occurred_at=shanghai(MONDAY, 9))

    assert outcome_of(week, first)[0].visit is early
    assert outcome_of(week, second)[0].visit is None

    later = make_visit(customer, occurred_at=shanghai(MONDAY + timedelta(days=4), 9))
    assert outcome_of(week, second)[0].visit is later
    assert matching.completion_for([week])[week.id].done == 2


def test_manual_link_and_unlink(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    first = plan_visit(week, customer, MONDAY)
    second = plan_visit(week, customer, MONDAY + timedelta(days=2))
    early = make_visit(customer, occurred_at=shanghai(MONDAY, 9))
    late = make_visit(customer, occurred_at=shanghai(MONDAY + timedelta(days=2), 9))

    matching.link_visit(first, late, actor=org["m1"])
    db.session.commit()
    assert first.match is VisitMatch.MANUAL and first.visit_id == late.id
    assert outcome_of(week, first)[0].visit is late
    assert outcome_of(week, second)[0].visit is early  # AUTO takes what is left

    with pytest.raises(DomainError, match="another planned visit|另一"):
        matching.link_visit(second, late, actor=org["m1"])

    matching.unlink_visit(first, actor=org["m1"])
    db.session.commit()
    assert first.match is VisitMatch.NONE
    outcome, result = outcome_of(week, first)
    assert outcome.visit is None and result.unplanned == [late]
    assert matching.completion_for([week])[week.id] == result.completion

    matching.match_automatically(first, actor=org["m1"])
    assert outcome_of(week, first)[0].visit is early


def test_a_link_must_be_the_managers_visit_to_that_customer_in_the_week(
    org, week, make_customer, make_visit
):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer)
    elsewhere = make_visit(make_customer(org["m1"]), occurred_at=shanghai(MONDAY, 9))
    next_week = make_visit(customer, occurred_at=shanghai(MONDAY + timedelta(days=7), 9))
    colleagues = make_visit(customer, user=org["m2"], occurred_at=shanghai(MONDAY, 9))
    for visit in (elsewhere, next_week, colleagues):
        with pytest.raises(DomainError):
            matching.link_visit(planned, visit, actor=org["m1"])
    assert planned.match is VisitMatch.AUTO


def test_a_reviewed_plan_refuses_link_and_unlink(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"])
    planned = plan_visit(week, customer)
    visit = make_visit(customer, occurred_at=shanghai(MONDAY, 9))
    lifecycle.submit(week, actor=org["m1"], now=NOW)
    lifecycle.review(week, actor=org["sup1"], rating=Rating.GOOD, comment=None)
    for change in (
        lambda: matching.link_visit(planned, visit, actor=org["m1"]),
        lambda: matching.unlink_visit(planned, actor=org["m1"]),
    ):
        with pytest.raises(DomainError, match="locked|锁定"):
            change()


def test_changes_to_the_match_after_submission_are_recorded(org, week, make_customer, make_visit):
    customer = make_customer(org["m1"], name="某某银行")
    planned = plan_visit(week, customer)
    lifecycle.submit(week, actor=org["m1"], now=NOW)
    matching.unlink_visit(planned, actor=org["m1"])
    db.session.commit()
    change = week.changes[-1]
    assert (change.old, change.new) == ("12-07 某某银行 ⇄", "12-07 某某银行 ✗")


def test_completion_for_many_plans_in_a_fixed_number_of_queries(
    org, make_customer, make_visit, count_queries
):
    plans = []
    for name in ("m1", "m2", "m3"):
        manager = org[name]
        plan = lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=manager, now=NOW)
        earlier = lifecycle.start_plan(
            PlanKind.WEEK, MONDAY - timedelta(days=7), actor=manager, now=NOW
        )
        for day in range(3):
            customer = make_customer(manager)
            plan_visit(plan, customer, MONDAY + timedelta(days=day))
            if day:
                make_visit(customer, occurred_at=shanghai(MONDAY + timedelta(days=day), 9))
        db.session.add(PlanTask(plan=plan, text="周报", done=True))
        db.session.add(PlanTask(plan=plan, text="培训"))
        plans += [plan, earlier]
    month = lifecycle.start_plan(PlanKind.MONTH, date(2026, 12, 1), actor=org["m1"], now=NOW)
    db.session.commit()
    db.session.expire_all()
    ids = [p.id for p in [*plans, month]]
    loaded = db.session.scalars(select(WorkPlan).where(WorkPlan.id.in_(ids))).all()

    with count_queries() as statements:
        result = matching.completion_for(loaded)

    assert len(statements) <= 4
    assert month.id not in result
    first = result[plans[0].id]
    assert (first.planned, first.done, first.tasks, first.tasks_done) == (3, 2, 2, 1)
    assert first.percent == 67
    assert result[plans[1].id].planned == 0 and result[plans[1].id].ratio is None


def test_a_supervisors_visit_to_a_team_members_customer_is_not_handed_over(org, make_customer):
    plan = lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=org["sup1"], now=NOW)
    planned = plan_visit(plan, make_customer(org["m1"]))  # a joint visit with m1

    outcome, result = outcome_of(plan, planned)

    assert not outcome.handed_over
    assert (result.completion.planned, result.completion.handed_over) == (1, 0)
    assert matching.completion_for([plan])[plan.id] == result.completion


@pytest.mark.parametrize("terms", [matching.MAX_WEEK_TERMS, 1])
def test_completion_for_reads_only_the_visits_of_the_plans_weeks(
    org, make_customer, make_visit, count_queries, monkeypatch, terms
):
    """An admin's review queue, oldest first, may put a week of last year beside this
    week's: the visits between them are not read (past MAX_WEEK_TERMS ranges, the span
    from the first week to the last is, and the figures are the same)."""
    monkeypatch.setattr(matching, "MAX_WEEK_TERMS", terms)
    year_ago, half_year_ago = MONDAY - timedelta(days=364), MONDAY - timedelta(days=182)
    plans = [  # m1's week after MONDAY's touches it: the two are read as one range
        lifecycle.start_plan(PlanKind.WEEK, monday, actor=org[name], now=shanghai(monday, 12))
        for name, monday in (
            ("m1", MONDAY),
            ("m1", year_ago),
            ("m2", half_year_ago),
            ("m1", MONDAY + timedelta(days=7)),
        )
    ]
    between = []
    for manager in (org["m1"], org["m2"]):
        customer = make_customer(manager)
        for plan in plans:
            if plan.owner_id == manager.id:
                plan_visit(plan, customer, plan.starts_on)
        for monday in (MONDAY, year_ago, half_year_ago, MONDAY + timedelta(days=7)):
            make_visit(customer, occurred_at=shanghai(monday + timedelta(days=1), 9))
        for weeks in (10, 30, 40):  # in none of the plans' weeks
            between.append(
                make_visit(customer, occurred_at=shanghai(MONDAY - timedelta(weeks=weeks), 9))
            )
    db.session.commit()
    ids = [p.id for p in plans]
    plans = db.session.scalars(select(WorkPlan).where(WorkPlan.id.in_(ids))).all()

    with count_queries() as statements:
        result = matching.completion_for(plans)

    assert len(statements) <= 4
    for plan in plans:
        assert result[plan.id] == matching.plan_vs_actual(plan).completion
        assert (result[plan.id].planned, result[plan.id].done) == (1, 1)
    weeks = {p.id: periods.period_of(p) for p in plans}
    read = set(db.session.scalars(select(Visit.id).where(matching._in_plan_weeks(plans, weeks))))
    if terms > 1:
        assert read and not read & {v.id for v in between}
    else:
        assert {v.id for v in between if v.user_id == org["m1"].id} <= read
