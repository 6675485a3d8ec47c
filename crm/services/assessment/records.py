"""The records behind one line of a manager's sheet: what a figure on the scorecard counts.

Each indicator lists its own records, within the viewer's scope, as the computation
counted them: the portfolio's customers with their figures this period and last (the
largest fall first), the complaints that cost points, the visits counted, the
opportunities, the weekly plans. A `Records` is columns and rows, so one page shows any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from crm.extensions import db
from crm.permissions import customer_scope, scoped
from crm.services.activity.cadence import cadence_days
from crm.services.assessment import catalog
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.plans import matching
from crm.services.reporting.plans import plan_starts
from crm.services.reporting.reports import KEY_TIERS
from models import (
    Customer,
    CustomerStatus,
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

LIMIT = 500  # rows a page lists; the sheet's figure counts them all


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    kind: str  # text, money, number, percent, change, date, datetime, bool


@dataclass
class Records:
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False  # more rows than LIMIT: the list is cut


def _sum(value, condition):
    return func.sum(case((condition, value)))


def _change(now: Decimal | None, last: Decimal | None) -> Decimal | None:
    if now is None and last is None:
        return None
    return (now or Decimal(0)) - (last or Decimal(0))


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def portfolio(period: AssessmentPeriod, manager: User, viewer: User) -> list[dict[str, Any]]:
    """The manager's customers with figures in the period or the one before, per customer."""
    F = MonthlyFigure
    before = period.previous()
    now, last = F.month >= period.first, F.month < period.first
    known = and_(F.arpu.is_not(None), F.active_lines.is_not(None))
    rows = db.session.execute(
        select(
            Customer.id,
            Customer.name,
            _sum(F.revenue, now).label("revenue_now"),
            _sum(F.revenue, last).label("revenue_last"),
            _sum(F.arpu * F.active_lines, and_(now, known)).label("arpu_lines_now"),
            _sum(F.active_lines, and_(now, known)).label("arpu_base_now"),
            _sum(F.arpu * F.active_lines, and_(last, known)).label("arpu_lines_last"),
            _sum(F.active_lines, and_(last, known)).label("arpu_base_last"),
            _sum(F.key_solution_revenue, now).label("solution"),
            _sum(F.arrears, now).label("due"),
            _sum(F.arrears_recovered, now).label("recovered"),
            _sum(F.lines_lost, now).label("lost"),
            _sum(F.active_lines, F.month == before.last_month).label("lines_before"),
            _sum(F.active_lines, F.month == period.last_month).label("lines_after"),
        )
        .join(Customer, Customer.id == F.customer_id)
        .where(
            Customer.owner_id == manager.id,
            customer_scope(viewer),
            F.month >= before.first,
            F.month <= period.last_month,
        )
        .group_by(Customer.id, Customer.name)
    ).all()
    out = []
    for row in rows:
        values = {k: _dec(getattr(row, k)) for k in row._fields if k not in ("id", "name")}
        out.append(
            {
                **values,
                "customer": row.name,
                "link": ("customers.show", "customer_id", row.id),
                "arpu_now": _ratio(values["arpu_lines_now"], values["arpu_base_now"]),
                "arpu_last": _ratio(values["arpu_lines_last"], values["arpu_base_last"]),
                "revenue_change": _change(values["revenue_now"], values["revenue_last"]),
                "unrecovered": _change(values["due"], values["recovered"]),
                "net_lines": _change(values["lines_after"], values["lines_before"]),
            }
        )
    return out


def _ratio(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (part / whole).quantize(Decimal("0.01"))


def _sorted(rows: list[dict], key: str, *, reverse: bool = False) -> list[dict]:
    """Rows by a figure, those without it last."""
    present = [r for r in rows if r.get(key) is not None]
    absent = [r for r in rows if r.get(key) is None]
    return sorted(present, key=lambda r: r[key], reverse=reverse) + absent


CUSTOMER = Column("customer", _l("Customer"), "text")


def _figures_records(columns: list[Column], key: str, *, reverse: bool = False):
    def build(period: AssessmentPeriod, manager: User, viewer: User) -> Records:
        rows = _sorted(portfolio(period, manager, viewer), key, reverse=reverse)
        return Records([CUSTOMER, *columns], rows[:LIMIT], len(rows) > LIMIT)

    return build


def _opportunities(period: AssessmentPeriod, manager: User, viewer: User, *, which: str) -> Records:
    days = period.days()
    O = Opportunity  # noqa: E741
    at = O.created_at if which == "created" else O.closed_at
    stmt = scoped(Opportunity, viewer).with_only_columns(
        O.id, O.title, O.status, O.amount, at.label("at"), Customer.name
    )
    stmt = stmt.where(O.owner_id == manager.id)
    if which == "created":
        stmt = stmt.where(days.contains(O.created_at))
    else:
        statuses = (OpportunityStatus.WON,)
        if which == "closed":
            statuses = (OpportunityStatus.WON, OpportunityStatus.LOST)
        stmt = stmt.where(O.status.in_(statuses), days.contains(O.closed_at))
    found = db.session.execute(stmt.order_by(at).limit(LIMIT + 1)).all()
    rows = [
        {
            "title": o.title,
            "customer": o.name,
            "status": o.status,
            "amount": o.amount,
            "at": o.at,
            "link": ("opportunities.show", "opportunity_id", o.id),
        }
        for o in found[:LIMIT]
    ]
    columns = [
        Column("title", _l("Opportunity"), "text"),
        CUSTOMER,
        Column("status", _l("Status"), "label"),
        Column("amount", _l("Amount"), "money"),
        Column("at", _l("Created") if which == "created" else _l("Closed"), "datetime"),
    ]
    return Records(columns, rows, len(found) > LIMIT)


def _complaints(period: AssessmentPeriod, manager: User, viewer: User) -> Records:
    T = ServiceTicket
    found = db.session.execute(
        select(T.id, T.title, T.opened_at, T.status, T.customer_id, Customer.name)
        .join(Customer, Customer.id == T.customer_id)
        .where(
            T.owner_id == manager.id,
            T.kind == TicketKind.COMPLAINT,
            period.days().contains(T.opened_at),
            customer_scope(viewer),
        )
        .order_by(T.opened_at)
        .limit(LIMIT + 1)
    ).all()
    rows = [
        {
            "title": row.title,
            "customer": row.name,
            "at": row.opened_at,
            "status": row.status,
            "link": ("service.show", "ticket_id", row.id),
        }
        for row in found[:LIMIT]
    ]
    columns = [
        Column("title", _l("Complaint"), "text"),
        CUSTOMER,
        Column("at", _l("Opened"), "datetime"),
        Column("status", _l("Status"), "label"),
    ]
    return Records(columns, rows, len(found) > LIMIT)


def _visits(period: AssessmentPeriod, manager: User, viewer: User) -> Records:
    found = db.session.execute(
        scoped(Visit, viewer)
        .with_only_columns(Visit.id, Visit.occurred_at, Visit.kind, Visit.purpose, Customer.name)
        .where(Visit.user_id == manager.id, period.days().contains(Visit.occurred_at))
        .order_by(Visit.occurred_at)
        .limit(LIMIT + 1)
    ).all()
    rows = [
        {
            "at": v.occurred_at,
            "customer": v.name,
            "kind": v.kind,
            "purpose": v.purpose,
            "link": ("visits.show", "visit_id", v.id),
        }
        for v in found[:LIMIT]
    ]
    columns = [
        Column("at", _l("When"), "datetime"),
        CUSTOMER,
        Column("kind", _l("Kind"), "label"),
        Column("purpose", _l("Purpose"), "text"),
    ]
    return Records(columns, rows, len(found) > LIMIT)


def _coverage(period: AssessmentPeriod, manager: User, viewer: User) -> Records:
    """A+/A customers, their last visit before the period's end, and whether it was within
    the tier's cadence (the reports' tier coverage)."""
    days = period.days()
    cadences = cadence_days()
    last_visit = (
        select(func.max(Visit.occurred_at))
        .where(Visit.customer_id == Customer.id, Visit.occurred_at < days.end)
        .scalar_subquery()
    )
    found = db.session.execute(
        select(Customer.id, Customer.name, Customer.tier, last_visit.label("last_visit"))
        .where(
            Customer.owner_id == manager.id,
            Customer.tier.in_(KEY_TIERS),
            Customer.status != CustomerStatus.LOST,
            customer_scope(viewer),
        )
        .order_by(Customer.name)
        .limit(LIMIT + 1)
    ).all()
    rows = []
    for row in found[:LIMIT]:
        since = (
            (days.last - row.last_visit.astimezone(days.zone).date()).days
            if row.last_visit
            else None
        )
        rows.append(
            {
                "customer": row.name,
                "tier": row.tier,
                "last_visit": row.last_visit,
                "covered": since is not None and since <= cadences[row.tier],
                "link": ("customers.show", "customer_id", row.id),
            }
        )
    columns = [
        CUSTOMER,
        Column("tier", _l("Tier"), "label"),
        Column("last_visit", _l("Last visit"), "datetime"),
        Column("covered", _l("Within cadence"), "bool"),
    ]
    return Records(columns, rows, len(found) > LIMIT)


def _plans(period: AssessmentPeriod, manager: User, viewer: User) -> Records:
    mondays = plan_starts(PlanKind.WEEK, period.days())
    plans = db.session.scalars(
        scoped(WorkPlan, viewer)
        .where(
            WorkPlan.owner_id == manager.id,
            WorkPlan.kind == PlanKind.WEEK,
            WorkPlan.starts_on.in_(mondays),
        )
        .order_by(WorkPlan.starts_on)
    ).all()
    completion = matching.completion_for(plans)
    rows = []
    for plan in plans:
        done = completion.get(plan.id)
        rows.append(
            {
                "week": plan.starts_on,
                "status": plan.status,
                "submitted": plan.first_submitted_at,
                "planned": done.planned if done else 0,
                "done": done.done if done else 0,
                "link": ("plans.show", "plan_id", plan.id),
            }
        )
    columns = [
        Column("week", _l("Week of"), "date"),
        Column("status", _l("Plan status"), "label"),
        Column("submitted", _l("First handed in"), "datetime"),
        Column("planned", _l("Planned visits"), "number"),
        Column("done", _l("Carried out"), "number"),
    ]
    return Records(columns, rows)


MONEY_NOW = Column("revenue_now", _l("Revenue this period"), "money")
MONEY_LAST = Column("revenue_last", _l("Revenue last period"), "money")

BUILDERS: dict[str, Callable[[AssessmentPeriod, User, User], Records]] = {
    "01": _figures_records(
        [MONEY_NOW, MONEY_LAST, Column("revenue_change", _l("Change"), "change")],
        "revenue_change",
    ),
    "02": _figures_records(
        [
            Column("arpu_now", _l("ARPU this period"), "money"),
            Column("arpu_last", _l("ARPU last period"), "money"),
        ],
        "arpu_now",
    ),
    catalog.BUSINESS_COUNT: _figures_records(
        [
            Column("lines_before", _l("Lines before the period"), "number"),
            Column("lines_after", _l("Lines at its end"), "number"),
            Column("net_lines", _l("Net change"), "change"),
        ],
        "net_lines",
    ),
    "04": _figures_records(
        [MONEY_NOW, Column("solution", _l("Solution revenue"), "money")],
        "revenue_now",
        reverse=True,
    ),
    "05": _figures_records(
        [
            Column("due", _l("Arrears due"), "money"),
            Column("recovered", _l("Recovered"), "money"),
            Column("unrecovered", _l("Still owed"), "money"),
        ],
        "unrecovered",
        reverse=True,
    ),
    catalog.CHURN: _figures_records(
        [
            Column("lost", _l("Lines lost"), "number"),
            Column("lines_before", _l("Lines before the period"), "number"),
        ],
        "lost",
        reverse=True,
    ),
    catalog.SATISFACTION: _complaints,
    "C1": _visits,
    "C2": _coverage,
    "C3": lambda p, m, v: _opportunities(p, m, v, which="created"),
    "C4": lambda p, m, v: _opportunities(p, m, v, which="won"),
    "C5": lambda p, m, v: _opportunities(p, m, v, which="closed"),
    "C6": _plans,
    "C7": _plans,
}


def records(code: str, period: AssessmentPeriod, manager: User, viewer: User) -> Records:
    return BUILDERS[code](period, manager, viewer)
