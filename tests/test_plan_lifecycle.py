"""A plan's lifecycle: who may start, edit, submit, review and return it; locked after review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed
from crm.services.plans import lifecycle, periods
from models import Notice, NoticeKind, PlanKind, PlanStatus, PlanTask, Rating, Verdict

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # Wednesday 2 December, 12:00 in Shanghai
NEXT_MONDAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def english(app):
    """The refusals are read in English (outside a request the app speaks Chinese)."""
    with app.test_request_context(), force_locale("en"):
        yield


def _plan_with_a_task(owner):
    plan = lifecycle.start_plan(PlanKind.WEEK, NEXT_MONDAY, actor=owner, now=NOW)
    plan.tasks.append(PlanTask(text="准备方案", day=NEXT_MONDAY))
    db.session.flush()
    return plan


def test_a_manager_starts_one_plan_per_week(app, org):
    first = lifecycle.start_plan(PlanKind.WEEK, NEXT_MONDAY, actor=org["m1"], now=NOW)
    again = lifecycle.start_plan(PlanKind.WEEK, NEXT_MONDAY, actor=org["m1"], now=NOW)
    assert first.id == again.id
    assert first.status is PlanStatus.DRAFT


@pytest.mark.parametrize(
    "starts_on", [date(2026, 12, 8), date(2026, 11, 16), date(2027, 3, 1)], ids=str
)
def test_a_week_starts_on_a_monday_within_reach(app, org, starts_on):
    with pytest.raises(DomainError):
        lifecycle.start_plan(PlanKind.WEEK, starts_on, actor=org["m1"], now=NOW)


def test_an_admin_account_keeps_no_plan(app, org):
    with pytest.raises(NotAllowed):
        lifecycle.start_plan(PlanKind.WEEK, NEXT_MONDAY, actor=org["admin"], now=NOW)


def test_an_empty_plan_is_not_submitted(app, org):
    plan = lifecycle.start_plan(PlanKind.WEEK, NEXT_MONDAY, actor=org["m1"], now=NOW)
    with pytest.raises(DomainError, match="at least one"):
        lifecycle.submit(plan, actor=org["m1"], now=NOW)


def test_only_the_manager_edits_and_submits(app, org):
    plan = _plan_with_a_task(org["m1"])
    for other in (org["m2"], org["sup1"], org["admin"]):
        with pytest.raises(NotAllowed):
            lifecycle.submit(plan, actor=other, now=NOW)
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    assert plan.status is PlanStatus.SUBMITTED
    assert plan.first_submitted_at == NOW


def test_changes_are_recorded_only_after_the_first_submission(app, org):
    plan = _plan_with_a_task(org["m1"])
    assert lifecycle.note_change(plan, org["m1"], "focus", None, "A") is None
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    change = lifecycle.note_change(plan, org["m1"], "focus", "A", "B")
    db.session.flush()
    assert change is not None and plan.changes == [change]
    assert lifecycle.note_change(plan, org["m1"], "focus", "B", "B") is None


def test_only_the_managers_supervisor_or_an_admin_reviews(app, org):
    plan = _plan_with_a_task(org["m1"])  # m1 is in sup1's team
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    for other in (org["m1"], org["m2"], org["sup2"]):
        assert not lifecycle.may_review(plan, other)
        with pytest.raises(NotAllowed):
            lifecycle.review(plan, actor=other, rating=Rating.GOOD, comment=None)
    assert lifecycle.may_review(plan, org["sup1"]) and lifecycle.may_review(plan, org["admin"])


def test_a_review_locks_the_plan_and_tells_the_manager(app, org):
    plan = _plan_with_a_task(org["m1"])
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    with pytest.raises(DomainError, match="rating"):
        lifecycle.review(plan, actor=org["sup1"], rating=None, comment="好")
    verdict = lifecycle.review(plan, actor=org["sup1"], rating=Rating.EXCELLENT, comment="好")
    assert plan.status is PlanStatus.REVIEWED and verdict.verdict is Verdict.REVIEWED
    with pytest.raises(DomainError, match="locked"):
        lifecycle.ensure_editable(plan, org["m1"])
    with pytest.raises(DomainError, match="submitted plan"):
        lifecycle.review(plan, actor=org["sup1"], rating=Rating.GOOD, comment=None)
    notice = db.session.query(Notice).one()
    assert (notice.user_id, notice.kind) == (org["m1"].id, NoticeKind.PLAN_REVIEWED)


def test_a_return_needs_a_reason_and_the_plan_is_submitted_again(app, org):
    plan = _plan_with_a_task(org["m1"])
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    with pytest.raises(DomainError, match="why"):
        lifecycle.return_for_revision(plan, actor=org["sup1"], reason="  ")
    lifecycle.return_for_revision(plan, actor=org["sup1"], reason="拜访太少")
    assert plan.status is PlanStatus.RETURNED
    later = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
    lifecycle.submit(plan, actor=org["m1"], now=later)
    assert plan.status is PlanStatus.SUBMITTED
    assert (plan.first_submitted_at, plan.submitted_at) == (NOW, later)


def test_week_and_month_keys_round_trip_and_refuse_nonsense():
    assert periods.week_key(NEXT_MONDAY) == "2026-W50"
    assert periods.parse_week("2026-W50") == NEXT_MONDAY
    assert periods.parse_week("2026-W54") is None and periods.parse_week("2026-50") is None
    assert periods.parse_month("2026-12") == date(2026, 12, 1)
    assert periods.parse_month("2026-13") is None


def test_the_weekly_plan_is_due_on_the_friday_before_at_six(app, org):
    due = periods.deadline(PlanKind.WEEK, NEXT_MONDAY, org["m1"])
    assert due == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # 18:00 Shanghai
    assert periods.deadline(PlanKind.MONTH, date(2027, 5, 1), org["m1"]) == datetime(
        2027, 5, 3, 10, 0, tzinfo=UTC
    )  # 1 May 2027 is a Saturday: due Monday the 3rd
