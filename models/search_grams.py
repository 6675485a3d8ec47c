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


class SearchGramBacklog(db.Model):
    """A searched text whose bigrams a bulk write left for the scheduler to cut.

    Cutting an import's 100,000 names costs 1.3 million index entries, more than the rows
    themselves (5 of an import's 12 s at province). Inside `bulk_writes`
    (crm/services/archive/search_backlog.py) the insert triggers list the new customers and
    contacts here instead; the scheduler folds them in batches, sorted, in the background.
    Meanwhile the search reads each listed customer whole, with its LIKEs, so nothing is
    missed. The row (0, 0) (no customer has id 0) marks a transaction writing in bulk: it
    is added and removed inside that transaction, so no other transaction ever sees it.
    """

    __tablename__ = "search_gram_backlog"
    __table_args__ = ({"sqlite_with_rowid": False},)

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


# The trigger's test that its transaction writes in bulk (see SearchGramBacklog).
BULK_MARK = "SELECT 1 FROM search_gram_backlog WHERE customer_id = 0 AND contact_id = 0"


# Filling the table from the customers and contacts there are (the migration, --reuse), or
# from those the backlog lists (the fold, a customer-id range of it at a time): each source
# (customer_id, contact_id, v), folded, cut into its distinct bigrams, sorted (inserted in
# the index's order, they cost half what scattered ones do). SQLite has no series function
# and allows no WITH in a trigger: json_each over an array of length(v) - 1 zeros numbers a
# text's positions (its `key` counts from 0). SQLite's lower() folds ASCII only, the way its
# LIKE compares; PostgreSQL's would fold every letter, so there translate() folds A-Z.
_FOLD = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'"
_FOLDED = {"sqlite": "lower({})", "postgresql": "translate({}, " + _FOLD + ")"}
_POSITIONS = {
    "sqlite": (
        ", json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2) "
        "|| ']') AS p",
        "p.key + 1",
    ),
    "postgresql": (" CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)", "p.n"),
}
_LISTED = (
    " JOIN search_gram_backlog AS b ON b.customer_id = {customer} AND b.contact_id = {contact}"
)
_IN_RANGE = " WHERE b.customer_id BETWEEN :first AND :last"


def _cut_sources(dialect: str, *, backlog: bool) -> str:
    fold = _FOLDED[dialect]
    customers, contacts = "customers AS c", "contacts AS k"
    if backlog:
        customers += _LISTED.format(customer="c.id", contact="0") + _IN_RANGE
        contacts += _LISTED.format(customer="k.customer_id", contact="k.id") + _IN_RANGE
    positions, position = _POSITIONS[dialect]
    ignore = {"sqlite": " OR IGNORE", "postgresql": ""}[dialect] if backlog else ""
    conflict = " ON CONFLICT DO NOTHING" if backlog and dialect == "postgresql" else ""
    return (  # built from the constants above only
        f"INSERT{ignore} INTO search_grams (gram, customer_id, contact_id) "  # noqa: S608
        f"SELECT DISTINCT substr(s.v, {position}, 2), s.customer_id, s.contact_id FROM ("
        f"SELECT c.id AS customer_id, 0 AS contact_id, {fold.format('c.name')} AS v "
        f"FROM {customers} "
        f"UNION ALL SELECT c.id, 0, {fold.format('c.name_key')} FROM {customers} "
        f"UNION ALL SELECT k.customer_id, k.id, {fold.format('k.name')} FROM {contacts} "
        f"UNION ALL SELECT k.customer_id, k.id, {fold.format('k.mobile')} FROM {contacts}"
        f") AS s{positions} ORDER BY 1, 2, 3{conflict}"
    )


BACKFILL = {dialect: _cut_sources(dialect, backlog=False) for dialect in _FOLDED}
# A bigram already there (a row changed since it was listed: its trigger cut the new text)
# is kept.
FOLD = {dialect: _cut_sources(dialect, backlog=True) for dialect in _FOLDED}

# The searched texts by table: (trigger name, the row's ids as (customer_id, contact_id),
# its two texts, the columns whose change moves its bigrams).
SOURCES = {
    "customers": ("customer", ("{row}.id", "0"), ("name", "name_key"), ("name", "name_key")),
    "contacts": (
        "contact",
        ("{row}.customer_id", "{row}.id"),
        ("name", "mobile"),
        ("customer_id", "name", "mobile"),
    ),
}


def _sqlite_cut(row: str, texts: tuple[str, str]) -> str:
    """FROM clause: both texts of `row` (NEW or OLD), folded, with their positions."""
    first, second = texts
    return (
        f"FROM (SELECT lower({row}.{first}) AS v UNION ALL SELECT lower({row}.{second})) AS s, "
        "json_each('[' || substr(replace(hex(zeroblob(length(s.v) - 1)), '00', ',0'), 2) "
        "|| ']') AS p"
    )


def _sqlite_insert(table: str) -> str:
    _name, ids, texts, _moved = SOURCES[table]
    customer_id, contact_id = (part.format(row="NEW") for part in ids)
    return (
        "INSERT INTO search_grams (gram, customer_id, contact_id) "
        f"SELECT DISTINCT substr(s.v, p.key + 1, 2), {customer_id}, {contact_id} "
        f"{_sqlite_cut('NEW', texts)};"
    )


def _sqlite_delete(table: str) -> str:
    """The old text's bigrams, found through the primary key (no index by customer)."""
    _name, ids, texts, _moved = SOURCES[table]
    customer_id, contact_id = (part.format(row="OLD") for part in ids)
    return (  # built from the constants above only
        f"DELETE FROM search_grams WHERE customer_id = {customer_id} "  # noqa: S608
        f"AND contact_id = {contact_id} AND gram IN ("
        f"SELECT substr(s.v, p.key + 1, 2) {_sqlite_cut('OLD', texts)});"
    )


def _sqlite_triggers(table: str) -> tuple[str, str, str, str]:
    name, ids, _texts, moved = SOURCES[table]
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in moved)
    customer_id, contact_id = (part.format(row="NEW") for part in ids)
    return (
        f"CREATE TRIGGER IF NOT EXISTS search_grams_{name}_insert AFTER INSERT ON {table} "
        f"WHEN NOT EXISTS ({BULK_MARK}) BEGIN {_sqlite_insert(table)} END",
        f"CREATE TRIGGER IF NOT EXISTS search_grams_{name}_defer AFTER INSERT ON {table} "  # noqa: S608
        f"WHEN EXISTS ({BULK_MARK}) BEGIN INSERT OR IGNORE INTO search_gram_backlog "
        f"(customer_id, contact_id) VALUES ({customer_id}, {contact_id}); END",
        f"CREATE TRIGGER IF NOT EXISTS search_grams_{name}_update "
        f"AFTER UPDATE OF {', '.join(moved)} ON {table} WHEN {changed} "
        f"BEGIN {_sqlite_delete(table)} {_sqlite_insert(table)} END",
        f"CREATE TRIGGER IF NOT EXISTS search_grams_{name}_delete AFTER DELETE ON {table} "
        f"BEGIN {_sqlite_delete(table)} END",
    )


# SQLite: a trigger per row; `OF ... WHEN` skips updates that change no searched text
# (an owner, a tier, the version), which then cost nothing here. An insert inside
# `bulk_writes` lists the row in the backlog instead of cutting its text.
SQLITE_TRIGGERS = (*_sqlite_triggers("customers"), *_sqlite_triggers("contacts"))
SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS search_grams_{table}_{operation}"
    for table in ("customer", "contact")
    for operation in ("insert", "defer", "update", "delete")
)

# Per table: the row's (customer_id, contact_id) as the cut rows carry them, and the
# columns the cut rows keep.
_PG_IDS = {
    "customers": (("id", "0"), "id"),
    "contacts": (("customer_id", "id"), "id, customer_id"),
}


def _pg_cut(table: str, rows: str) -> str:
    """FROM clause: both texts of each of `rows` (a transition table or CTE), folded in
    ASCII, with their positions."""
    _name, _ids, (first, second), _moved = SOURCES[table]
    kept = _PG_IDS[table][1]
    return (  # built from the constants above only
        f"FROM (SELECT {kept}, translate({first}, {_FOLD}) AS v FROM {rows} "  # noqa: S608
        f"UNION ALL SELECT {kept}, translate({second}, {_FOLD}) FROM {rows}) AS s "
        "CROSS JOIN LATERAL generate_series(1, length(s.v) - 1) AS p(n)"
    )


def _pg_ids(table: str, prefix: str) -> tuple[str, str]:
    return tuple(part if part == "0" else f"{prefix}.{part}" for part in _PG_IDS[table][0])


def _pg_insert(table: str, rows: str) -> str:
    """The rows' bigrams; one the backlog's fold has cut meanwhile is already there."""
    customer_id, contact_id = _pg_ids(table, "s")
    return (
        "INSERT INTO search_grams (gram, customer_id, contact_id) "
        f"SELECT DISTINCT substr(s.v, p.n, 2), {customer_id}, {contact_id} "
        f"{_pg_cut(table, rows)} ON CONFLICT DO NOTHING;"
    )


def _pg_defer(table: str) -> str:
    """The rows listed in the backlog, their bigrams left to the fold."""
    customer_id, contact_id = _PG_IDS[table][0]
    return (  # built from the constants above only
        "INSERT INTO search_gram_backlog (customer_id, contact_id) "  # noqa: S608
        f"SELECT {customer_id}, {contact_id} FROM new_rows ON CONFLICT DO NOTHING;"
    )


def _pg_delete(table: str, rows: str) -> str:
    """The rows' bigrams, found through the primary key (no index by customer)."""
    kept = ", ".join(f"s.{column.strip()}" for column in _PG_IDS[table][1].split(","))
    customer_id, contact_id = _pg_ids(table, "d")
    return (  # built from the constants above only
        "DELETE FROM search_grams AS g USING ("  # noqa: S608
        f"SELECT DISTINCT substr(s.v, p.n, 2) AS gram, {kept} {_pg_cut(table, rows)}) AS d "
        f"WHERE g.gram = d.gram AND g.customer_id = {customer_id} "
        f"AND g.contact_id = {contact_id};"
    )


def _pg_function(table: str) -> str:
    """One function for the table's three triggers: each statement names only the
    transition tables its trigger has."""
    name, _ids, (first, second), _moved = SOURCES[table]
    # The rows whose text moved: the old ones not among the new, and the new ones not
    # among the old, compared on ids and texts (EXCEPT counts two NULLs alike, as IS NOT
    # DISTINCT FROM). Hashed sets: a join of the two transition tables, which have no
    # statistics, ran as a nested loop, and a handover's update of 10,000 customers that
    # changed no name took 600 ms comparing every old row with every new one. (Built from
    # the constants above only.)
    columns = f"{_PG_IDS[table][1]}, {first}, {second}"
    old_text = f"SELECT {columns} FROM old_rows EXCEPT SELECT {columns} FROM new_rows"  # noqa: S608
    new_text = f"SELECT {columns} FROM new_rows EXCEPT SELECT {columns} FROM old_rows"  # noqa: S608
    return f"""
    CREATE OR REPLACE FUNCTION search_grams_{name}_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' AND EXISTS ({BULK_MARK}) THEN
            {_pg_defer(table)}
        ELSIF TG_OP = 'INSERT' THEN
            {_pg_insert(table, "new_rows")}
        ELSIF TG_OP = 'UPDATE' THEN
            WITH changed AS ({old_text})
            {_pg_delete(table, "changed")}
            WITH changed AS ({new_text})
            {_pg_insert(table, "changed")}
        ELSE
            {_pg_delete(table, "old_rows")}
        END IF;
        RETURN NULL;
    END $$
    """


# PostgreSQL: a trigger per statement with its transition tables, so an import's or the
# generator's many-row INSERT is cut in one statement. Transition tables rule out
# `UPDATE OF columns`: the update branch picks the rows whose text changed itself.
POSTGRESQL_TRIGGERS = (
    _pg_function("customers"),
    _pg_function("contacts"),
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
