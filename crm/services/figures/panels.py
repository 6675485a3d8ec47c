"""What the customer page and the figures page show of a customer's business figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, with_expression

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import scoped
from crm.services.figures.months import add_months, months_ending
from models import Customer, MonthlyFigure, User

# A year and the month before it: each month beside the same month a year earlier.
CHART_MONTHS = 13


def change_percent(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """How much `now` rose (fell) against `before`, in percent to one decimal place."""
    if now is None or not before:
        return None
    return ((now - before) * 100 / before).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class FigureSummary:
    """The customer page's line: the last month billed, against the month before."""

    month: date
    revenue: Decimal
    change: Decimal | None  # against the month before, in percent
    trend: Decimal | None  # Customer.revenue_trend: three months against the three before


def _newest(column, skip: int):
    """The customer's `column` of its newest month but `skip` (a correlated subquery)."""
    figure = aliased(MonthlyFigure)
    return (
        select(getattr(figure, column))
        .where(figure.customer_id == Customer.id)
        .order_by(figure.month.desc())
        .offset(skip)
        .limit(1)
        .scalar_subquery()
    )


# Loader options for the customer page's statement: the summary rides in the customer's
# row (a page at the statement ceiling has none to spare), through the (customer, month) key.
SUMMARY = (
    with_expression(Customer.figures_month, _newest("month", 0)),
    with_expression(Customer.figures_revenue, _newest("revenue", 0)),
    with_expression(Customer.figures_month_before, _newest("month", 1)),
    with_expression(Customer.figures_revenue_before, _newest("revenue", 1)),
)


def customer_summary(customer: Customer) -> FigureSummary | None:
    """The last month billed against the one before, as loaded with SUMMARY (the customer
    was loaded in scope; its own figures are too); None without figures or without SUMMARY."""
    if customer.figures_month is None or customer.figures_revenue is None:
        return None
    before = (
        customer.figures_revenue_before
        if customer.figures_month_before == add_months(customer.figures_month, -1)
        else None
    )
    return FigureSummary(
        customer.figures_month,
        customer.figures_revenue,
        change_percent(customer.figures_revenue, before),
        customer.revenue_trend,
    )


@dataclass(frozen=True)
class MonthLine:
    """One month of the figures page's table: the stored figures (None: none imported)."""

    month: date
    figures: MonthlyFigure | None
    change: Decimal | None  # revenue against the month before, in percent


@dataclass(frozen=True)
class CustomerFigures:
    months: list[MonthLine]  # the oldest first
    year_on_year: Decimal | None  # the last month's revenue against the same month a year before
    twelve_months: Decimal  # revenue of the last twelve months

    @property
    def latest(self) -> MonthLine:
        return self.months[-1]

    @property
    def any(self) -> bool:
        return any(line.figures for line in self.months)


def customer_figures(customer: Customer, *, viewer: User) -> CustomerFigures:
    """The 13 months up to the last month billed (for any customer), each with its figures.

    The window ends at the newest month imported, not at this customer's: a customer
    whose figures stopped (it left) shows the months without any.
    """
    newest = db.session.scalar(select(func.max(MonthlyFigure.month)))
    last = newest or add_months(today_in(user_zone(viewer)).replace(day=1), -1)
    months = months_ending(last, CHART_MONTHS)
    stored = {
        figure.month: figure
        for figure in db.session.scalars(
            scoped(MonthlyFigure, viewer).where(
                MonthlyFigure.customer_id == customer.id,
                MonthlyFigure.month >= months[0],
                MonthlyFigure.month <= last,
            )
        )
    }
    lines, previous = [], None
    for month in months:
        figure = stored.get(month)
        revenue = figure.revenue if figure else None
        lines.append(MonthLine(month, figure, change_percent(revenue, previous)))
        previous = revenue
    first, latest = stored.get(months[0]), stored.get(last)
    return CustomerFigures(
        lines,
        change_percent(latest.revenue if latest else None, first.revenue if first else None),
        sum((line.figures.revenue for line in lines[1:] if line.figures), Decimal(0)),
    )
