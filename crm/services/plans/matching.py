"""A weekly plan against what happened: which logged visit carried out which planned visit.

The visits that count are those logged BY THE PLAN'S MANAGER with `occurred_at` in the
plan's week, in the manager's time zone (`periods.period_of(plan)`). Each visit carries
at most one planned visit:

- MANUAL: the visit the manager linked, while it is still theirs and in the week;
- NONE: no visit (the manager said none carried it out);
- AUTO: the earliest visit to the same customer in the week not used already.

MANUAL links are served first, then the AUTO planned visits in the order of their days.
Visits left over are the week's unplanned visits.

A planned visit whose customer a handover has since taken from the plan's manager (to
someone else), and that the plan's manager did not carry out, is "handed over": it is
no longer theirs to do, so it is left out of the completion (the new owner gets it as a
suggestion). A supervisor's plan may name a team member's customer: not handed over.

For many plans at once (the supervisor's home, the review queue, reports) use
`completion_for(plans)`: a fixed number of queries, whatever the number of plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.i18n import user_zone
from crm.permissions import MAX_RECORD_ID
from crm.services.errors import DomainError
from crm.services.plans import lifecycle, periods
from crm.services.plans.week import CHANGE_MATCH
from crm.services.reporting.metrics import Period
from models import (
    Customer,
    HandoverCustomer,
    PlanKind,
    PlannedVisit,
    PlanTask,
    User,
    Visit,
    VisitMatch,
    WorkPlan,
)

# The result -------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """How much of a weekly plan was done.

    `planned`: planned visits still the manager's to do (handed-over ones not carried out
    are left out); `done`: those carried out by a logged visit; `unplanned`: the manager's
    other visits in the week; `tasks_done` of `tasks` ticked.
    """

    planned: int
    done: int
    unplanned: int
    tasks: int
    tasks_done: int
    handed_over: int = 0

    @property
    def ratio(self) -> float | None:
        """Done ÷ planned (0.0–1.0), None when nothing was planned."""
        return self.done / self.planned if self.planned else None

    @property
    def percent(self) -> int | None:
        return None if self.ratio is None else round(self.ratio * 100)


@dataclass(frozen=True)
class PlannedOutcome:
    """One planned visit and the visit that carried it out (None: not carried out)."""

    planned: PlannedVisit
    visit: Visit | None
    handed_over: bool  # the customer is another manager's now, and it was not carried out

    @property
    def done(self) -> bool:
        return self.visit is not None


@dataclass(frozen=True)
class PlanVsActual:
    plan: WorkPlan
    outcomes: list[PlannedOutcome]
    unplanned: list[Visit]
    completion: Completion

    def candidates(self, planned: PlannedVisit) -> list[Visit]:
        """The visits the manager may link to this planned visit: same customer, in the week."""
        return [v for v in self.visits if v.customer_id == planned.customer_id]

    @property
    def visits(self) -> list[Visit]:
        done = [o.visit for o in self.outcomes if o.visit is not None]
        return sorted([*done, *self.unplanned], key=lambda v: (v.occurred_at, v.id))


# The matching rule, on plain values -----------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    """A planned visit as the matching rule reads it (also from the home's own query)."""

    id: int
    customer_id: int
    day: date
    match: VisitMatch
    visit_id: int | None
    # A handover took the customer from the plan's manager (and it is not theirs again).
    handed_away: bool = False


@dataclass(frozen=True)
class LoggedRow:
    """A logged visit of the plan's manager in the week."""

    id: int
    customer_id: int
    occurred_at: datetime


def match_visits(
    planned: Sequence[PlannedRow], logged: Sequence[LoggedRow]
) -> dict[int, int | None]:
    """{planned visit id: visit id or None}; `logged` are the manager's visits in the week."""
    by_id = {v.id: v for v in logged}
    used: set[int] = set()
    result: dict[int, int | None] = {p.id: None for p in planned}
    for p in planned:
        if p.match is VisitMatch.MANUAL and p.visit_id in by_id and p.visit_id not in used:
            result[p.id] = p.visit_id
            used.add(p.visit_id)
    in_order = sorted(logged, key=lambda v: (v.occurred_at, v.id))
    for p in sorted(planned, key=lambda p: (p.day, p.id)):
        if p.match is not VisitMatch.AUTO:
            continue
        found = next(
            (v for v in in_order if v.customer_id == p.customer_id and v.id not in used), None
        )
        if found is not None:
            result[p.id] = found.id
            used.add(found.id)
    return result


def completion_of(
    planned: Sequence[PlannedRow],
    matched: dict[int, int | None],
    logged_count: int,
    tasks: tuple[int, int],
) -> Completion:
    handed_over = sum(1 for p in planned if matched[p.id] is None and p.handed_away)
    done = sum(1 for p in planned if matched[p.id] is not None)
    return Completion(
        planned=len(planned) - handed_over,
        done=done,
        unplanned=logged_count - done,
        tasks=tasks[0],
        tasks_done=tasks[1],
        handed_over=handed_over,
    )


# One plan, for its page -----------------------------------------------------------


def week_visits(plan: WorkPlan) -> list[Visit]:
    """The visits the plan's manager logged in the plan's week (their zone), oldest first."""
    week = periods.period_of(plan)
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.user_id == plan.owner_id, week.contains(Visit.occurred_at))
            .options(joinedload(Visit.customer))
            .order_by(Visit.occurred_at, Visit.id)
        )
    )


def plan_vs_actual(plan: WorkPlan) -> PlanVsActual:
    """The weekly plan's planned visits with the visits that carried them out."""
    _ensure_week(plan)
    logged = week_visits(plan)
    planned = plan.visits
    away = _handed_away(plan, [p.customer for p in planned])
    rows = [
        PlannedRow(p.id, p.customer_id, p.day, p.match, p.visit_id, p.customer_id in away)
        for p in planned
    ]
    matched = match_visits(rows, [LoggedRow(v.id, v.customer_id, v.occurred_at) for v in logged])
    by_id = {v.id: v for v in logged}
    tasks = (len(plan.tasks), sum(1 for t in plan.tasks if t.done))
    completion = completion_of(rows, matched, len(logged), tasks)
    used = {v for v in matched.values() if v is not None}
    outcomes = [
        PlannedOutcome(
            planned=p,
            visit=by_id.get(matched[row.id]),
            handed_over=matched[row.id] is None and row.handed_away,
        )
        for p, row in zip(planned, rows, strict=True)
    ]
    return PlanVsActual(
        plan=plan,
        outcomes=outcomes,
        unplanned=[v for v in logged if v.id not in used],
        completion=completion,
    )


def _handed_away(plan: WorkPlan, customers: Sequence[Customer]) -> set[int]:
    """Ids of the customers a handover took from the plan's manager, now someone else's.

    (A supervisor's plan may name a team member's customer: not handed over.)"""
    elsewhere = {c.id for c in customers if c.owner_id != plan.owner_id}
    if not elsewhere:
        return set()
    return set(
        db.session.scalars(
            select(HandoverCustomer.customer_id).where(
                HandoverCustomer.from_owner_id == plan.owner_id,
                HandoverCustomer.customer_id.in_(elsewhere),
            )
        )
    )


def handed_away_clause():
    """SQL for a planned-visits query joined to WorkPlan and Customer: the customer was
    handed away from the plan's manager (the team table folds it into its one query)."""
    return and_(
        Customer.owner_id != WorkPlan.owner_id,
        exists().where(
            HandoverCustomer.customer_id == PlannedVisit.customer_id,
            HandoverCustomer.from_owner_id == WorkPlan.owner_id,
        ),
    )


def _ensure_week(plan: WorkPlan) -> None:
    if plan.kind is not PlanKind.WEEK:
        raise ValueError("plan vs actual visits is for weekly plans")


# Many plans at once ---------------------------------------------------------------


def completion_for(plans: Iterable[WorkPlan]) -> dict[int, Completion]:
    """{plan id: Completion} of the WEEKLY plans given (monthly ones are left out).

    Four queries whatever the number of plans: the owners (for their time zones), the
    planned visits (and whether a handover took each customer away), the task counts,
    and the owners' visits in their plans' weeks (`_in_plan_weeks`). Call it
    with the plans a page shows (the supervisor's home: last week's plans of the team;
    the review queue).
    """
    weekly = [p for p in plans if p.kind is PlanKind.WEEK]
    if not weekly:
        return {}
    plan_ids = [p.id for p in weekly]
    owner_ids = sorted({p.owner_id for p in weekly})
    # Loads the owners into the session: plan.owner below then costs no query.
    owners = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(owner_ids)))}
    planned_rows = db.session.execute(
        select(
            PlannedVisit.id,
            PlannedVisit.plan_id,
            PlannedVisit.customer_id,
            PlannedVisit.day,
            PlannedVisit.match,
            PlannedVisit.visit_id,
            handed_away_clause().label("handed_away"),
        )
        .join(Customer, Customer.id == PlannedVisit.customer_id)
        .join(WorkPlan, WorkPlan.id == PlannedVisit.plan_id)
        .where(PlannedVisit.plan_id.in_(plan_ids))
    ).all()
    task_rows = db.session.execute(
        select(
            PlanTask.plan_id,
            func.count().label("total"),
            func.count().filter(PlanTask.done.is_(True)).label("done"),
        )
        .where(PlanTask.plan_id.in_(plan_ids))
        .group_by(PlanTask.plan_id)
    ).all()
    weeks = {p.id: periods.period(p.kind, p.starts_on, owners[p.owner_id]) for p in weekly}
    visit_rows = db.session.execute(
        select(Visit.id, Visit.user_id, Visit.customer_id, Visit.occurred_at).where(
            _in_plan_weeks(weekly, weeks)
        )
    ).all()

    planned_by_plan: dict[int, list[PlannedRow]] = defaultdict(list)
    for row in planned_rows:
        planned_by_plan[row.plan_id].append(
            PlannedRow(
                row.id,
                row.customer_id,
                row.day,
                VisitMatch(row.match),
                row.visit_id,
                bool(row.handed_away),
            )
        )
    tasks = {row.plan_id: (row.total, row.done or 0) for row in task_rows}
    visits_by_user: dict[int, list[LoggedRow]] = defaultdict(list)
    for row in visit_rows:
        visits_by_user[row.user_id].append(LoggedRow(row.id, row.customer_id, row.occurred_at))

    result = {}
    for plan in weekly:
        start, end = weeks[plan.id].start, weeks[plan.id].end  # properties: once per plan
        logged = [v for v in visits_by_user[plan.owner_id] if start <= v.occurred_at < end]
        planned = planned_by_plan[plan.id]
        matched = match_visits(planned, logged)
        result[plan.id] = completion_of(planned, matched, len(logged), tasks.get(plan.id, (0, 0)))
    return result


# An OR of more ranges than this is read as one span: SQLite parses a chain of ORs as a
# tree a thousand deep at most, and a page's plans (the review queue) need far fewer.
MAX_WEEK_TERMS = 100


def _in_plan_weeks(plans: list[WorkPlan], weeks: dict[int, Period]) -> ColumnElement[bool]:
    """SQL: a visit of a plan's manager in that plan's week, and no other.

    Not one range from the first week to the last: an admin's review queue, oldest first,
    may hold a week of last year beside this week's, and every visit of every manager
    between them was read. Each manager's weeks are merged where they touch (a report's
    run of weeks is one range), and managers with the same ranges share one IN list.
    """
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for plan in plans:
        spans[plan.owner_id].append((weeks[plan.id].start, weeks[plan.id].end))
    owners_of: dict[tuple, list[int]] = defaultdict(list)
    for owner_id, ranges in spans.items():
        owners_of[tuple(_merged(ranges))].append(owner_id)
    if sum(len(ranges) for ranges in owners_of) > MAX_WEEK_TERMS:
        # Too many to spell out (a report over many managers who each missed other
        # weeks): the span from the first week to the last, as before.
        return and_(
            Visit.user_id.in_(sorted(spans)),
            Visit.occurred_at >= min(start for start, _ in chain(*spans.values())),
            Visit.occurred_at < max(end for _, end in chain(*spans.values())),
        )
    return or_(
        *(
            and_(
                Visit.user_id.in_(sorted(owner_ids)),
                Visit.occurred_at >= start,
                Visit.occurred_at < end,
            )
            for ranges, owner_ids in owners_of.items()
            for start, end in ranges
        )
    )


def _merged(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Half-open ranges, sorted, those that touch or overlap joined into one."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# Linking by hand ------------------------------------------------------------------


def _visit_label(visit: Visit, owner: User) -> str:
    return visit.occurred_at.astimezone(user_zone(owner)).strftime("%m-%d %H:%M")


def _planned_label(planned: PlannedVisit) -> str:
    return f"{planned.day:%m-%d} {planned.customer.name}"


def _match_text(planned: PlannedVisit, owner: User) -> str:
    if planned.match is VisitMatch.MANUAL and planned.visit is not None:
        return f"{_planned_label(planned)} ⇄ {_visit_label(planned.visit, owner)}"
    if planned.match is VisitMatch.NONE:
        return f"{_planned_label(planned)} ✗"
    return f"{_planned_label(planned)} ⇄"


def link_visit(planned: PlannedVisit, visit: Visit | int, *, actor: User) -> PlannedVisit:
    """The manager says this logged visit carried out the planned visit (MANUAL).

    The visit must be the plan manager's own, in the plan's week, to the same customer,
    and not carried by another planned visit linked by hand already.
    """
    plan = planned.plan
    lifecycle.ensure_editable(plan, actor)
    if not isinstance(visit, Visit):
        number = int(visit)
        visit = db.session.get(Visit, number) if 0 < number <= MAX_RECORD_ID else None
    week = periods.period_of(plan)
    # One message for every other visit: it may be out of the actor's scope.
    if (
        visit is None
        or visit.user_id != plan.owner_id
        or not week.start <= visit.occurred_at < week.end
    ):
        raise DomainError(_l("Choose one of your visits in the plan's week."), field="visit_id")
    if visit.customer_id != planned.customer_id:
        raise DomainError(
            _l("The visit must be to the planned visit's customer."), field="visit_id"
        )
    taken = any(
        other.id != planned.id and other.match is VisitMatch.MANUAL and other.visit_id == visit.id
        for other in plan.visits
    )
    if taken:
        raise DomainError(_l("That visit already carries another planned visit."), field="visit_id")
    return _set_match(planned, VisitMatch.MANUAL, visit, actor)


def unlink_visit(planned: PlannedVisit, *, actor: User) -> PlannedVisit:
    """The manager says no logged visit carried out this planned visit (NONE)."""
    lifecycle.ensure_editable(planned.plan, actor)
    return _set_match(planned, VisitMatch.NONE, None, actor)


def match_automatically(planned: PlannedVisit, *, actor: User) -> PlannedVisit:
    """Back to the automatic match (AUTO): the first visit to the customer in the week."""
    lifecycle.ensure_editable(planned.plan, actor)
    return _set_match(planned, VisitMatch.AUTO, None, actor)


def _set_match(
    planned: PlannedVisit, match: VisitMatch, visit: Visit | None, actor: User
) -> PlannedVisit:
    plan = planned.plan
    old = _match_text(planned, plan.owner)
    planned.match = match
    planned.visit = visit
    planned.visit_id = visit.id if visit is not None else None
    lifecycle.note_change(plan, actor, CHANGE_MATCH, old, _match_text(planned, plan.owner))
    lifecycle.touch(plan)
    db.session.flush()
    return planned
