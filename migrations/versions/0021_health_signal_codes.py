"""health signal codes

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

The at-risk list's filter by signal parsed every at-risk customer's factors (JSON) per
request: 40 ms at province scale. The codes now sit beside the factors as a short string,
in the band-and-score index, which the filter reads instead.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer_health") as batch_op:
        batch_op.add_column(
            sa.Column("signal_codes", sa.String(length=400), server_default="", nullable=False)
        )
        batch_op.drop_index("ix_customer_health_band_score")
        batch_op.create_index(
            "ix_customer_health_band_score_signals", ["band", "score", "signal_codes"]
        )
    # Filled from the stored factors, as the next health pass would write them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE customer_health SET signal_codes = coalesce((SELECT ' ' || "
            "string_agg(f->>'signal', ' ') || ' ' FROM json_array_elements(factors) f), '')"
        )
    else:
        op.execute(
            "UPDATE customer_health SET signal_codes = coalesce((SELECT ' ' || "
            "group_concat(json_extract(value, '$.signal'), ' ') || ' ' "
            "FROM json_each(factors)), '')"
        )


def downgrade():
    with op.batch_alter_table("customer_health") as batch_op:
        batch_op.drop_index("ix_customer_health_band_score_signals")
        batch_op.create_index("ix_customer_health_band_score", ["band", "score"])
        batch_op.drop_column("signal_codes")
