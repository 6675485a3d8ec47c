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
    UPDATE is a core one: the trend is derived data, so neither the customer's version
    (what someone editing the profile started from) nor its "last changed" moves; and a
    customer whose trend stays the same is not written at all (a corrected month).

    `month`: every customer named has figures for this month (a month's import). When no
    customer has a later one (the usual import: the month just billed), it is everyone's
    latest and one UPDATE does, without looking up each customer's latest month.
    """
    if month is not None and not _any_month_after(month):
        _update(customer_ids, month, each_latest=False)
        return
    figures = MonthlyFigure.__table__.c
    latest_of_each = (
        select(func.max(figures.month).label("latest"))
        .where(figures.customer_id.in_(customer_ids))
        .group_by(figures.customer_id)
        .subquery()
    )
    for latest in db.session.scalars(select(latest_of_each.c.latest).distinct()).all():
        _update(customer_ids, latest, each_latest=True)


def _update(customer_ids: Select, latest: date, *, each_latest: bool) -> None:
    """UPDATE ... FROM the trends of the six months ending with `latest`, one grouped read.

    `each_latest`: only the customers whose own latest month is `latest`.
    """
    figures = MonthlyFigure.__table__.c
    trends = (
        select(figures.customer_id, _trend(latest).label("trend"))
        .where(
            figures.customer_id.in_(customer_ids),
            figures.month >= add_months(latest, 1 - 2 * TREND_MONTHS),
            figures.month <= latest,
        )
        .group_by(figures.customer_id)
        .subquery()
    )
    stmt = (
        update(Customer)
        .where(
            Customer.id == trends.c.customer_id,
            Customer.revenue_trend.is_distinct_from(trends.c.trend),
        )
        # Set to itself: the column's onupdate would otherwise stamp every customer changed.
        .values(revenue_trend=trends.c.trend, updated_at=Customer.updated_at)
        .execution_options(synchronize_session=False)
    )
    if each_latest:
        stmt = stmt.where(_latest_month() == latest)
    db.session.execute(stmt)


def _any_month_after(month: date) -> bool:
    figures = MonthlyFigure.__table__.c
    later = select(figures.id).where(figures.month > month).limit(1)
    return db.session.scalar(later) is not None


def _latest_month() -> ColumnElement:
    figures = MonthlyFigure.__table__.c
    return (
        select(func.max(figures.month)).where(figures.customer_id == Customer.id).scalar_subquery()
    )


def _trend(latest: date) -> ColumnElement:
    """SQL over one customer's rows of the six months ending with `latest`: the trend in
    percent, or NULL when it is unknown."""
    figures = MonthlyFigure.__table__.c
    recent_from = add_months(latest, 1 - TREND_MONTHS)
    recent = func.sum(case((figures.month >= recent_from, figures.revenue), else_=0))
    before = func.sum(case((figures.month < recent_from, figures.revenue), else_=0))
    # 100.0: a numeric literal in PostgreSQL, a real one in SQLite, whose sums of whole
    # amounts are integers and would otherwise divide as integers.
    percent = func.round((recent - before) * literal_column("100.0") / before, 2)
    return case(
        (
            and_(func.count(figures.month) == 2 * TREND_MONTHS, before > 0),
            case((percent > TREND_CEILING, TREND_CEILING), else_=percent),
        ),
        else_=None,
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
