"""reminder partial indexes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Most follow-ups come from no visit and concern no opportunity. SQLite's statistics for an
index over every row counted the NULLs as one value matching them all, so the planner
left the visit page's "follow-ups of this visit" to a scan of every follow-up (100 ms at
province). Indexes of only the rows that have a visit or an opportunity replace them.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _set(column):
    condition = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


def upgrade():
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_index("ix_reminders_visit_id")
        batch_op.drop_index("ix_reminders_opportunity_id")
        batch_op.create_index("ix_reminders_visit_id_set", ["visit_id"], **_set("visit_id"))
        batch_op.create_index(
            "ix_reminders_opportunity_id_set", ["opportunity_id"], **_set("opportunity_id")
        )


def downgrade():
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_index("ix_reminders_opportunity_id_set")
        batch_op.drop_index("ix_reminders_visit_id_set")
        batch_op.create_index("ix_reminders_opportunity_id", ["opportunity_id"])
        batch_op.create_index("ix_reminders_visit_id", ["visit_id"])
