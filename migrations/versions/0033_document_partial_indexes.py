"""document partial indexes

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

Most documents are a customer's own, with no opportunity and no visit. SQLite's statistics
for an index over every row counted the NULLs as one value matching them all, so its
planner read an opportunity's documents by scanning every document (an admin's
opportunity page: 24 ms at province, 200,000 documents). Indexes of only the rows that
have an opportunity or a visit replace them, as migration 0022 did for the follow-ups.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def _set(column):
    condition = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


def upgrade():
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_opportunity_id")
        batch_op.drop_index("ix_documents_visit_id")
        batch_op.create_index(
            "ix_documents_opportunity_id_set", ["opportunity_id"], **_set("opportunity_id")
        )
        batch_op.create_index("ix_documents_visit_id_set", ["visit_id"], **_set("visit_id"))


def downgrade():
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_visit_id_set")
        batch_op.drop_index("ix_documents_opportunity_id_set")
        batch_op.create_index("ix_documents_visit_id", ["visit_id"])
        batch_op.create_index("ix_documents_opportunity_id", ["opportunity_id"])
