"""visit indexes

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

An admin's work log and the API's visit list read the newest visits of everyone: with no
index on the time alone SQLite gathered a month's visits of every user (83,000 at
province) and sorted them to give 100 (1.4 s). And the index on visits.opportunity_id, over
a column most visits leave empty, holds only the visits about an opportunity (as 0022 did
for follow-ups).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    condition = sa.text("opportunity_id IS NOT NULL")
    with op.batch_alter_table("visits") as batch_op:
        batch_op.create_index("ix_visits_occurred_at_id", ["occurred_at", "id"])
        batch_op.drop_index("ix_visits_opportunity_id")
        batch_op.create_index(
            "ix_visits_opportunity_id_set",
            ["opportunity_id"],
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade():
    with op.batch_alter_table("visits") as batch_op:
        batch_op.drop_index("ix_visits_opportunity_id_set")
        batch_op.create_index("ix_visits_opportunity_id", ["opportunity_id"])
        batch_op.drop_index("ix_visits_occurred_at_id")
