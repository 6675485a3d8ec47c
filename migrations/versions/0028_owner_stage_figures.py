"""owner stage figures

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

The scheduler's stage snapshot per opportunity owner and customer owner
(models/stage_snapshot.py), so that a team's home sums its managers' rows instead of
counting a year of stage history per request.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "owner_stage_figures",
        sa.Column("opportunity_owner_id", sa.Integer(), nullable=False),
        sa.Column("customer_owner_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("days_opportunities", sa.Integer(), nullable=False),
        sa.Column("days_total", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint(
            "opportunity_owner_id",
            "customer_owner_id",
            "stage_id",
            name=op.f("pk_owner_stage_figures"),
        ),
    )


def downgrade():
    op.drop_table("owner_stage_figures")
