"""customer search bigrams kept by triggers

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Every distinct two-character piece of each customer's name and name key and of its
contacts' names and mobiles (models/search_grams.py): the customer search reads the
customers holding a query's bigrams instead of running its LIKEs over every customer
(issue 18). The table starts with the customers and contacts there are; triggers on both
tables keep it from then on.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The statements as they were when this migration was written (models/search_grams.py
# may change them later, in a migration of its own).
BACKFILL = {
    "sqlite": """
    INSERT INTO search_grams (gram, customer_id, contact_id)
    SELECT DISTINCT substr(s.v, p.key + 1, 2), s.customer_id, s.contact_id
    FROM (SELECT id AS customer_id, 0 AS contact_id, lower(name) AS v FROM customers
          UNION ALL SELECT id, 0, lower(name_key) FROM customers
          UNION ALL SELECT customer_id, id, lower(name) FROM contacts
          UNION ALL SELECT customer_id, id, lower(mobile) FROM contacts) AS s,
         json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                   || ']') AS p
    """,
    "postgresql": """
    INSERT INTO search_grams (gram, customer_id, contact_id)
    SELECT DISTINCT substr(s.v, p.n, 2), s.customer_id, s.contact_id
    FROM (SELECT id AS customer_id, 0 AS contact_id, translate(name,
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM customers
          UNION ALL SELECT id, 0, translate(name_key,
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM customers
          UNION ALL SELECT customer_id, id, translate(name,
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM contacts
          UNION ALL SELECT customer_id, id, translate(mobile,
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') FROM contacts) AS s
    CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)
    """,
}
SQLITE_TRIGGERS = (
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
    CREATE TRIGGER IF NOT EXISTS search_grams_customer_update
    AFTER UPDATE OF name, name_key ON customers
    WHEN OLD.name IS NOT NEW.name OR OLD.name_key IS NOT NEW.name_key
    BEGIN
        DELETE FROM search_grams WHERE customer_id = OLD.id AND contact_id = 0 AND gram IN (
            SELECT substr(s.v, p.key + 1, 2)
            FROM (SELECT lower(OLD.name) AS v UNION ALL SELECT lower(OLD.name_key)) AS s,
                 json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                             || ']') AS p);
        INSERT INTO search_grams (gram, customer_id, contact_id)
        SELECT DISTINCT substr(s.v, p.key + 1, 2), NEW.id, 0
        FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT lower(NEW.name_key)) AS s,
             json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                       || ']') AS p;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_customer_delete AFTER DELETE ON customers
    BEGIN
        DELETE FROM search_grams WHERE customer_id = OLD.id AND contact_id = 0 AND gram IN (
            SELECT substr(s.v, p.key + 1, 2)
            FROM (SELECT lower(OLD.name) AS v UNION ALL SELECT lower(OLD.name_key)) AS s,
                 json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                             || ']') AS p);
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
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_contact_update
    AFTER UPDATE OF customer_id, name, mobile ON contacts
    WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.name IS NOT NEW.name
        OR OLD.mobile IS NOT NEW.mobile
    BEGIN
        DELETE FROM search_grams
        WHERE customer_id = OLD.customer_id AND contact_id = OLD.id AND gram IN (
            SELECT substr(s.v, p.key + 1, 2)
            FROM (SELECT lower(OLD.name) AS v UNION ALL SELECT lower(OLD.mobile)) AS s,
                 json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                             || ']') AS p);
        INSERT INTO search_grams (gram, customer_id, contact_id)
        SELECT DISTINCT substr(s.v, p.key + 1, 2), NEW.customer_id, NEW.id
        FROM (SELECT lower(NEW.name) AS v UNION ALL SELECT lower(NEW.mobile)) AS s,
             json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                       || ']') AS p;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_grams_contact_delete AFTER DELETE ON contacts
    BEGIN
        DELETE FROM search_grams
        WHERE customer_id = OLD.customer_id AND contact_id = OLD.id AND gram IN (
            SELECT substr(s.v, p.key + 1, 2)
            FROM (SELECT lower(OLD.name) AS v UNION ALL SELECT lower(OLD.mobile)) AS s,
                 json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2)
                             || ']') AS p);
    END
    """,
)
SQLITE_DROP = (
    """
    DROP TRIGGER IF EXISTS search_grams_customer_insert
    """,
    """
    DROP TRIGGER IF EXISTS search_grams_customer_update
    """,
    """
    DROP TRIGGER IF EXISTS search_grams_customer_delete
    """,
    """
    DROP TRIGGER IF EXISTS search_grams_contact_insert
    """,
    """
    DROP TRIGGER IF EXISTS search_grams_contact_update
    """,
    """
    DROP TRIGGER IF EXISTS search_grams_contact_delete
    """,
)
POSTGRESQL_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION search_grams_customer_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- Each statement names only the transition tables its trigger has.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO search_grams (gram, customer_id, contact_id)
            SELECT DISTINCT substr(s.v, p.n, 2), s.id, 0
            FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                       'abcdefghijklmnopqrstuvwxyz') AS v FROM new_rows
                  UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                                 'abcdefghijklmnopqrstuvwxyz') FROM new_rows
                 ) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n);
        ELSIF TG_OP = 'UPDATE' THEN
            -- The old text's bigrams, found by the primary key (no index by customer).
            WITH changed AS (
                SELECT o.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                WHERE n.name IS DISTINCT FROM o.name OR n.name_key IS DISTINCT FROM o.name_key)
            DELETE FROM search_grams AS g
            USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
                   FROM (SELECT id, translate(name,
                       'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed
                         UNION ALL SELECT id, translate(name_key,
                             'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                             FROM changed) AS s
                   CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d
            WHERE g.gram = d.gram AND g.customer_id = d.id AND g.contact_id = 0;
            WITH changed AS (
                SELECT n.* FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
                WHERE n.name IS DISTINCT FROM o.name OR n.name_key IS DISTINCT FROM o.name_key)
            INSERT INTO search_grams (gram, customer_id, contact_id)
            SELECT DISTINCT substr(s.v, p.n, 2), s.id, 0
            FROM (SELECT id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                       'abcdefghijklmnopqrstuvwxyz') AS v FROM changed
                  UNION ALL SELECT id, translate(name_key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                                 'abcdefghijklmnopqrstuvwxyz') FROM changed
                 ) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n);
        ELSE
            DELETE FROM search_grams AS g
            USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.id
                   FROM (SELECT id, translate(name,
                       'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                       AS v FROM old_rows
                         UNION ALL SELECT id, translate(name_key,
                             'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                             FROM old_rows) AS s
                   CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d
            WHERE g.gram = d.gram AND g.customer_id = d.id AND g.contact_id = 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION search_grams_contact_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO search_grams (gram, customer_id, contact_id)
            SELECT DISTINCT substr(s.v, p.n, 2), s.customer_id, s.id
            FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                                    'abcdefghijklmnopqrstuvwxyz') AS v
                  FROM new_rows
                  UNION ALL SELECT id, customer_id, translate(mobile,
                      'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                  FROM new_rows
                 ) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n);
        ELSIF TG_OP = 'UPDATE' THEN
            WITH changed AS (
                SELECT o.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                WHERE n.customer_id <> o.customer_id OR n.name IS DISTINCT FROM o.name
                    OR n.mobile IS DISTINCT FROM o.mobile)
            DELETE FROM search_grams AS g
            USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.customer_id, s.id
                   FROM (SELECT id, customer_id, translate(name,
                       'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS v FROM changed
                         UNION ALL SELECT id, customer_id, translate(mobile,
                             'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                         FROM changed) AS s
                   CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d
            WHERE g.gram = d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
            WITH changed AS (
                SELECT n.* FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
                WHERE n.customer_id <> o.customer_id OR n.name IS DISTINCT FROM o.name
                    OR n.mobile IS DISTINCT FROM o.mobile)
            INSERT INTO search_grams (gram, customer_id, contact_id)
            SELECT DISTINCT substr(s.v, p.n, 2), s.customer_id, s.id
            FROM (SELECT id, customer_id, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                                    'abcdefghijklmnopqrstuvwxyz') AS v
                  FROM changed
                  UNION ALL SELECT id, customer_id, translate(mobile,
                      'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                  FROM changed
                 ) AS s CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n);
        ELSE
            DELETE FROM search_grams AS g
            USING (SELECT DISTINCT substr(s.v, p.n, 2) AS gram, s.customer_id, s.id
                   FROM (SELECT id, customer_id, translate(name,
                       'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                       AS v FROM old_rows
                         UNION ALL SELECT id, customer_id, translate(mobile,
                             'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                         FROM old_rows) AS s
                   CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)) AS d
            WHERE g.gram = d.gram AND g.customer_id = d.customer_id AND g.contact_id = d.id;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_customer_insert
    AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_customer_change()
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_customer_update
    AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_customer_change()
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_customer_delete
    AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_customer_change()
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_contact_insert
    AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_contact_change()
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_contact_update
    AFTER UPDATE ON contacts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_contact_change()
    """,
    """
    CREATE OR REPLACE TRIGGER search_grams_contact_delete
    AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION search_grams_contact_change()
    """,
)
POSTGRESQL_DROP = (
    """
    DROP FUNCTION IF EXISTS search_grams_customer_change() CASCADE
    """,
    """
    DROP FUNCTION IF EXISTS search_grams_contact_change() CASCADE
    """,
)


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade():
    op.create_table(
        "search_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("gram", "customer_id", "contact_id", name=op.f("pk_search_grams")),
        sqlite_with_rowid=False,
    )
    dialect = _dialect()
    if dialect == "postgresql":
        # No write may slip between the backfill and the triggers.
        op.execute("LOCK TABLE customers, contacts IN SHARE ROW EXCLUSIVE MODE")
    op.execute(BACKFILL[dialect])
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}[dialect]:
        op.execute(statement)


def downgrade():
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}[_dialect()]:
        op.execute(statement)
    op.drop_table("search_grams")
