"""handover indexes and triggers

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

A handover of 10,000 customers took 4.4 s on PostgreSQL at province (0.5 s on SQLite):

- the pending follow-ups it moved to the new owner were found by combining the index on the
  customer with the owner's index, whose whole range PostgreSQL read again for each moved
  customer (2.2 s). The customer's index now holds status and owner: one probe each;
- the search bigrams' update trigger found the rows whose text changed by joining the
  statement's old and new rows, which have no statistics: a nested loop over 10,000 x
  10,000 rows (600 ms) for an update that changed no name. It now compares them as hashed
  sets (EXCEPT). The functions are written out here as they were and are (a migration
  does not follow later changes of models/search_grams.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION search_grams_customer_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, name, name_key FROM old_rows EXCEPT SELECT id, name, name_key
        FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v
        FROM changed UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.id AND
        g.contact_id = 0;
        WITH changed AS (SELECT id, name, name_key FROM new_rows EXCEPT SELECT id, name, name_key
        FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v
        FROM old_rows UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM old_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.id AND
        g.contact_id = 0;
    END IF;
    RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION search_grams_contact_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, customer_id, name, mobile FROM old_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
        WITH changed AS (SELECT id, customer_id, name, mobile FROM new_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM old_rows UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM old_rows)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
    END IF;
    RETURN NULL;
    END $$
    """,
)

FUNCTIONS_BEFORE = (
    """
    CREATE OR REPLACE FUNCTION search_grams_customer_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT o.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE
        n.name IS DISTINCT FROM o.name OR n.name_key IS DISTINCT FROM o.name_key)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v
        FROM changed UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.id AND
        g.contact_id = 0;
        WITH changed AS (SELECT n.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE
        n.name IS DISTINCT FROM o.name OR n.name_key IS DISTINCT FROM o.name_key)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v
        FROM old_rows UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM old_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.id AND
        g.contact_id = 0;
    END IF;
    RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION search_grams_contact_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT o.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE
        n.customer_id IS DISTINCT FROM o.customer_id OR n.name IS DISTINCT FROM o.name OR n.mobile
        IS DISTINCT FROM o.mobile)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
        WITH changed AS (SELECT n.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE
        n.customer_id IS DISTINCT FROM o.customer_id OR n.name IS DISTINCT FROM o.name OR n.mobile
        IS DISTINCT FROM o.mobile)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM old_rows UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM old_rows)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
    END IF;
    RETURN NULL;
    END $$
    """,
)


def _functions(statements) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(sa.text(statement))


def upgrade():
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_index("ix_reminders_customer_id")
        batch_op.create_index(
            "ix_reminders_customer_id_status_owner_id", ["customer_id", "status", "owner_id"]
        )
    _functions(FUNCTIONS)


def downgrade():
    _functions(FUNCTIONS_BEFORE)
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_index("ix_reminders_customer_id_status_owner_id")
        batch_op.create_index("ix_reminders_customer_id", ["customer_id"])
