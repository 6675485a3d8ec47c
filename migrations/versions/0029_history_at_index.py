"""history at index

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

The reports' pipeline movement numbers the stage history of the opportunities that moved
in the period: an index on the history's time finds them, where the report numbered the
whole history (600,000 rows at province, 620 ms for an admin's week).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_opportunity_history_at_opportunity_id", "opportunity_history", ["at", "opportunity_id"]
    )


def downgrade():
    op.drop_index("ix_opportunity_history_at_opportunity_id", table_name="opportunity_history")
