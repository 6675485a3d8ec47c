"""opportunity owner created index

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

The new opportunities of a few owners in a month (a team's home, the month plans of the
review queue) were read through the owners' figures index, every opportunity of each
owner, to test when it was created: 10 ms for the 50 plans of an admin's queue page at
province. An index on (owner_id, created_at) seeks each owner's month.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_opportunities_owner_id_created_at", "opportunities", ["owner_id", "created_at"]
    )


def downgrade():
    op.drop_index("ix_opportunities_owner_id_created_at", table_name="opportunities")
