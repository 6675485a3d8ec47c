"""A plan's life: draft → submitted → reviewed (locked), or returned → submitted again.

Only the plan's manager edits it, and only until it is reviewed; once it has been
submitted, every change is recorded (`note_change`) so the reviewer sees what moved.
Only the manager's supervisor (or an admin) reviews or returns it. Every function
flushes and never commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import led_team_ids
from crm.services.errors import DomainError, NotAllowed
from crm.services.plans import notices, periods
from models import (
    PlanChange,
    PlanKind,
    PlanReview,
    PlanStatus,
    Rating,
    User,
    Verdict,
    WorkPlan,
)

# How far from today a plan may be started: last period (a late plan) to this far ahead.
PERIODS_AHEAD = {PlanKind.WEEK: 8, PlanKind.MONTH: 3}
COMMENT_LIMIT = 2000


def find_plan(owner: User, kind: PlanKind, starts_on: date) -> WorkPlan | None:
    return db.session.scalar(
        select(WorkPlan).where(
            WorkPlan.owner_id == owner.id, WorkPlan.kind == kind, WorkPlan.starts_on == starts_on
        )
    )


def may_plan(user: User) -> bool:
    """Managers and supervisors plan their own work; an admin account does not."""
    return user.is_active and (user.is_manager or user.is_supervisor)


def start_plan(
    kind: PlanKind, starts_on: date, *, actor: User, now: datetime | None = None
) -> WorkPlan:
    """The actor's plan for the period, started as a draft if there is none yet."""
    if not may_plan(actor):
        raise NotAllowed(_l("Only account managers and supervisors keep work plans."))
    if starts_on != periods.starts_on_for(kind, starts_on):
        raise DomainError(_l("A plan starts on a Monday (weekly) or on the 1st (monthly)."))
    current = periods.starts_on_for(kind, periods.today_for(actor, now))
    earliest = periods.following(kind, current, -1)
    latest = periods.following(kind, current, PERIODS_AHEAD[kind])
    if not earliest <= starts_on <= latest:
        raise DomainError(_l("Plans can be made from the last period up to a few ahead."))
    plan = find_plan(actor, kind, starts_on)
    if plan is None:
        plan = WorkPlan(owner_id=actor.id, owner=actor, kind=kind, starts_on=starts_on)
        db.session.add(plan)
        db.session.flush()
    return plan


def ensure_editable(plan: WorkPlan, actor: User) -> None:
    """Refuse a change by anyone but the plan's manager, or to a reviewed plan."""
    if actor.id != plan.owner_id:
        raise NotAllowed(_l("Only the plan's own manager changes it."))
    if plan.locked:
        raise DomainError(_l("This plan has been reviewed and is locked."))


def note_change(
    plan: WorkPlan, actor: User, what: str, old: str | None, new: str | None
) -> PlanChange | None:
    """Record a change made after the plan was first submitted (none before: a draft is
    the manager's own business)."""
    if not plan.was_submitted or old == new:
        return None
    change = PlanChange(plan=plan, user_id=actor.id, what=what, old=old, new=new)
    db.session.add(change)
    return change


def touch(plan: WorkPlan) -> None:
    """Bump the plan's version when one of its parts changed (its rows are its own)."""
    plan.updated_at = datetime.now(UTC)


def submit(plan: WorkPlan, *, actor: User, now: datetime | None = None) -> WorkPlan:
    ensure_editable(plan, actor)
    if plan.status is PlanStatus.SUBMITTED:
        raise DomainError(_l("This plan is submitted already; it can still change."))
    if not _has_content(plan):
        raise DomainError(_l("Add at least one planned visit, task or goal before submitting."))
    moment = now or datetime.now(UTC)
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = moment
    if plan.first_submitted_at is None:
        plan.first_submitted_at = moment
    db.session.flush()
    return plan


def _has_content(plan: WorkPlan) -> bool:
    if plan.visits or plan.tasks or plan.key_customers:
        return True
    goals = (plan.goal_visits, plan.goal_new_opportunities, plan.goal_won_amount)
    return any(goal is not None for goal in goals)


def may_review(plan: WorkPlan, actor: User) -> bool:
    """The manager's supervisor (who leads their team) or an admin; never the manager."""
    if not actor.is_active or actor.id == plan.owner_id:
        return False
    if actor.is_admin:
        return True
    if not actor.is_supervisor or plan.owner.team_id is None:
        return False
    return plan.owner.team_id in db.session.scalars(led_team_ids(actor)).all()


def _ensure_reviewable(plan: WorkPlan, actor: User) -> None:
    if not may_review(plan, actor):
        raise NotAllowed(_l("Only the manager's supervisor or an administrator reviews a plan."))
    if plan.status is not PlanStatus.SUBMITTED:
        raise DomainError(_l("Only a submitted plan can be reviewed or returned."))


def review(
    plan: WorkPlan,
    *,
    actor: User,
    rating: Rating | None,
    comment: str | None,
    now: datetime | None = None,
) -> PlanReview:
    """Review a submitted plan with a rating and a comment; it is locked afterwards."""
    _ensure_reviewable(plan, actor)
    if rating is None:
        raise DomainError(_l("Choose a rating."), field="rating")
    verdict = _verdict(plan, actor, Verdict.REVIEWED, rating, comment, now)
    plan.status = PlanStatus.REVIEWED
    db.session.flush()
    notices.plan_reviewed(verdict)
    return verdict


def return_for_revision(
    plan: WorkPlan, *, actor: User, reason: str | None, now: datetime | None = None
) -> PlanReview:
    """Send a submitted plan back to its manager with a reason; they submit it again."""
    _ensure_reviewable(plan, actor)
    if not (reason or "").strip():
        raise DomainError(_l("Say why the plan goes back for revision."), field="comment")
    verdict = _verdict(plan, actor, Verdict.RETURNED, None, reason, now)
    plan.status = PlanStatus.RETURNED
    db.session.flush()
    notices.plan_returned(verdict)
    return verdict


def _verdict(
    plan: WorkPlan,
    actor: User,
    verdict: Verdict,
    rating: Rating | None,
    comment: str | None,
    now: datetime | None,
) -> PlanReview:
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_LIMIT:
        raise DomainError(_l("At most %(limit)s characters.", limit=COMMENT_LIMIT), field="comment")
    row = PlanReview(
        plan=plan,
        reviewer_id=actor.id,
        reviewer=actor,
        verdict=verdict,
        rating=rating,
        comment=text,
        at=now or datetime.now(UTC),
    )
    db.session.add(row)
    return row


def changes_since_review(plan: WorkPlan) -> list[PlanChange]:
    """What changed since the last verdict (or since the first submission): what the
    reviewer has not seen yet."""
    since = plan.reviews[-1].at if plan.reviews else None
    return [change for change in plan.changes if since is None or change.at > since]
