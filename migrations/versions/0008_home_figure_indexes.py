"""home figure and board indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

The home pages' per-owner figures over a province (100,000 customers, 150,000
opportunities, 500,000 reminders) read from covering indexes instead of the tables.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = [
    (
        "ix_customers_owner_id_tier_figures",
        "customers",
        ["owner_id", "tier", "status", "last_visit_at", "created_at"],
    ),
    (
        "ix_opportunities_owner_figures",
        "opportunities",
        ["owner_id", "status", "stage_id", "amount", "probability"],
    ),
    ("ix_opportunities_status_stage_id_amount", "opportunities", ["status", "stage_id", "amount"]),
    (
        "ix_opportunities_closed_at_figures",
        "opportunities",
        ["closed_at", "status", "owner_id", "amount"],
    ),
    ("ix_opportunities_created_at_owner_id", "opportunities", ["created_at", "owner_id"]),
    (
        "ix_reminders_owner_id_status_due_on",
        "reminders",
        ["owner_id", "status", "due_on", "due_at"],
    ),
    (
        "ix_opportunities_customer_board",
        "opportunities",
        ["customer_id", "status", "stage_id", "updated_at", "amount", "probability"],
    ),
    (
        "ix_competitor_profiles_customer_id_contract_expiry",
        "competitor_profiles",
        ["customer_id", "contract_expiry"],
    ),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    # Replaced by wider ones that answer the same lookups from the index alone
    # (follow-ups are picked by due day, so due_on comes before due_at).
    op.drop_index("ix_opportunities_owner_id_status_stage_id", table_name="opportunities")
    op.drop_index("ix_reminders_owner_id_status_due_at", table_name="reminders")
    op.drop_index("ix_opportunities_customer_id", table_name="opportunities")


def downgrade():
    op.create_index("ix_opportunities_customer_id", "opportunities", ["customer_id"], unique=False)
    op.create_index(
        "ix_reminders_owner_id_status_due_at",
        "reminders",
        ["owner_id", "status", "due_at"],
        unique=False,
    )
    op.create_index(
        "ix_opportunities_owner_id_status_stage_id",
        "opportunities",
        ["owner_id", "status", "stage_id"],
        unique=False,
    )
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
