"""Opportunities counted and summed per stage and status, kept by the database itself.

An admin's board and home show, per stage, how many opportunities the whole organisation
has and their amount and weighted amount: summing 150,000 opportunities for that cost a
province's board half a second. Triggers on `opportunities` keep these totals instead, on
every write whatever makes it (a page, the API, an import, a bulk statement, the bench's
generator), in the same transaction.

A write adds rows (its change: -1 and the old amounts under the old stage and status, +1
and the new under the new) rather than updating one row per stage and status: concurrent
writers then never wait for each other, nor deadlock moving cards in opposite directions.
A read sums what is there; the scheduler folds the rows back to one per stage and status
(crm/services/pipeline/totals.py). Amounts are kept in cents, so sums are exact integers
on both databases.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, event
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db
from models.base import str_enum
from models.pipeline import Opportunity, OpportunityStatus


class StageTotal(db.Model):
    """A change to (or, folded, the total of) one stage and status's opportunities."""

    __tablename__ = "stage_totals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a stage emptied of opportunities may be deleted while rows that net
    # to zero for it wait for the next fold.
    stage_id: Mapped[int]
    status: Mapped[OpportunityStatus] = mapped_column(str_enum(OpportunityStatus))
    opportunities: Mapped[int]
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # Σ amount × probability in cents × percent: the weighted amount is this / 10,000 yuan.
    product_cents: Mapped[int] = mapped_column(BigInteger)


# SQLite: a trigger per row. `OF ... WHEN` skips updates that change nothing counted here
# (an owner, a title, the version): a handover adds no rows.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS stage_totals_insert AFTER INSERT ON opportunities
    BEGIN
        INSERT INTO stage_totals (stage_id, status, opportunities, amount_cents, product_cents)
        VALUES (NEW.stage_id, NEW.status, 1,
                CAST(round(coalesce(NEW.amount, 0) * 100) AS INTEGER),
                CAST(round(coalesce(NEW.amount, 0) * 100) AS INTEGER) * NEW.probability);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS stage_totals_update
    AFTER UPDATE OF stage_id, status, amount, probability ON opportunities
    WHEN OLD.stage_id IS NOT NEW.stage_id OR OLD.status IS NOT NEW.status
        OR OLD.amount IS NOT NEW.amount OR OLD.probability IS NOT NEW.probability
    BEGIN
        INSERT INTO stage_totals (stage_id, status, opportunities, amount_cents, product_cents)
        VALUES (OLD.stage_id, OLD.status, -1,
                -CAST(round(coalesce(OLD.amount, 0) * 100) AS INTEGER),
                -CAST(round(coalesce(OLD.amount, 0) * 100) AS INTEGER) * OLD.probability),
               (NEW.stage_id, NEW.status, 1,
                CAST(round(coalesce(NEW.amount, 0) * 100) AS INTEGER),
                CAST(round(coalesce(NEW.amount, 0) * 100) AS INTEGER) * NEW.probability);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS stage_totals_delete AFTER DELETE ON opportunities
    BEGIN
        INSERT INTO stage_totals (stage_id, status, opportunities, amount_cents, product_cents)
        VALUES (OLD.stage_id, OLD.status, -1,
                -CAST(round(coalesce(OLD.amount, 0) * 100) AS INTEGER),
                -CAST(round(coalesce(OLD.amount, 0) * 100) AS INTEGER) * OLD.probability);
    END
    """,
)
SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS stage_totals_{kind}" for kind in ("insert", "update", "delete")
)

# PostgreSQL: a trigger per statement, reading the statement's rows as transition tables,
# so a bulk statement adds a row per stage and status it touched, not two per row. An
# update's old and new rows net out per stage and status: one that changes nothing
# counted here adds nothing.
POSTGRESQL_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION stage_totals_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Each statement names only the transition tables its trigger has.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO stage_totals
                (stage_id, status, opportunities, amount_cents, product_cents)
            SELECT stage_id, status, count(*), sum(round(coalesce(amount, 0) * 100)),
                   sum(round(coalesce(amount, 0) * 100) * probability)
            FROM new_rows GROUP BY stage_id, status;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO stage_totals
                (stage_id, status, opportunities, amount_cents, product_cents)
            SELECT stage_id, status, -count(*), -sum(round(coalesce(amount, 0) * 100)),
                   -sum(round(coalesce(amount, 0) * 100) * probability)
            FROM old_rows GROUP BY stage_id, status;
        ELSE
            INSERT INTO stage_totals
                (stage_id, status, opportunities, amount_cents, product_cents)
            SELECT stage_id, status, sum(n), sum(cents), sum(cents * probability)
            FROM (
                SELECT stage_id, status, 1 AS n, round(coalesce(amount, 0) * 100) AS cents,
                       probability
                FROM new_rows
                UNION ALL
                SELECT stage_id, status, -1, -round(coalesce(amount, 0) * 100), probability
                FROM old_rows
            ) AS change
            GROUP BY stage_id, status
            HAVING sum(n) <> 0 OR sum(cents) <> 0 OR sum(cents * probability) <> 0;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER stage_totals_insert AFTER INSERT ON opportunities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION stage_totals_change()
    """,
    """
    CREATE OR REPLACE TRIGGER stage_totals_update AFTER UPDATE ON opportunities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION stage_totals_change()
    """,
    """
    CREATE OR REPLACE TRIGGER stage_totals_delete AFTER DELETE ON opportunities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION stage_totals_change()
    """,
)
POSTGRESQL_DROP = ("DROP FUNCTION IF EXISTS stage_totals_change() CASCADE",)  # its triggers too

TRIGGERS = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}
DROP_TRIGGERS = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


# With the opportunities table (create_all makes it before or after this one: a trigger's
# body names its table only when it runs). The migration that added them runs the same.
for dialect, statements in TRIGGERS.items():
    for statement in statements:
        event.listen(
            Opportunity.__table__, "after_create", DDL(statement).execute_if(dialect=dialect)
        )
for dialect, statements in DROP_TRIGGERS.items():
    for statement in statements:
        event.listen(
            StageTotal.__table__, "before_drop", DDL(statement).execute_if(dialect=dialect)
        )
