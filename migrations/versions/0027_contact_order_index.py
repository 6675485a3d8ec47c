"""contact order index

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

The contact list (the web's and the API's) shows those still at the customer first, then
by name. An admin's first page sorted all 200,000 contacts at province (SQLite 220 ms,
PostgreSQL 70-110 ms); an index in that order gives the page's rows first.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_contacts_active_name_id", "contacts", [sa.text("active DESC"), "name", "id"])


def downgrade():
    op.drop_index("ix_contacts_active_name_id", table_name="contacts")
