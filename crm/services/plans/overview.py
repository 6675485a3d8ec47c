"""The plans page (/plans/): my weeks and months, my recent plans, the team's weekly plans.

Every list goes through the scope registry (`scoped(WorkPlan, viewer)`): a manager sees
their own plans, a supervisor also their team's, an admin everybody's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import scoped
from crm.services.people import users as user_service
from crm.services.plans import periods
from models import PlanKind, User, WorkPlan

RECENT_LIMIT = 12
# An admin's page lists the latest plans of everybody, not a table of every manager.
LATEST_LIMIT = 30


@dataclass(frozen=True)
class PeriodCard:
    """One of my periods (this week, next week, this month, next month) and its plan."""

    kind: PlanKind
    starts_on: date
    key: str
    plan: WorkPlan | None
    deadline: datetime


@dataclass(frozen=True)
class TeamRow:
    member: User
    plans: dict[date, WorkPlan | None]  # by Monday


def my_periods(user: User, *, today: date | None = None) -> list[PeriodCard]:
    """This and next week, this and next month, each with my plan for it (one query)."""
    today = today or periods.today_for(user)
    wanted = []
    for kind in (PlanKind.WEEK, PlanKind.MONTH):
        current = periods.starts_on_for(kind, today)
        wanted += [(kind, current), (kind, periods.following(kind, current))]
    found = {
        (p.kind, p.starts_on): p
        for p in db.session.scalars(
            scoped(WorkPlan, user).where(
                WorkPlan.owner_id == user.id,
                WorkPlan.starts_on.in_({starts_on for _, starts_on in wanted}),
            )
        )
    }
    return [
        PeriodCard(
            kind=kind,
            starts_on=starts_on,
            key=periods.week_key(starts_on)
            if kind is PlanKind.WEEK
            else periods.month_key(starts_on),
            plan=found.get((kind, starts_on)),
            deadline=periods.deadline(kind, starts_on, user),
        )
        for kind, starts_on in wanted
    ]


def recent_plans(user: User, *, limit: int = RECENT_LIMIT) -> list[WorkPlan]:
    """My latest plans, newest period first."""
    return list(
        db.session.scalars(
            scoped(WorkPlan, user)
            .where(WorkPlan.owner_id == user.id)
            .order_by(WorkPlan.starts_on.desc(), WorkPlan.kind)
            .limit(limit)
        )
    )


def team_weeks(viewer: User, mondays: list[date]) -> list[TeamRow]:
    """A supervisor's team members with their weekly plans for the given Mondays.

    Two queries: the people in the viewer's scope, their plans for those weeks.
    """
    if not viewer.is_supervisor:
        return []
    members = [
        m
        for m in user_service.people_in_scope(viewer=viewer, active_only=True)
        if m.id != viewer.id
    ]
    if not members:
        return []
    plans = db.session.scalars(
        scoped(WorkPlan, viewer).where(
            WorkPlan.kind == PlanKind.WEEK,
            WorkPlan.starts_on.in_(mondays),
            WorkPlan.owner_id.in_([m.id for m in members]),
        )
    )
    by_owner: dict[tuple[int, date], WorkPlan] = {(p.owner_id, p.starts_on): p for p in plans}
    return [
        TeamRow(member=m, plans={monday: by_owner.get((m.id, monday)) for monday in mondays})
        for m in members
    ]


def latest_plans(viewer: User, *, limit: int = LATEST_LIMIT) -> list[WorkPlan]:
    """The most recently changed plans in the viewer's scope (an admin's overview)."""
    return list(db.session.scalars(latest_plans_query(viewer, limit=limit)))


def latest_plans_query(viewer: User, *, limit: int = LATEST_LIMIT) -> Select:
    """Read in the order of the index on (updated_at, id): an admin's scope is every plan."""
    return (
        scoped(WorkPlan, viewer)
        .options(joinedload(WorkPlan.owner))
        .order_by(WorkPlan.updated_at.desc(), WorkPlan.id.desc())
        .limit(limit)
    )
