"""How a request's database transaction ends: a request that only read commits.

The write path commits what it changes (blueprints/common.py `write`); whatever a request
leaves open is ended when its app context is torn down. Flask-SQLAlchemy rolls it back.
For a transaction that only read, COMMIT and ROLLBACK are the same to the database, but
not to psycopg: it forgets every prepared statement of the connection on ROLLBACK, so
nothing a page runs was ever prepared and PostgreSQL planned each statement on every
request (3.2 ms of planning for the customer page's 0.5 ms archive query). Ending a read
with COMMIT keeps the statements prepared from their fifth run on: the customer page on
PostgreSQL at province 21 -> 14 ms, the supervisor home 58 -> 52.

What counts as a write is what the connection ran, whatever ran it (the ORM's flushes,
core statements, raw SQL): anything but a SELECT, or a WITH without INSERT, UPDATE,
DELETE or MERGE. A transaction that wrote and was not committed is rolled back as
before, and so is every transaction of a request that failed, or whose session holds a
service's state of the transaction (`session.info`: the document store's objects written
before their rows, which a rollback removes).
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import Engine, event

from crm.extensions import db

_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_DATA_CHANGE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
WROTE = "crm_wrote"  # in the DBAPI connection's info: this transaction changed something


def reads_only(statement: str) -> bool:
    """The statement changes no row (a SELECT's locks end with either COMMIT or ROLLBACK)."""
    found = _READ.match(statement)
    if found is None:
        return False
    return found.group(1).upper() == "SELECT" or not _DATA_CHANGE.search(statement)


def init_app(app: Flask, engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(connection, cursor, statement, parameters, context, executemany) -> None:
        if not reads_only(statement):
            connection.info[WROTE] = True

    # Registered after Flask-SQLAlchemy's own teardown, so it runs before the session is
    # removed (Flask runs teardown functions in reverse order).
    @app.teardown_appcontext
    def _end_reads_with_commit(error: BaseException | None) -> None:
        session = db.session()
        transaction = session.get_transaction()
        # A transaction a failed flush left inactive can only be rolled back.
        if error is not None or transaction is None or not transaction.is_active:
            return
        if session.new or session.dirty or session.deleted:
            return  # changes never flushed: rolled back with the session
        if session.info:
            return  # a service's state of this transaction (the document store's new objects)
        if session.connection().info.get(WROTE, True):
            return
        # Nothing changed, so nothing read needs reloading: a streamed answer (a CSV export)
        # goes on reading its rows and the signed-in user after this, detached.
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
