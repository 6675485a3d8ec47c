"""name keys without invisible characters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

The similar-name check now drops invisible format characters (zero-width spaces and
joiners, byte-order marks, soft hyphens) before comparing names. Customers saved
earlier with such a character kept it in their name key, so a new customer of the same
name slipped past the warning: their keys are computed again. Data only; the names
themselves are left as they were typed.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

customers = sa.table(
    "customers",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
)


def recompute_name_keys(connection) -> int:
    """Give every customer whose name holds an invisible character its current key."""
    from crm.services.archive.identity import normalise_name

    changed = [
        {"row_id": id_, "key": normalise_name(name)}
        for id_, name, key in connection.execute(
            sa.select(customers.c.id, customers.c.name, customers.c.name_key)
        )
        # Only such names can change (the rest is checked in C, fast at 100,000 rows).
        if not name.isprintable() and normalise_name(name) != key
    ]
    if changed:
        connection.execute(
            customers.update()
            .where(customers.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            changed,
        )
    return len(changed)


def upgrade():
    recompute_name_keys(op.get_bind())


def downgrade():
    pass  # the old keys were the defect; nothing to restore
