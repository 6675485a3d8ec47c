"""The revenue trend of each customer: its last three months against the three before.

`Customer.revenue_trend` holds it in percent so that lists show, sort and filter by it
without reading the figures. It is a function of the customer's own figures only, so
an import refreshes it for the customers whose figures it wrote, and a merge for the
survivor: set-based UPDATEs, one per distinct "latest month" (usually one), never a
loop over customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, select, update

from crm.extensions import db
from crm.services.figures.months import add_months
from models import Customer, MonthlyFigure

# Three months against the three before them: a quarter smooths a single odd month.
TREND_MONTHS = 3
# Numeric(7, 2): a customer whose revenue grew from almost nothing shows the ceiling.
TREND_CEILING = Decimal("99999.99")


def refresh_revenue_trends(customer_ids: Select, *, month: date | None = None) -> None:
    """Recompute the trend of the customers `customer_ids` (a SELECT of ids) names.

    The window ends at each customer's latest month with figures. A customer without
    all six months, or without revenue in the earlier three, has no trend (None). The
    UPDATE is a core one: the trend is derived data, so the customer's version (what
    someone editing the profile started from) does not move.

    `month`: every customer named has figures for this month (a month's import). When no
    customer has a later one (the usual import: the month just billed), it is everyone's
    latest and one UPDATE does, without looking up each customer's latest month.
    """
    figures = MonthlyFigure.__table__.c
    if month is not None and not _any_month_after(month):
        db.session.execute(
            update(Customer)
            .where(Customer.id.in_(customer_ids))
            .values(revenue_trend=_trend_over(month))
            .execution_options(synchronize_session=False)
        )
        return
    latest_of_each = (
        select(func.max(figures.month).label("latest"))
        .where(figures.customer_id.in_(customer_ids))
        .group_by(figures.customer_id)
        .subquery()
    )
    for latest in db.session.scalars(select(latest_of_each.c.latest).distinct()).all():
        db.session.execute(
            update(Customer)
            .where(Customer.id.in_(customer_ids), _latest_month() == latest)
            .values(revenue_trend=_trend_over(latest))
            .execution_options(synchronize_session=False)
        )


def _any_month_after(month: date) -> bool:
    figures = MonthlyFigure.__table__.c
    later = select(figures.id).where(figures.month > month).limit(1)
    return db.session.scalar(later) is not None


def _latest_month() -> ColumnElement:
    figures = MonthlyFigure.__table__.c
    return (
        select(func.max(figures.month)).where(figures.customer_id == Customer.id).scalar_subquery()
    )


def _trend_over(latest: date) -> ColumnElement:
    """SQL: the customer's trend in the six months ending with `latest` (None if unknown)."""
    figures = MonthlyFigure.__table__.c
    recent_from = add_months(latest, 1 - TREND_MONTHS)
    window_from = add_months(latest, 1 - 2 * TREND_MONTHS)
    recent = func.sum(case((figures.month >= recent_from, figures.revenue), else_=0))
    before = func.sum(case((figures.month < recent_from, figures.revenue), else_=0))
    # 100.0: a numeric literal in PostgreSQL, a real one in SQLite, whose sums of whole
    # amounts are integers and would otherwise divide as integers.
    percent = func.round((recent - before) * literal_column("100.0") / before, 2)
    trend = case(
        (
            and_(func.count(figures.month) == 2 * TREND_MONTHS, before > 0),
            case((percent > TREND_CEILING, TREND_CEILING), else_=percent),
        ),
        else_=None,
    )
    return (
        select(trend)
        .where(
            figures.customer_id == Customer.id,
            figures.month >= window_from,
            figures.month <= latest,
        )
        .scalar_subquery()
    )


# The list's filter --------------------------------------------------------------------


@dataclass(frozen=True)
class TrendBand:
    """One choice of the customer list's trend filter."""

    key: str
    text: object
    condition: ColumnElement[bool]


TREND_BANDS = (
    TrendBand(
        "falling_fast", _l("Falling by more than 10%"), Customer.revenue_trend < Decimal(-10)
    ),
    TrendBand("falling", _l("Falling"), Customer.revenue_trend < 0),
    TrendBand("steady_or_rising", _l("Steady or rising"), Customer.revenue_trend >= 0),
    TrendBand(
        "unknown",
        _l("No trend (under six months of figures)"),
        Customer.revenue_trend.is_(None),
    ),
)
BANDS_BY_KEY = {band.key: band for band in TREND_BANDS}


def trend_condition(key: str) -> ColumnElement[bool] | None:
    """The WHERE condition of a trend filter choice, or None for an unknown key."""
    band = BANDS_BY_KEY.get(key)
    return band.condition if band else None
