"""customer list indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Region + tier is the usual narrowing of an admin's list; name makes the
    # name sort and the name search answerable from the index.
    op.create_index(
        "ix_customers_region_tier_name", "customers", ["region", "tier", "name"], unique=False
    )
    # The region filter's choices within a manager's or a team's portfolio.
    op.create_index(
        "ix_customers_owner_id_region", "customers", ["owner_id", "region"], unique=False
    )


def downgrade():
    op.drop_index("ix_customers_owner_id_region", table_name="customers")
    op.drop_index("ix_customers_region_tier_name", table_name="customers")
