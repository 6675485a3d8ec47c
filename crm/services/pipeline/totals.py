"""The organisation's opportunities per stage and status, as the database keeps them.

Triggers on `opportunities` add a row to `stage_totals` for every change of a stage,
status, amount or probability (models/stage_totals.py). `stage_totals()` sums those rows:
about fifty once folded, however many opportunities there are. `fold()` (the scheduler,
every FOLD_MINUTES) turns them back into one row per stage and status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, cast, delete, func, insert, select

from crm.extensions import db
from models import Opportunity, OpportunityStatus, StageTotal

FOLD_JOB_ID = "crm-stage-totals-fold"
FOLD_MINUTES = 5
CENT = Decimal("0.01")


def stage_totals(
    statuses: Iterable[OpportunityStatus], stage_ids: Iterable[int] | None = None
) -> dict[int, tuple[int, Decimal, Decimal]]:
    """(count, total amount, weighted amount) of every opportunity in these statuses, per
    stage holding any (of `stage_ids` if given), over the whole organisation."""
    stmt = (
        select(
            StageTotal.stage_id,
            func.sum(StageTotal.opportunities).label("count"),
            func.sum(StageTotal.amount_cents).label("cents"),
            func.sum(StageTotal.product_cents).label("product"),
        )
        .where(StageTotal.status.in_(list(statuses)))
        .group_by(StageTotal.stage_id)
        .having(func.sum(StageTotal.opportunities) != 0)
    )
    if stage_ids is not None:
        stmt = stmt.where(StageTotal.stage_id.in_(list(stage_ids)))
    return {
        row.stage_id: (
            int(row.count),
            (Decimal(int(row.cents)) / 100).quantize(CENT),
            # amount × probability / 100, in cents: as board.weighted rounds the live sum
            (Decimal(int(row.product)) / 10_000).quantize(CENT, ROUND_HALF_UP),
        )
        for row in db.session.execute(stmt)
    }


def fold() -> int:
    """Replace the rows there are with one per stage and status (the caller commits).

    The rows summed are exactly the rows deleted (DELETE ... RETURNING): a change that
    another transaction commits meanwhile is neither lost nor counted twice.
    """
    gone = db.session.execute(
        delete(StageTotal).returning(
            StageTotal.stage_id,
            StageTotal.status,
            StageTotal.opportunities,
            StageTotal.amount_cents,
            StageTotal.product_cents,
        )
    ).all()
    sums: dict[tuple[int, OpportunityStatus], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in gone:
        kept = sums[row.stage_id, row.status]
        kept[0] += row.opportunities
        kept[1] += row.amount_cents
        kept[2] += row.product_cents
    _add((stage_id, status, *values) for (stage_id, status), values in sums.items() if any(values))
    return len(gone)


def recount() -> None:
    """Count every opportunity afresh (a dataset written before the triggers existed).

    Not while others write: a change committed between the delete and the count is
    counted by its trigger and again here.
    """
    db.session.execute(delete(StageTotal))
    # Whole cents per row, as the triggers count them: sums of integers are exact.
    cents = cast(func.round(func.coalesce(Opportunity.amount, 0) * 100), BigInteger)
    counted = select(
        Opportunity.stage_id,
        Opportunity.status,
        func.count(),
        func.sum(cents),
        func.sum(cents * Opportunity.probability),
    ).group_by(Opportunity.stage_id, Opportunity.status)
    _add(tuple(row) for row in db.session.execute(counted))


def _add(rows: Iterable[tuple]) -> None:
    values = [
        {
            "stage_id": stage_id,
            "status": status,
            "opportunities": int(count),
            "amount_cents": int(cents),
            "product_cents": int(product),
        }
        for stage_id, status, count, cents, product in rows
    ]
    if values:
        db.session.execute(insert(StageTotal), values)
