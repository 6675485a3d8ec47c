"""competitor profile api order

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07

The API's list of competitor profiles pages by keyset in expiry order, no date last:
`(contract_expiry IS NULL), COALESCE(contract_expiry, '9999-12-31'), id`. Without an
index on that order PostgreSQL sorted all 50,000 profiles for an admin's first page
(86 ms at province).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_competitor_profiles_api_expiry_order",
        "competitor_profiles",
        [
            sa.text("(contract_expiry IS NULL)"),
            sa.text("coalesce(contract_expiry, '9999-12-31')"),
            "id",
        ],
    )


def downgrade():
    op.drop_index("ix_competitor_profiles_api_expiry_order", table_name="competitor_profiles")
