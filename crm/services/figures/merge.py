"""A customer merge's rule for business figures: months both customers have are added up.

Billing matches a line to one customer (by credit code or id), so two records of the same
company with figures for the same month are two billing accounts of it: the survivor's
month becomes their sum (ARPU recomputed from the sum when the lines are known). The
merge then moves the duplicate's other months as they are.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, literal, select

from crm.extensions import db
from crm.services.figures.trend import refresh_revenue_trends
from models import MonthlyFigure

ADDED_UP = (
    "revenue",
    "active_lines",
    "key_solution_revenue",
    "arrears",
    "arrears_recovered",
    "lines_lost",
)


def fold_shared_months(survivor_id: int, duplicate_id: int) -> int:
    """Add the duplicate's figures into the survivor's for the months both have; delete
    the duplicate's rows of those months. Returns how many months were added up."""
    rows = db.session.scalars(
        select(MonthlyFigure).where(MonthlyFigure.customer_id.in_((survivor_id, duplicate_id)))
    )
    by_month: dict = {}
    for figure in rows:
        by_month.setdefault(figure.month, {})[figure.customer_id] = figure
    shared = [pair for pair in by_month.values() if len(pair) == 2]
    for pair in shared:
        kept, folded = pair[survivor_id], pair[duplicate_id]
        for name in ADDED_UP:
            mine, theirs = getattr(kept, name), getattr(folded, name)
            if theirs is not None:
                setattr(kept, name, theirs if mine is None else mine + theirs)
        if kept.active_lines:
            kept.arpu = (kept.revenue / kept.active_lines).quantize(Decimal("0.01"))
    if shared:
        months = [pair[duplicate_id].month for pair in shared]
        db.session.flush()
        db.session.execute(
            delete(MonthlyFigure)
            .where(MonthlyFigure.customer_id == duplicate_id, MonthlyFigure.month.in_(months))
            .execution_options(synchronize_session=False)
        )
    return len(shared)


def refresh_survivor_trend(survivor_id: int) -> None:
    """The survivor's revenue trend, from its figures after the merge moved them."""
    refresh_revenue_trends(select(literal(survivor_id)))
