"""Plans owed and plans waiting: what the daily and weekly digests nudge about.

A manager (not a supervisor or an admin: their plans are their own business) owes:

- the weekly plan of the current week and of the next one, each from its deadline DAY
  (Friday by default, `periods.WEEK_DUE_WEEKDAY`) in the manager's zone: on that day the
  digest says it is due today at the due time, after the due time that it is overdue;
- the monthly plan of the current month from the month's first working day on.

A plan counts as handed in once it is submitted (or reviewed). A draft is as missing
as no plan at all; a plan returned for revision is listed apart, until it is submitted
again. A period whose deadline passed before the manager's account existed is not owed:
a newcomer is not late for a week they were not here for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.plans import periods
from models import PlanKind, PlanStatus, User, WorkPlan


@dataclass(frozen=True)
class Owed:
    """A plan a manager owes: its period and when it is (was) due."""

    kind: PlanKind
    starts_on: date
    due_at: datetime  # UTC


@dataclass(frozen=True)
class MissingPlan:
    """An owed plan not handed in (none started, or a draft)."""

    owner: User
    owed: Owed
    overdue: bool
    draft: WorkPlan | None = None

    @property
    def kind(self) -> PlanKind:
        return self.owed.kind

    @property
    def key(self) -> str:
        """The period's URL key: 2026-W50 or 2026-12."""
        if self.owed.kind is PlanKind.WEEK:
            return periods.week_key(self.owed.starts_on)
        return periods.month_key(self.owed.starts_on)

    @property
    def due_local(self) -> datetime:
        return self.owed.due_at.astimezone(user_zone(self.owner))


@dataclass
class Standing:
    """One manager's plans as the digests tell them: missing, returned, awaiting review."""

    missing: list[MissingPlan] = field(default_factory=list)
    returned: list[WorkPlan] = field(default_factory=list)
    awaiting_review: list[WorkPlan] = field(default_factory=list)

    @property
    def overdue(self) -> list[MissingPlan]:
        return [m for m in self.missing if m.overdue]


def owes_plans(user: User) -> bool:
    return user.active and user.is_manager


def owed(owner: User, now: datetime) -> list[Owed]:
    """The plans the manager owes at `now` (UTC): those whose deadline day has come."""
    if not owes_plans(owner):
        return []
    zone = user_zone(owner)
    today = periods.today_for(owner, now)
    monday = periods.starts_on_for(PlanKind.WEEK, today)
    candidates = (
        (PlanKind.WEEK, monday),
        (PlanKind.WEEK, monday + timedelta(days=7)),
        (PlanKind.MONTH, periods.starts_on_for(PlanKind.MONTH, today)),
    )
    result = []
    for kind, starts_on in candidates:
        due_at = periods.deadline(kind, starts_on, owner)
        if due_at.astimezone(zone).date() > today:
            continue  # its deadline day has not come yet
        if owner.created_at is not None and due_at <= owner.created_at:
            continue  # due before the manager was here
        result.append(Owed(kind, starts_on, due_at))
    return result


def standing(owners: list[User], now: datetime) -> dict[int, Standing]:
    """{owner id: Standing} for many managers in one query (the digests' and their tests')."""
    if not owners:
        return {}
    dues = {owner.id: owed(owner, now) for owner in owners}
    starts = {due.starts_on for owner_dues in dues.values() for due in owner_dues}
    plans = db.session.scalars(
        select(WorkPlan)
        .where(
            WorkPlan.owner_id.in_([owner.id for owner in owners]),
            or_(
                WorkPlan.starts_on.in_(starts),
                WorkPlan.status.in_((PlanStatus.RETURNED, PlanStatus.SUBMITTED)),
            ),
        )
        .order_by(WorkPlan.starts_on, WorkPlan.kind, WorkPlan.id)
    )
    found: dict[tuple[int, PlanKind, date], WorkPlan] = {}
    result: dict[int, Standing] = defaultdict(Standing)
    for plan in plans:
        found[(plan.owner_id, plan.kind, plan.starts_on)] = plan
        if plan.status is PlanStatus.RETURNED:
            result[plan.owner_id].returned.append(plan)
        elif plan.status is PlanStatus.SUBMITTED:
            result[plan.owner_id].awaiting_review.append(plan)
    for owner in owners:
        line = result[owner.id]
        for due in dues[owner.id]:
            plan = found.get((owner.id, due.kind, due.starts_on))
            if plan is not None and plan.status is not PlanStatus.DRAFT:
                continue  # handed in, or returned (listed apart)
            line.missing.append(MissingPlan(owner, due, now > due.due_at, plan))
    return {owner.id: result[owner.id] for owner in owners}
