"""What a period's sheet is computed from, for many managers at once: set-based SQL.

One grouped statement per source, over every manager in view (GROUP BY owner), so the
computation of a thousand managers runs the same statements as that of one team:

- business figures (MonthlyFigure) of each manager's current portfolio, this period and
  the one before: like for like, so a customer handed over moves its history with it
  and a handover makes no growth of its own;
- complaints (ServiceTicket, kind complaint) opened in the period, by the manager
  answerable for them (the ticket's owner);
- visits logged, opportunities created, won and lost, A+/A coverage within cadence (the
  reports' own query), weekly plans handed in on time and planned visits carried out (the
  plan pages' matching).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import load_only

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.plans import matching
from crm.services.plans import periods as plan_periods
from crm.services.reporting import metrics, reports
from crm.services.reporting.plans import plan_starts
from models import (
    Customer,
    MonthlyFigure,
    Opportunity,
    OpportunityStatus,
    PlanKind,
    ServiceTicket,
    TicketKind,
    User,
    Visit,
    WorkPlan,
)
from models.base import utcnow


@dataclass
class Inputs:
    """One manager's raw figures for a period (None: no figures at all)."""

    revenue_now: Decimal | None = None
    revenue_last: Decimal | None = None
    arpu_lines_now: Decimal | None = None  # Σ ARPU × lines: ARPU weighted by lines
    arpu_base_now: Decimal | None = None  # Σ lines where the ARPU is known
    arpu_lines_last: Decimal | None = None
    arpu_base_last: Decimal | None = None
    solution_now: Decimal | None = None
    arrears_due: Decimal | None = None
    arrears_recovered: Decimal | None = None
    lines_before: int | None = None  # in use at the end of the month before the period
    lines_after: int | None = None  # in use at the end of the period's last month
    lines_lost: int | None = None
    complaints: int = 0
    visits: int = 0
    key_customers: int = 0
    covered: int = 0
    entered: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)
    plans_due: int = 0
    plans_on_time: int = 0
    planned: int = 0
    planned_done: int = 0

    @property
    def arpu_now(self) -> Decimal | None:
        return _divide(self.arpu_lines_now, self.arpu_base_now)

    @property
    def arpu_last(self) -> Decimal | None:
        return _divide(self.arpu_lines_last, self.arpu_base_last)


def _divide(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (part / whole).quantize(Decimal("0.01"))


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _int(value) -> int | None:
    return None if value is None else int(value)


def gather(
    period: AssessmentPeriod,
    managers: list[User],
    *,
    everyone: bool = False,
    now: datetime | None = None,
    plans_of: set[int] | None = None,
) -> dict[int, Inputs]:
    """Each manager's inputs. `everyone`: the managers are every manager there is, so the
    statements need no id list (the scheduler's computation of the whole organisation).
    `plans_of`: the managers whose weekly plans count (their level assesses them; matching
    plans to visits is the costliest part); None: everyone's."""
    found = {m.id: Inputs() for m in managers}
    if not found:
        return found
    ids = None if everyone else list(found)
    days = period.days()
    _figures(period, ids, found)
    _complaints(days, ids, found)
    _visits(days, ids, found)
    _opportunities(days, ids, found)
    for row in reports.tier_coverage(reports.lines_for(managers), days):
        found[row.line.id].key_customers = row.key_customers
        found[row.line.id].covered = row.covered
    planners = managers if plans_of is None else [m for m in managers if m.id in plans_of]
    if planners:
        _plans(days, planners, found, now or utcnow())
    return found


def _among(column, ids: list[int] | None) -> ColumnElement[bool]:
    return column.in_(ids) if ids is not None else column.is_not(None)


def _sum(value, condition) -> ColumnElement:
    return func.sum(case((condition, value)))


def _figures(period: AssessmentPeriod, ids: list[int] | None, found: dict[int, Inputs]) -> None:
    F = MonthlyFigure
    before = period.previous()
    now, last = F.month >= period.first, F.month < period.first
    known = and_(F.arpu.is_not(None), F.active_lines.is_not(None))
    stmt = (
        select(
            Customer.owner_id,
            _sum(F.revenue, now).label("revenue_now"),
            _sum(F.revenue, last).label("revenue_last"),
            _sum(F.arpu * F.active_lines, and_(now, known)).label("arpu_lines_now"),
            _sum(F.active_lines, and_(now, known)).label("arpu_base_now"),
            _sum(F.arpu * F.active_lines, and_(last, known)).label("arpu_lines_last"),
            _sum(F.active_lines, and_(last, known)).label("arpu_base_last"),
            _sum(F.key_solution_revenue, now).label("solution_now"),
            _sum(F.arrears, now).label("arrears_due"),
            _sum(F.arrears_recovered, now).label("arrears_recovered"),
            _sum(F.lines_lost, now).label("lines_lost"),
            _sum(F.active_lines, F.month == before.last_month).label("lines_before"),
            _sum(F.active_lines, F.month == period.last_month).label("lines_after"),
        )
        .join(Customer, Customer.id == F.customer_id)
        .where(
            F.month >= before.first, F.month <= period.last_month, _among(Customer.owner_id, ids)
        )
        .group_by(Customer.owner_id)
    )
    for row in db.session.execute(stmt):
        inputs = found.get(row.owner_id)
        if inputs is None:  # a customer of someone not assessed (a supervisor's own)
            continue
        inputs.revenue_now, inputs.revenue_last = _dec(row.revenue_now), _dec(row.revenue_last)
        inputs.arpu_lines_now, inputs.arpu_base_now = (
            _dec(row.arpu_lines_now),
            _dec(row.arpu_base_now),
        )
        inputs.arpu_lines_last = _dec(row.arpu_lines_last)
        inputs.arpu_base_last = _dec(row.arpu_base_last)
        inputs.solution_now = _dec(row.solution_now)
        inputs.arrears_due, inputs.arrears_recovered = (
            _dec(row.arrears_due),
            _dec(row.arrears_recovered),
        )
        inputs.lines_lost = _int(row.lines_lost)
        inputs.lines_before, inputs.lines_after = _int(row.lines_before), _int(row.lines_after)


def _complaints(days: metrics.Period, ids: list[int] | None, found: dict[int, Inputs]) -> None:
    T = ServiceTicket
    for owner_id, count in db.session.execute(
        select(T.owner_id, func.count())
        .where(T.kind == TicketKind.COMPLAINT, days.contains(T.opened_at), _among(T.owner_id, ids))
        .group_by(T.owner_id)
    ):
        if owner_id in found:
            found[owner_id].complaints = count


def _visits(days: metrics.Period, ids: list[int] | None, found: dict[int, Inputs]) -> None:
    for user_id, count in db.session.execute(
        select(Visit.user_id, func.count())
        .where(days.contains(Visit.occurred_at), _among(Visit.user_id, ids))
        .group_by(Visit.user_id)
    ):
        if user_id in found:
            found[user_id].visits = count


def _opportunities(days: metrics.Period, ids: list[int] | None, found: dict[int, Inputs]) -> None:
    O = Opportunity  # noqa: E741
    closed = days.contains(O.closed_at)
    won = and_(O.status == OpportunityStatus.WON, closed)
    lost = and_(O.status == OpportunityStatus.LOST, closed)
    for row in db.session.execute(
        select(
            O.owner_id,
            metrics.count_where(days.contains(O.created_at)).label("entered"),
            metrics.count_where(won).label("won"),
            metrics.count_where(lost).label("lost"),
            metrics.amount_sum(won).label("won_amount"),
        )
        .where(_among(O.owner_id, ids))
        .group_by(O.owner_id)
    ):
        inputs = found.get(row.owner_id)
        if inputs is not None:
            inputs.entered, inputs.won, inputs.lost = int(row.entered), int(row.won), int(row.lost)
            inputs.won_amount = metrics.money(row.won_amount)


def _plans(
    days: metrics.Period, managers: list[User], found: dict[int, Inputs], now: datetime
) -> None:
    """Weekly plans of the weeks that begin in the period: handed in by their deadline, and
    their planned visits carried out (the plan pages' own matching)."""
    mondays = plan_starts(PlanKind.WEEK, days)
    deadlines: dict[tuple[object, str], datetime] = {}

    def deadline(monday, manager: User) -> datetime:
        key = (monday, str(user_zone(manager)))
        if key not in deadlines:  # once per week and zone, not per plan: settings are read
            deadlines[key] = plan_periods.deadline(PlanKind.WEEK, monday, manager)
        return deadlines[key]

    by_id = {m.id: m for m in managers}
    plans = list(
        db.session.scalars(
            select(WorkPlan)
            .options(
                load_only(
                    WorkPlan.owner_id,
                    WorkPlan.kind,
                    WorkPlan.starts_on,
                    WorkPlan.first_submitted_at,
                )
            )
            .where(
                WorkPlan.kind == PlanKind.WEEK,
                WorkPlan.starts_on.in_(mondays),
                WorkPlan.owner_id.in_(list(by_id)),
            )
        )
    )
    for manager in managers:
        found[manager.id].plans_due = sum(
            1 for monday in mondays if deadline(monday, manager) < now
        )
    for plan in plans:
        owner = by_id[plan.owner_id]
        due = deadline(plan.starts_on, owner)
        if due < now and plan.first_submitted_at is not None and plan.first_submitted_at <= due:
            found[owner.id].plans_on_time += 1
    owners = {plan.id: plan.owner_id for plan in plans}
    for plan_id, completion in matching.completion_for(plans).items():
        inputs = found[owners[plan_id]]
        inputs.planned += completion.planned
        inputs.planned_done += completion.done
