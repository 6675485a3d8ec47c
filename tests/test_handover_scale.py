"""A handover of thousands of customers is a few set-based statements, not one per row."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from crm.extensions import db
from crm.services.archive.search import CustomerFilters
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over, preview
from models import Customer, Opportunity, Reminder

COUNT = 2_000


def bulk_portfolio(owner, stage_id: int, n: int) -> None:
    """n customers with one open opportunity and one pending follow-up each (Core inserts)."""
    now = datetime.now(UTC)
    db.session.execute(
        insert(Customer),
        [{"name": f"批量客户{i}", "owner_id": owner.id, "version": 1} for i in range(n)],
    )
    ids = list(db.session.scalars(select(Customer.id).where(Customer.owner_id == owner.id)))
    db.session.execute(
        insert(Opportunity),
        [
            {
                "customer_id": c,
                "title": "续约",
                "stage_id": stage_id,
                "owner_id": owner.id,
                "version": 1,
            }
            for c in ids
        ],
    )
    db.session.execute(
        insert(Reminder),
        [
            {
                "customer_id": c,
                "owner_id": owner.id,
                "due_on": now.date(),
                "due_at": now,
                "version": 1,
            }
            for c in ids
        ],
    )
    db.session.commit()


def test_two_thousand_customers_in_a_few_statements(org, stages, count_queries):
    m1, m2 = org["m1"], org["m2"]
    bulk_portfolio(m2, stages["Initial contact"].id, COUNT)
    selection = Selection(filters=CustomerFilters(owner=str(m2.id)))
    seen = preview(actor=org["sup1"], selection=selection, to_owner=m1, options=HandoverOptions())
    assert (seen.customers, seen.opportunities, seen.reminders) == (COUNT, COUNT, COUNT)

    started = time.perf_counter()
    with count_queries() as statements:
        handover = hand_over(
            actor=org["sup1"],
            selection=selection,
            to_owner=m1,
            options=HandoverOptions(),
            note="Whole portfolio",
            token="scale",
            expected_fingerprint=seen.fingerprint,
        )
        db.session.commit()
    seconds = time.perf_counter() - started

    assert (handover.customers_count, handover.opportunities_count, handover.reminders_count) == (
        COUNT,
        COUNT,
        COUNT,
    )
    assert db.session.scalar(select(func.count()).where(Customer.owner_id == m1.id)) == COUNT
    # Set-based: the statements do not grow with the customers (a loop would run thousands).
    print(f"{COUNT} customers: {len(statements)} statements, {seconds:.3f} s")
    assert len(statements) < 40, len(statements)
    assert seconds < 5, seconds  # generous for a loaded CI machine; ~0.1 s here
