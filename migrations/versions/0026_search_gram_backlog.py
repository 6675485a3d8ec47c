"""search bigrams left for later by bulk writes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

An import of 100,000 customers cut 1.3 million search bigrams as it wrote them, the import's
slowest part on both databases (SQLite 5 s of 12, PostgreSQL 6 s of 16). A transaction that
marks itself as writing in bulk (a row (0, 0) in the new table search_gram_backlog, never
seen by another transaction) now has its inserted customers and contacts listed there; the
scheduler cuts their bigrams in batches (crm/services/archive/search_backlog.py), and the
search reads the listed customers whole meanwhile. PostgreSQL's bigram inserts also keep a
bigram the backlog's fold has cut meanwhile. The trigger text is written out here as it was
and is (a migration does not follow later changes of models/search_grams.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION search_grams_customer_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND
    contact_id = 0) THEN
        INSERT INTO search_gram_backlog (customer_id, contact_id) SELECT id, 0 FROM new_rows ON
        CONFLICT DO NOTHING;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n, 2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL SELECT id,
        translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM
        new_rows) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n) ON
        CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, name, name_key FROM old_rows EXCEPT SELECT id, name,
        name_key FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
        FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS
        JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND
        g.customer_id = d.id AND g.contact_id = 0;
        WITH changed AS (SELECT id, name, name_key FROM new_rows EXCEPT SELECT id, name,
        name_key FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n, 2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS
        JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
        FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM old_rows UNION ALL SELECT id,
        translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM
        old_rows) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d
        WHERE g.gram = d.gram AND g.customer_id = d.id AND g.contact_id = 0;
    END IF;
    RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION search_grams_contact_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND
    contact_id = 0) THEN
        INSERT INTO search_gram_backlog (customer_id, contact_id) SELECT customer_id, id FROM
        new_rows ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n, 2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n) ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, customer_id, name, mobile FROM old_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.customer_id
        AND g.contact_id = d.id;
        WITH changed AS (SELECT id, customer_id, name, mobile FROM new_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n, 2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM old_rows UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM old_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.customer_id
        AND g.contact_id = d.id;
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
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL SELECT id,
        translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS
        JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, name, name_key FROM old_rows EXCEPT SELECT id, name,
        name_key
        FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
        FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
        AS v
        FROM changed UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n)) AS d WHERE g.gram = d.gram AND g.customer_id = d.id AND
        g.contact_id = 0;
        WITH changed AS (SELECT id, name, name_key FROM new_rows EXCEPT SELECT id, name,
        name_key
        FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n,
        2), s.id, 0 FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, translate(name_key,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS
        JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
        FROM
        (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
        AS v
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
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM new_rows) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSIF TG_OP = 'UPDATE' THEN
        WITH changed AS (SELECT id, customer_id, name, mobile FROM old_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM new_rows)
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM
        changed)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
        WITH changed AS (SELECT id, customer_id, name, mobile FROM new_rows EXCEPT SELECT id,
        customer_id, name, mobile FROM old_rows)
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n,
        2), s.customer_id, s.id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed UNION ALL
        SELECT id, customer_id, translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM changed) AS s CROSS JOIN LATERAL generate_series(1,
        length(s.v) - 1) AS p(n);
    ELSE
        DELETE FROM search_grams AS g USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id,
        s.customer_id FROM (SELECT id, customer_id, translate(name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM old_rows UNION ALL SELECT id, customer_id,
        translate(mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM
        old_rows)
        AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d WHERE g.gram =
        d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
    END IF;
    RETURN NULL;
    END $$
    """,
)

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_customer_insert AFTER INSERT ON customers WHEN NOT
    EXISTS (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND contact_id = 0) BEGIN
    INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.key +
    1, 2), NEW.id, 0 FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT lower(NEW.name_key)) AS
    s, json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2) || ']')
    AS p; END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_customer_defer AFTER INSERT ON customers WHEN
    EXISTS (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND contact_id = 0) BEGIN
    INSERT OR IGNORE INTO search_gram_backlog (customer_id, contact_id) VALUES (NEW.id, 0); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_contact_insert AFTER INSERT ON contacts WHEN NOT
    EXISTS (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND contact_id = 0) BEGIN
    INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v, p.key +
    1, 2), NEW.customer_id, NEW.id FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT
    lower(NEW.mobile)) AS s, json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)),
    '00', ',0'), 2) || ']') AS p; END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_contact_defer AFTER INSERT ON contacts WHEN EXISTS
    (SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND contact_id = 0) BEGIN INSERT OR
    IGNORE INTO search_gram_backlog (customer_id, contact_id) VALUES (NEW.customer_id, NEW.id);
    END
    """,
)

SQLITE_TRIGGERS_BEFORE = (
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_customer_insert AFTER INSERT ON customers
    BEGIN
        INSERT INTO search_grams (gram, customer_id, contact_id)
        SELECT DISTINCT substr(s.v, p.key + 1, 2), NEW.id, 0
        FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT lower(NEW.name_key)) AS s,
        json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
        || ']') AS p;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_contact_insert AFTER INSERT ON contacts
    BEGIN
        INSERT INTO search_grams (gram, customer_id, contact_id)
        SELECT DISTINCT substr(s.v, p.key + 1, 2), NEW.customer_id, NEW.id
        FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT lower(NEW.mobile)) AS s,
        json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
        || ']') AS p;
    END
    """,
)

# The bigrams of what is listed (models/search_grams.FOLD), for the downgrade.
FOLD = {
    "sqlite": """
        INSERT OR IGNORE INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT
        substr(s.v, p.key + 1, 2), s.customer_id, s.contact_id FROM (SELECT c.id AS
        customer_id, 0 AS contact_id, lower(c.name) AS v FROM customers AS c JOIN
        search_gram_backlog AS b ON b.customer_id = c.id AND b.contact_id = 0 WHERE
        b.customer_id BETWEEN :first AND :last UNION ALL SELECT c.id, 0, lower(c.name_key)
        FROM customers AS c JOIN search_gram_backlog AS b ON b.customer_id = c.id AND
        b.contact_id = 0 WHERE b.customer_id BETWEEN :first AND :last UNION ALL SELECT
        k.customer_id, k.id, lower(k.name) FROM contacts AS k JOIN search_gram_backlog AS b
        ON b.customer_id = k.customer_id AND b.contact_id = k.id WHERE b.customer_id BETWEEN
        :first AND :last UNION ALL SELECT k.customer_id, k.id, lower(k.mobile) FROM contacts
        AS k JOIN search_gram_backlog AS b ON b.customer_id = k.customer_id AND b.contact_id
        = k.id WHERE b.customer_id BETWEEN :first AND :last) AS s, json_each('[' ||
        substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2) || ']') AS p ORDER BY
        1, 2, 3
    """,
    "postgresql": """
        INSERT INTO search_grams (gram, customer_id, contact_id) SELECT DISTINCT substr(s.v,
        p.n, 2), s.customer_id, s.contact_id FROM (SELECT c.id AS customer_id, 0 AS
        contact_id, translate(c.name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') AS v FROM customers AS c JOIN search_gram_backlog AS b
        ON b.customer_id = c.id AND b.contact_id = 0 WHERE b.customer_id BETWEEN :first AND
        :last UNION ALL SELECT c.id, 0, translate(c.name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        'abcdefghijklmnopqrstuvwxyz') FROM customers AS c JOIN search_gram_backlog AS b ON
        b.customer_id = c.id AND b.contact_id = 0 WHERE b.customer_id BETWEEN :first AND
        :last UNION ALL SELECT k.customer_id, k.id, translate(k.name,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM contacts AS k JOIN
        search_gram_backlog AS b ON b.customer_id = k.customer_id AND b.contact_id = k.id
        WHERE b.customer_id BETWEEN :first AND :last UNION ALL SELECT k.customer_id, k.id,
        translate(k.mobile, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM
        contacts AS k JOIN search_gram_backlog AS b ON b.customer_id = k.customer_id AND
        b.contact_id = k.id WHERE b.customer_id BETWEEN :first AND :last) AS s CROSS JOIN
        LATERAL generate_series(1, length(s.v) - 1) AS p(n) ORDER BY 1, 2, 3 ON CONFLICT DO
        NOTHING
    """,
}

SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS search_grams_{table}_{operation}"
    for table in ("customer", "contact")
    for operation in ("insert", "defer")
)


def _triggers(postgresql, sqlite) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(sa.text(statement))
    for statement in {"postgresql": postgresql, "sqlite": sqlite}[dialect]:
        op.execute(sa.text(statement))


def upgrade():
    op.create_table(
        "search_gram_backlog",
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "contact_id", name=op.f("pk_search_gram_backlog")),
        sqlite_with_rowid=False,
    )
    _triggers(FUNCTIONS, SQLITE_TRIGGERS)


def downgrade():
    # What is listed is cut before the table goes (the scheduler may not have run).
    dialect = op.get_bind().dialect.name
    op.execute(sa.text(FOLD[dialect]).bindparams(first=1, last=2**62))
    _triggers(FUNCTIONS_BEFORE, SQLITE_TRIGGERS_BEFORE)
    op.drop_table("search_gram_backlog")
