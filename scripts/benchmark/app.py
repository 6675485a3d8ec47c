"""The app under measurement, its database, and the bare floor route (bench only)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flask import Flask, render_template, request
from flask_login import login_required
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.schema import CreateColumn

from crm.app import create_app, settle_worker
from crm.extensions import db

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"

FLOOR_TEMPLATE = """<!doctype html><title>floor</title><table>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.tier }}</td>
<td>{{ row.region }}</td><td>{{ row.status }}</td><td>{{ row.owner }}</td></tr>{% endfor %}
</table>"""
LAYOUT_TEMPLATE = '{% extends "base.html" %}{% block content %}{% endblock %}'
FLOOR_SQL = text(
    "SELECT c.id, c.name, c.tier, c.region, c.status, u.display_name AS owner "
    "FROM customers c JOIN users u ON u.id = c.owner_id "
    "WHERE c.owner_id = :owner ORDER BY c.name, c.id LIMIT 50"
)


class StatementCounter:
    """Counts SQL statements the engine runs (all threads; the bench runs one at a time)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs) -> None:
        with self.lock:
            self.count += 1


def default_url(size: str) -> str:
    RESULTS.mkdir(exist_ok=True)
    return f"sqlite:///{RESULTS / f'bench-{size}.sqlite3'}"


def make_app(database_url: str, **overrides) -> tuple[Flask, StatementCounter]:
    """The production-like app (CSRF on, development config) on the bench database."""
    os.environ.pop("CRM_DATABASE_URL", None)
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret",
        "MAIL_DIR": str(RESULTS / "mail"),
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",  # a line per request would be measured too
        **overrides,
    }
    app = create_app("development", **settings)

    # Compiled once, as Flask keeps its file templates: render_template_string would
    # compile it on every request and flatter every page's ratio.
    floor_template = app.jinja_env.from_string(FLOOR_TEMPLATE)

    def floor():
        owner = request.args.get("owner", 0, type=int)
        rows = db.session.execute(FLOOR_SQL, {"owner": owner}).all()
        return floor_template.render(rows=rows)

    app.add_url_rule("/_bench/floor", "bench_floor", floor)

    # A reference, not a target: the app's fixed cost of any page — signing in from the
    # session, the layout with its navigation, the CSRF token, the security headers.
    layout_template = app.jinja_env.from_string(LAYOUT_TEMPLATE)

    @login_required
    def layout():
        return render_template(layout_template)  # with Flask's context processors

    app.add_url_rule("/_bench/layout", "bench_layout", layout)
    counter = StatementCounter()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counter)
    settle_worker(app)  # as wsgi.py does in every production worker
    return app, counter


def has_data() -> bool:
    if not inspect(db.engine).has_table("users"):
        return False
    from models import User

    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _index_names(table: str) -> set[str]:
    """The table's indexes by name, from the catalogue: SQLAlchemy's inspector does not
    see SQLite's indexes on an expression (migration 0030's)."""
    catalogue = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = :table",
    }[db.engine.dialect.name]
    with db.engine.connect() as conn:
        return set(conn.scalars(text(catalogue), {"table": table}))


def add_missing_schema() -> None:
    """A dataset an older checkout generated, reused: add the tables, indexes and triggers
    the models have gained since (what the migrations add to a real database), so the
    pages are timed as today's code runs them."""
    from models import search_grams
    from models.stage_totals import TRIGGERS

    dialect = db.engine.dialect.name
    db.create_all()  # only the missing tables
    analyse = set()
    for table in db.metadata.sorted_tables:
        present = {column["name"] for column in inspect(db.engine).get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:  # filled by the jobs the bench then runs
                print(f"    adding {table.name}.{column.name}")
                ddl = CreateColumn(column).compile(dialect=db.engine.dialect)
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
        named = {index.name for index in table.indexes}
        there = _index_names(table.name)
        for name in sorted(there):
            if name.startswith("ix_") and name not in named:
                print(f"    dropping {name} (a migration has replaced it)")
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"DROP INDEX {name}")
        for index in table.indexes:
            if index.name not in there:
                print(f"    adding {index.name}")
                index.create(db.engine)
                analyse.add(table.name)
    with db.engine.begin() as conn:
        for statement in TRIGGERS[dialect]:  # each creates if missing
            conn.exec_driver_sql(statement)
        # As migration 0020: the rows there are, then the triggers. Empty while there are
        # customers: new here, or made by create_all on a run from before this code.
        if conn.execute(select(search_grams.SearchGram.gram).limit(1)).first() is None:
            print("    filling search_grams (the customer search's bigrams)")
            started = time.perf_counter()
            conn.exec_driver_sql(search_grams.BACKFILL[dialect])
            print(f"    {time.perf_counter() - started:.1f} s")
            analyse.add(search_grams.SearchGram.__tablename__)
        # Replaced, not only created if missing: an earlier run may have made older ones.
        for statement in (*search_grams.DROP_TRIGGERS[dialect], *search_grams.TRIGGERS[dialect]):
            conn.exec_driver_sql(statement)
        for name in sorted(analyse):  # the planner's statistics for the new indexes
            conn.exec_driver_sql(f"ANALYZE {name}")


def fresh_schema() -> None:
    """Empty the bench database and create the schema with its reference data."""
    from crm.services.seed import seed_reference_data

    db.drop_all()
    db.create_all()
    seed_reference_data()
    db.session.commit()
