"""The plan columns of the supervisor's team table: this week's plan on time, last week's
completion, plans awaiting review.

The home is held to a fixed number of statements whatever the team's size
(tests/test_dashboards.py), so everything these columns need comes in ONE round trip: a
UNION ALL of the managers' plans (this week's, last week's, and every submitted one), the
stored settings (the deadline is a setting: `periods.deadline`), and what last week's
completion is made of (its planned visits, its task counts, the managers' visits in the
week). Every part has the same labelled columns, each filling its own and NULL for the
others'. The completion itself is `matching`'s rule, applied to these rows, so the home
and the plan page never disagree: its handed-over clause, its inputs (`PlannedRow`,
`LoggedRow`) and `completion_of`, the public pieces that `completion_for` (four statements,
too many for the home) is built from. tests/test_plan_team_columns.py compares the two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from crm.extensions import db
from crm.i18n import user_zone
from crm.permissions import scoped
from crm.services import settings
from crm.services.plans import matching, periods
from crm.services.reporting import metrics
from crm.services.reporting.metrics import Period
from models import (
    AppSetting,
    Customer,
    PlanKind,
    PlannedVisit,
    PlanStatus,
    PlanTask,
    User,
    Visit,
    VisitMatch,
    WorkPlan,
)
from models.base import UTCDateTime

# The columns every part of the union has, and their types (NULL is typed too, for
# PostgreSQL). The names say what the plan part puts there; the other parts say below.
COLUMNS = {
    "id": Integer,
    "owner_id": Integer,
    "ref": Integer,
    "customer_id": Integer,
    "other_id": Integer,
    "kind": String,
    "status": String,
    "zone": String,
    "day": Date,
    "at": UTCDateTime(),
}


class OnTime(StrEnum):
    """This week's plan, as the team table shows it: ✓ / late / missing."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"  # none, or a draft never submitted


@dataclass(frozen=True)
class Owner:
    """A plan's manager as the deadline and week rules read them: their time zone."""

    timezone: str | None


@dataclass(frozen=True)
class PlanRef:
    """A plan as the cells need it: what periods' rules read, and its id for the link."""

    id: int
    owner_id: int
    owner: Owner
    kind: PlanKind
    status: PlanStatus
    starts_on: date
    first_submitted_at: datetime | None


@dataclass
class PlanCells:
    """One manager's plan cells; the plans are for the links (None: no plan to open)."""

    this_week: PlanRef | None = None
    on_time: OnTime = OnTime.MISSING
    last_week: PlanRef | None = None
    completion: matching.Completion | None = None
    awaiting_review: int = 0


def plan_cells(viewer: User, managers: list[User], monday: date) -> dict[int, PlanCells]:
    """{manager id: PlanCells} for the week starting on `monday` (the viewer's this week)."""
    cells = {m.id: PlanCells() for m in managers}
    if not cells:
        return cells
    ids = list(cells)
    last_monday = monday - timedelta(days=7)
    weeks = _last_weeks(managers, last_monday)
    # Last week's plans, as a subquery four parts read: built once (the scope clause
    # and the statement's construction were a good part of the home's cost).
    last_week = _last_week_plans(viewer, ids, last_monday)
    in_week = _in_their_week(weeks)
    rows = db.session.execute(
        _plans(viewer, ids, monday, last_monday).union_all(
            _settings(),
            _planned(last_week),
            _tasks(last_week),
            _visits(last_week, in_week),
            _visit_counts(in_week),
        )
    ).all()

    settings.remember_stored({row.kind: row.status for row in rows if row.part == "setting"})
    for row in rows:
        if row.part != "plan":
            continue
        plan = PlanRef(
            row.id,
            row.owner_id,
            Owner(row.zone),
            PlanKind(row.kind),
            PlanStatus(row.status),
            row.day,
            row.at,
        )
        line = cells[plan.owner_id]
        if plan.status is PlanStatus.SUBMITTED:
            line.awaiting_review += 1
        if plan.kind is PlanKind.WEEK and plan.starts_on == monday:
            line.this_week = plan
            on_time = periods.submitted_on_time(plan)  # type: ignore[arg-type]
            line.on_time = {True: OnTime.ON_TIME, False: OnTime.LATE}.get(on_time, OnTime.MISSING)
        elif plan.kind is PlanKind.WEEK and plan.starts_on == last_monday:
            line.last_week = plan
    _completions(cells, rows)
    return cells


# The parts of the union ---------------------------------------------------------------


@cache
def _nulls() -> dict[str, Any]:
    """Each column's typed NULL, labelled: built once, shared by every part that has none.

    (A function, not a module constant: the import-time guard reads `.label(...)` at module
    level as a translated label.)
    """
    return {name: cast(null(), kind).label(name) for name, kind in COLUMNS.items()}


def _row(part: str, **columns) -> Select:
    """A SELECT of every column of the union, a typed NULL where the part has none."""
    nulls = _nulls()
    return select(
        literal(part).label("part"),
        *(columns[name].label(name) if name in columns else nulls[name] for name in COLUMNS),
    )


def _plans(viewer: User, ids: list[int], monday: date, last_monday: date) -> Select:
    """The managers' weekly plans of this and last week, and every submitted plan."""
    columns = _row(
        "plan",
        id=WorkPlan.id,
        owner_id=WorkPlan.owner_id,
        kind=cast(WorkPlan.kind, String),
        status=cast(WorkPlan.status, String),
        zone=User.timezone,
        day=WorkPlan.starts_on,
        at=WorkPlan.first_submitted_at,
    ).selected_columns
    return (
        scoped(WorkPlan, viewer)
        .with_only_columns(*columns)
        .join(User, User.id == WorkPlan.owner_id)
        .where(
            WorkPlan.owner_id.in_(ids),
            or_(
                and_(WorkPlan.kind == PlanKind.WEEK, WorkPlan.starts_on.in_((monday, last_monday))),
                WorkPlan.status == PlanStatus.SUBMITTED,
            ),
        )
    )


def _settings() -> Select:
    """The stored settings, read by the deadline rule (`settings.remember_stored`).

    kind: the key; status: the stored text."""
    key, value = AppSetting.key, cast(AppSetting.value, String)
    return _row("setting", kind=key, status=value).select_from(AppSetting)


def _last_week_plans(viewer: User, ids: list[int], last_monday: date) -> Select:
    return (
        scoped(WorkPlan, viewer)
        .with_only_columns(WorkPlan.id)
        .where(
            WorkPlan.owner_id.in_(ids),
            WorkPlan.kind == PlanKind.WEEK,
            WorkPlan.starts_on == last_monday,
        )
    )


def _planned(last_week: Select) -> Select:
    """Last week's planned visits, and whether a handover took each one's customer away
    (matching's own clause, so the home counts handed-over visits as the plan page does).

    id: the planned visit; owner_id: its PLAN; ref: 1 when handed away; other_id: the
    visit linked by hand; kind: how it matches; day: its day."""
    return (
        _row(
            "planned",
            id=PlannedVisit.id,
            owner_id=PlannedVisit.plan_id,
            ref=cast(matching.handed_away_clause(), Integer),
            customer_id=PlannedVisit.customer_id,
            other_id=PlannedVisit.visit_id,
            kind=cast(PlannedVisit.match, String),
            day=PlannedVisit.day,
        )
        .select_from(PlannedVisit)
        .join(Customer, Customer.id == PlannedVisit.customer_id)
        .join(WorkPlan, WorkPlan.id == PlannedVisit.plan_id)
        .where(PlannedVisit.plan_id.in_(last_week))
    )


def _tasks(last_week: Select) -> Select:
    """Last week's tasks per plan. id: the plan; ref: how many; other_id: how many ticked."""
    return (
        _row(
            "tasks",
            id=PlanTask.plan_id,
            ref=func.count(),
            other_id=func.count().filter(PlanTask.done.is_(True)),
        )
        .select_from(PlanTask)
        .where(PlanTask.plan_id.in_(last_week))
        .group_by(PlanTask.plan_id)
    )


def _last_weeks(managers: list[User], last_monday: date) -> dict[str, tuple[list[int], Period]]:
    """{time zone: (its managers' ids, last week in that zone)}: a week is the manager's own."""
    weeks: dict[str, tuple[list[int], Period]] = {}
    for manager in managers:
        zone = user_zone(manager)
        ids, _ = weeks.setdefault(zone.key, ([], metrics.week_of(last_monday, zone)))
        ids.append(manager.id)
    return weeks


def _in_their_week(weeks: dict[str, tuple[list[int], Period]]) -> ColumnElement[bool]:
    """SQL: a visit falls in its manager's own last week."""
    return or_(
        *(
            and_(
                Visit.user_id.in_(ids),
                Visit.occurred_at >= week.start,
                Visit.occurred_at < week.end,
            )
            for ids, week in weeks.values()
        )
    )


def _visits(last_week: Select, in_week: ColumnElement[bool]) -> Select:
    """The managers' visits in their last week that may carry a planned visit: to a planned
    customer, or linked by hand. The others only count (_visit_counts): a busy team logs
    thousands a week, and the home needs none of them one by one.

    id: the visit; owner_id: who logged it; customer_id; at: when it happened."""
    planned = (
        select(PlannedVisit.customer_id)
        .where(PlannedVisit.plan_id.in_(last_week))
        .scalar_subquery()
    )
    linked = (
        select(PlannedVisit.visit_id)
        .where(PlannedVisit.plan_id.in_(last_week), PlannedVisit.visit_id.is_not(None))
        .scalar_subquery()
    )
    return (
        _row(
            "visit",
            id=Visit.id,
            owner_id=Visit.user_id,
            customer_id=Visit.customer_id,
            at=Visit.occurred_at,
        )
        .select_from(Visit)
        .where(in_week, or_(Visit.customer_id.in_(planned), Visit.id.in_(linked)))
    )


def _visit_counts(in_week: ColumnElement[bool]) -> Select:
    """How many visits each manager logged in their last week. owner_id: who; ref: how many."""
    return (
        _row("visits", owner_id=Visit.user_id, ref=func.count())
        .select_from(Visit)
        .where(in_week)
        .group_by(Visit.user_id)
    )


# Reading the rows back -----------------------------------------------------------------


def _completions(cells: dict[int, PlanCells], rows: list) -> None:
    """Last week's completion per manager: matching's rule (`match_visits`, `completion_of`)
    on the rows fetched with the others', shaped as its own inputs."""
    planned: dict[int, list[matching.PlannedRow]] = defaultdict(list)
    tasks: dict[int, tuple[int, int]] = {}
    visits: dict[int, list[matching.LoggedRow]] = defaultdict(list)
    counts: dict[int, int] = {}
    for row in rows:
        if row.part == "planned":  # owner_id holds the plan's id (see _planned)
            planned[row.owner_id].append(
                matching.PlannedRow(
                    row.id,
                    row.customer_id,
                    row.day,
                    VisitMatch(row.kind),
                    row.other_id,
                    bool(row.ref),
                )
            )
        elif row.part == "tasks":
            tasks[row.id] = (row.ref, row.other_id or 0)
        elif row.part == "visit":
            visits[row.owner_id].append(matching.LoggedRow(row.id, row.customer_id, row.at))
        elif row.part == "visits":
            counts[row.owner_id] = row.ref
    for line in cells.values():
        plan = line.last_week
        if plan is None:
            continue
        # The visits came already cut to the manager's own week (_in_their_week).
        logged = visits[plan.owner_id]
        matched = matching.match_visits(planned[plan.id], logged)
        line.completion = matching.completion_of(
            planned[plan.id], matched, counts.get(plan.owner_id, 0), tasks.get(plan.id, (0, 0))
        )
