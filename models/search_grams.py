"""Every two-character piece of the text the customer search reads, kept by the database.

The customer search matches `LIKE '%q%'` against a customer's name and name key and its
contacts' names and mobiles; with no other filter an admin's search read all 100,000
customers and their contacts (a second at province scale). Trigram indexes do not serve
the common query, a two-character Chinese word (人寿, 医院, 银行). Here each customer has
a row per distinct bigram of that text, so a query of two or more characters reads the
customers holding all of its bigrams, and the LIKE runs on those only
(crm/services/archive/search_index.py).

Triggers on `customers` and `contacts` keep the rows on every write whatever makes it (a
page, the API, an import, a merge's bulk UPDATE of contacts, the bench's generator), in
the same transaction, as models/stage_totals.py does. ORM events would miss the core
statements (the merge moves contacts with one UPDATE, the generator inserts with core).

Text is folded to lower case in ASCII only, as SQLite's LIKE compares; PostgreSQL's LIKE
is case-sensitive, so the folded bigrams find a superset there, which the LIKE narrows.
`contact_id` 0 marks the customer's own text; a contact's rows carry its id, so a change
to one source replaces only its rows.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, String, event
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db
from models.contact import Contact


class SearchGram(db.Model):
    """One bigram of one customer's searchable text (its own, or one contact's)."""

    __tablename__ = "search_grams"
    # SQLite: the primary key is the table, with no rowid copy. No second index (by
    # customer) either: a change deletes the old text's bigrams through the primary key,
    # which halves what each write and the database's size cost.
    __table_args__ = ({"sqlite_with_rowid": False},)

    # The search reads (gram, customer_id) from the primary key alone. No foreign keys:
    # the triggers delete a customer's rows with it.
    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


# Filling the table from the customers and contacts there are (the migration, --reuse):
# each source (customer_id, contact_id, v), folded, cut into its distinct bigrams.
# SQLite has no series function and allows no WITH in a trigger: json_each over an array
# of length(v) - 1 zeros numbers a text's positions (its `key` counts from 0). SQLite's
# lower() folds ASCII only, the way its LIKE compares; PostgreSQL's would fold every
# letter, so there translate() folds A-Z.
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

# SQLite: a trigger per row; `OF ... WHEN` skips updates that change no searched text
# (an owner, a tier, the version), which then cost nothing here.
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
SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS search_grams_{table}_{operation}"
    for table in ("customer", "contact")
    for operation in ("insert", "update", "delete")
)

# PostgreSQL: a trigger per statement with its transition tables, so an import's or the
# generator's many-row INSERT is cut in one statement. Transition tables rule out
# `UPDATE OF columns`: the update branch picks the rows whose text changed itself.
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
    *(
        f"""
        CREATE OR REPLACE TRIGGER search_grams_{table}_{operation}
        AFTER {operation.upper()} ON {table}s
        REFERENCING {transition_tables} FOR EACH STATEMENT
        EXECUTE FUNCTION search_grams_{table}_change()
        """
        for table in ("customer", "contact")
        for operation, transition_tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        )
    ),
)
POSTGRESQL_DROP = (
    "DROP FUNCTION IF EXISTS search_grams_customer_change() CASCADE",  # its triggers too
    "DROP FUNCTION IF EXISTS search_grams_contact_change() CASCADE",
)

TRIGGERS = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}
DROP_TRIGGERS = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


# With the customers and contacts tables (create_all makes them before or after this one:
# a trigger's body names its table only when it runs). The migration runs the same.
for dialect, statements in TRIGGERS.items():
    for statement in statements:
        event.listen(Contact.__table__, "after_create", DDL(statement).execute_if(dialect=dialect))
for dialect, statements in DROP_TRIGGERS.items():
    for statement in statements:
        event.listen(
            SearchGram.__table__, "before_drop", DDL(statement).execute_if(dialect=dialect)
        )
