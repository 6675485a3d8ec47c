"""work plans updated order

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

An admin's plans page lists the latest changed plans of everyone
(`ORDER BY updated_at DESC, id DESC LIMIT 30`). Without an index in that order
PostgreSQL read and sorted all 64,000 plans of a province for it (42 ms).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_work_plans_updated_at_id", "work_plans", ["updated_at", "id"])


def downgrade():
    op.drop_index("ix_work_plans_updated_at_id", table_name="work_plans")
