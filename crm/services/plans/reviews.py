"""The supervisor's side of a plan: the review queue, the review panel, and the verdicts.

The queue holds the plans a reviewer should look at: submitted ones, and those whose
week or month is over and that nobody reviewed (a draft never submitted, a plan
returned and not submitted again). A supervisor's queue is the plans of the teams they
lead (their own go to an administrator); an administrator's is every plan; a manager
has none. Oldest period first: the week that waited longest comes first.

A verdict is given on the plan as the reviewer saw it: if the manager changed it since
the page was opened, the verdict is refused and the reviewer reads the changes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, inspect, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from crm.extensions import db
from crm.permissions import scoped
from crm.services.errors import NotAllowed, StaleEdit
from crm.services.plans import lifecycle, matching, month, month_actuals, periods, week
from models import PlanChange, PlanKind, PlanReview, PlanStatus, Rating, User, WorkPlan

# The queue ---------------------------------------------------------------------------


def may_see_queue(user: User) -> bool:
    """Supervisors and administrators review plans; a manager's plans are reviewed."""
    return user.is_active and (user.is_admin or user.is_supervisor)


def queue(viewer: User, *, now: datetime | None = None) -> Select:
    """SELECT of the plans awaiting the viewer's review, oldest period first."""
    if not may_see_queue(viewer):
        raise NotAllowed(_l("Only supervisors and administrators review plans."))
    today = periods.today_for(viewer, now)
    # Submitted, or not reviewed and over: spelt per kind and status so that each term
    # reads the (kind, status, starts_on) index; a year of reviewed plans is not scanned.
    unreviewed = [s for s in PlanStatus if s not in (PlanStatus.SUBMITTED, PlanStatus.REVIEWED)]
    waiting = or_(
        *(
            or_(
                and_(WorkPlan.kind == kind, WorkPlan.status == PlanStatus.SUBMITTED),
                and_(
                    WorkPlan.kind == kind,
                    WorkPlan.status.in_(unreviewed),
                    WorkPlan.starts_on < periods.starts_on_for(kind, today),
                ),
            )
            for kind in PlanKind
        )
    )
    return (
        scoped(WorkPlan, viewer)
        .where(WorkPlan.owner_id != viewer.id, waiting)
        .options(joinedload(WorkPlan.owner))
        .order_by(WorkPlan.starts_on, WorkPlan.kind, WorkPlan.id)
    )


@dataclass(frozen=True)
class QueueRow:
    """One plan of the queue with its figures: a week's completion or a month's actuals."""

    plan: WorkPlan
    on_time: bool | None  # None: never submitted
    completion: matching.Completion | None  # weekly plans
    actuals: month_actuals.MonthActuals | None  # monthly plans

    @property
    def awaiting(self) -> bool:
        """Submitted and waiting for a verdict (the others can only be looked at)."""
        return self.plan.status is PlanStatus.SUBMITTED


def queue_rows(plans: list[WorkPlan]) -> list[QueueRow]:
    """The figures of one page of the queue, in a fixed number of statements."""
    completions = matching.completion_for(plans)
    actuals = month_actuals.actuals_for(plans)
    return [
        QueueRow(
            plan=plan,
            on_time=periods.submitted_on_time(plan),
            completion=completions.get(plan.id),
            actuals=actuals.get(plan.id),
        )
        for plan in plans
    ]


# The panel under a plan ----------------------------------------------------------------

CHANGE_LABELS = {**week.CHANGE_LABELS, **month.CHANGE_LABELS}


@dataclass(frozen=True)
class ReviewPanel:
    """What the plan page shows of its reviews: the verdicts, the changes the reviewer has
    not seen, and whether the viewer may give a verdict now."""

    verdicts: list[PlanReview]
    changes: list[PlanChange]
    may_review: bool  # the viewer is the manager's supervisor or an admin
    reviewable: bool  # and the plan is submitted: the form is shown

    @staticmethod
    def what(change: PlanChange) -> str:
        """What changed, in the reader's language (the row keeps the weekly or monthly
        plan's key)."""
        return str(CHANGE_LABELS.get(change.what, change.what))


def review_panel(plan: WorkPlan, *, viewer: User) -> ReviewPanel:
    """The verdicts (with their reviewers) and the changes (with who made them), then the
    lifecycle's own reading of them: no statement for a plan never submitted (it has
    neither), at most two for one that was."""
    if plan.was_submitted:
        _load(plan, "reviews", select(PlanReview).options(joinedload(PlanReview.reviewer)))
        _load(plan, "changes", select(PlanChange).options(joinedload(PlanChange.user)))
    else:
        set_committed_value(plan, "reviews", [])
        set_committed_value(plan, "changes", [])
    may_review = lifecycle.may_review(plan, viewer)
    return ReviewPanel(
        verdicts=list(plan.reviews),
        changes=lifecycle.changes_since_review(plan),
        may_review=may_review,
        reviewable=may_review and plan.status is PlanStatus.SUBMITTED,
    )


def _load(plan: WorkPlan, collection: str, rows: Select) -> None:
    """Fill a collection of the plan with its rows and theirs in one statement, unless the
    page loaded it already."""
    if collection not in inspect(plan).unloaded:
        return
    model = rows.column_descriptions[0]["entity"]
    found = db.session.scalars(rows.where(model.plan_id == plan.id).order_by(model.id)).all()
    set_committed_value(plan, collection, list(found))


# Verdicts --------------------------------------------------------------------------------


def _check_seen(plan: WorkPlan, version: object) -> None:
    """Refuse a verdict on an older version of the plan than the stored one."""
    try:
        seen = int(version)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        seen = None
    if seen != plan.version:
        raise StaleEdit(
            _l(
                "The manager changed this plan after you opened it. "
                "Read what changed, then give your verdict again."
            ),
            current=plan,
        )


def review(
    plan: WorkPlan,
    *,
    actor: User,
    version: object,
    rating: Rating | None,
    comment: str | None,
    now: datetime | None = None,
) -> PlanReview:
    """Review the plan as the reviewer saw it (see lifecycle.review)."""
    _check_seen(plan, version)
    return lifecycle.review(plan, actor=actor, rating=rating, comment=comment, now=now)


def return_for_revision(
    plan: WorkPlan,
    *,
    actor: User,
    version: object,
    reason: str | None,
    now: datetime | None = None,
) -> PlanReview:
    """Return the plan as the reviewer saw it (see lifecycle.return_for_revision)."""
    _check_seen(plan, version)
    return lifecycle.return_for_revision(plan, actor=actor, reason=reason, now=now)
