"""SQLite connection settings: enforce foreign keys and let readers run beside a writer."""

from __future__ import annotations

from sqlalchemy import Engine, event


def configure(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            # WAL lets the web app read while the scheduler writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MB of page cache per connection instead of SQLite's 2 MB: a province's
            # database (~600 MB) otherwise rereads the same index pages on every page view.
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()
