"""The follow-ups of one visit or one opportunity are found through an index, however many
follow-ups have neither (most of them: the statistics of an index over every row said
one value, NULL, matched them all, and SQLite scanned the table instead)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text

from crm.extensions import db
from crm.services.followups.reminders import reminders_of_visit
from models import Reminder


def test_a_visits_follow_ups_are_read_through_the_index_of_the_set_ones(
    org, make_customer, make_visit, make_reminder
):
    customer = make_customer(org["m1"])
    visit = make_visit(customer)
    linked = make_reminder(customer, visit_id=visit.id)
    now = datetime.now(UTC)
    # Many follow-ups of no visit and no opportunity, as in a real database.
    rows = [
        {
            "customer_id": customer.id,
            "owner_id": customer.owner_id,
            "due_on": now.date(),
            "due_at": now,
            "version": 1,
        }
        for _ in range(2_000)
    ]
    db.session.execute(insert(Reminder), rows)
    db.session.commit()
    assert reminders_of_visit(visit) == [linked]

    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE reminders"))
        for column in ("visit_id", "opportunity_id"):
            stmt = Reminder.__table__.select().where(Reminder.__table__.c[column] == visit.id)
            compiled = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(
                row.detail for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert f"USING INDEX ix_reminders_{column}_set" in plan, plan
    else:
        definitions = dict(
            db.session.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reminders'")
            ).all()
        )
        for column in ("visit_id", "opportunity_id"):
            assert f"WHERE ({column} IS NOT NULL)" in definitions[f"ix_reminders_{column}_set"]
