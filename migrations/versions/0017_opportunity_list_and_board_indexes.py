"""opportunity list and board indexes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

An admin's opportunity list and board read their first rows from an index instead of
sorting every open opportunity (issue 18): the list's default order (most recently
changed first), and each board column's first cards per stage and status. The board's
index extends the (stage_id, status) one it replaces, which served the same lookups.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_opportunities_stage_board",
        "opportunities",
        ["stage_id", "status", "updated_at", "id"],
        unique=False,
    )
    op.drop_index("ix_opportunities_stage_id_status", table_name="opportunities")
    op.create_index(
        "ix_opportunities_updated_at_id", "opportunities", ["updated_at", "id"], unique=False
    )


def downgrade():
    op.drop_index("ix_opportunities_updated_at_id", table_name="opportunities")
    op.create_index(
        "ix_opportunities_stage_id_status", "opportunities", ["stage_id", "status"], unique=False
    )
    op.drop_index("ix_opportunities_stage_board", table_name="opportunities")
