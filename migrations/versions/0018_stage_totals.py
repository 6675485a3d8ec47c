"""stage totals kept by triggers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

The organisation's opportunities counted and summed per stage and status, kept by
triggers on `opportunities` (models/stage_totals.py): an admin's board reads about fifty
rows instead of summing every opportunity (issue 18). The table starts with the
opportunities there are; the triggers count every write from then on.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The triggers as they were when this migration was written (models/stage_totals.py may
# change them later, in a migration of its own).
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
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS stage_totals_insert",
    "DROP TRIGGER IF EXISTS stage_totals_update",
    "DROP TRIGGER IF EXISTS stage_totals_delete",
)
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
POSTGRESQL_DROP = ("DROP FUNCTION IF EXISTS stage_totals_change() CASCADE",)
# What is there now, counted once (the triggers take over in the same transaction).
COUNT = """
    INSERT INTO stage_totals (stage_id, status, opportunities, amount_cents, product_cents)
    SELECT stage_id, status, count(*),
           sum(CAST(round(coalesce(amount, 0) * 100) AS BIGINT)),
           sum(CAST(round(coalesce(amount, 0) * 100) AS BIGINT) * probability)
    FROM opportunities GROUP BY stage_id, status
"""


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade():
    op.create_table(
        "stage_totals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "won", "lost", name="opportunitystatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("product_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_totals")),
    )
    if _dialect() == "postgresql":
        # No write may slip between the count and the triggers.
        op.execute("LOCK TABLE opportunities IN SHARE ROW EXCLUSIVE MODE")
    op.execute(COUNT)
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}[_dialect()]:
        op.execute(statement)


def downgrade():
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}[_dialect()]:
        op.execute(statement)
    op.drop_table("stage_totals")
