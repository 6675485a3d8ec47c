"""competitor profile indexes

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07

The competitor overview's list in its default order (expiry first, no date last) and its
count per competitor: an index in each one's order, so an admin's first page reads 50
entries instead of sorting 50,000 profiles (16 -> 0.05 ms at province on SQLite), and the
counts come from the index (29 -> 9 ms). The competitor's own index is the new one's prefix.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_competitor_profiles_competitor_id", table_name="competitor_profiles")
    op.create_index(
        "ix_competitor_profiles_competitor_id_contract_expiry",
        "competitor_profiles",
        ["competitor_id", "contract_expiry"],
    )
    op.create_index(
        "ix_competitor_profiles_expiry_order",
        "competitor_profiles",
        [sa.text("(contract_expiry IS NULL)"), "contract_expiry", "id"],
    )


def downgrade():
    op.drop_index("ix_competitor_profiles_expiry_order", table_name="competitor_profiles")
    op.drop_index(
        "ix_competitor_profiles_competitor_id_contract_expiry", table_name="competitor_profiles"
    )
    op.create_index(
        "ix_competitor_profiles_competitor_id", "competitor_profiles", ["competitor_id"]
    )
