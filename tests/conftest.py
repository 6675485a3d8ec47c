"""Shared fixtures: app, client, runner, factories and fast sign-in.

`CRM_TEST_DATABASE_URL` selects PostgreSQL (each xdist worker gets its own
scratch database); unset, every test gets a fresh in-memory SQLite database.
"""

from __future__ import annotations

import gc
import itertools
import os
import sqlite3
from datetime import UTC, datetime

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from crm import create_app, request_cache
from crm.auth import SIGN_IN_KEY
from crm.extensions import db, limiter
from crm.services.people.sessions import start_session
from crm.services.seed import seed_reference_data
from models import (
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    Level,
    Opportunity,
    Reminder,
    Role,
    Stage,
    Team,
    User,
    Visit,
)
from models.user import new_session_token
from tests import speedups

TEST_PASSWORD = "correct-horse-9"
PG_URL = os.environ.get("CRM_TEST_DATABASE_URL")
_created_schemas: set[str] = set()
speedups.install()  # caches for what every test's create_app() would redo
_counter = itertools.count(1)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + make_url(PG_URL).database if PG_URL else 'SQLite'}"


def pytest_collection_finish(session):
    """Leave what imports and collection built out of every full garbage collection.

    As crm.app.settle_worker does for a web worker: without it each full collection
    walks the ~million long-lived objects again, and every test's create_app() sets
    off several (a third of its time). Tests that need a collection call gc.collect().
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    """A scratch database for this test process."""
    if not PG_URL:
        return "sqlite://"
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    base = make_url(PG_URL)
    name = f"{base.database}_{worker}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A scratch database need not wait for its WAL to reach the disk on every
            # commit (tests commit on every factory call); crash safety is moot here.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as error:  # noqa: BLE001
        if os.environ.get("CRM_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL at {base.render_as_string()} is unreachable: {error}")
    finally:
        admin_engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One scrypt hash for every test user: hashing per user would cost ~0.1 s each."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(TEST_PASSWORD, method="scrypt")


@pytest.fixture
def app_overrides() -> dict:
    """Tests override config by overriding this fixture."""
    return {}


@pytest.fixture
def app(database_url, app_overrides):
    app = create_app("testing", **{"SQLALCHEMY_DATABASE_URI": database_url, **app_overrides})
    app.test_client_class = RequestClient
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
            _fill_from_template(db.engine)  # a new in-memory database per app
        else:
            if database_url.startswith("sqlite"):
                db.create_all()
            elif database_url not in _created_schemas:
                db.drop_all()
                db.create_all()
                _created_schemas.add(database_url)
            seed_reference_data()  # what the migrations insert on a real database
            db.session.commit()
        yield app
        db.session.remove()
        if database_url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text(_empty_postgres_sql()))
        db.engine.dispose()
    limiter.reset()


_sqlite_template: sqlite3.Connection | None = None


def _fill_from_template(engine) -> None:
    """Copy the schema and reference data into this app's empty in-memory database.

    Built once per process with create_all() and seed_reference_data(), then copied
    page by page (sqlite3's backup API): ~2 ms instead of ~100 ms per test. The copy is
    still a database of its own per app (the engine holds one connection: StaticPool).
    """
    global _sqlite_template
    if _sqlite_template is None:
        db.create_all()
        seed_reference_data()
        db.session.commit()
        template = sqlite3.connect(":memory:", check_same_thread=False)
        with engine.connect() as conn:
            conn.connection.driver_connection.backup(template)
        _sqlite_template = template
        return
    with engine.connect() as conn:
        _sqlite_template.backup(conn.connection.driver_connection)


def _empty_postgres_sql() -> str:
    """One statement that empties every table and restarts every used sequence.

    What TRUNCATE ... RESTART IDENTITY CASCADE did, at ~10 ms instead of ~500 ms:
    TRUNCATE makes new files for each of the 53 tables and their indexes, while a
    DELETE of an (almost always) empty or small table costs next to nothing. Foreign
    keys are not checked (session_replication_role = replica) because every table is
    emptied in the same transaction; ids start again at 1 as they did after TRUNCATE.
    """
    tables = reversed(db.metadata.sorted_tables)  # names from our own models, not input
    deletes = "".join(f'DELETE FROM "{t.name}";' for t in tables)  # noqa: S608
    return (
        "DO $$ BEGIN SET LOCAL session_replication_role = replica; "
        + deletes
        + " PERFORM setval(format('%I.%I', schemaname, sequencename)::regclass,"
        " start_value, false) FROM pg_sequences WHERE last_value IS NOT NULL; END $$"
    )


class RequestClient(FlaskClient):
    """A test client whose requests do not inherit the test's cached signed-in user.

    The tests keep one app context open, and Flask reuses it for each request, so
    Flask-Login's per-context cache of the user would survive from one request to
    the next; in production every request starts without it.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)  # Flask-Babel's per-context language and zone, likewise
        g.pop("csrf_token", None)  # Flask-WTF's token of the last request's session, likewise
        g.pop(request_cache.CACHE_KEY, None)  # the app's per-request cache, likewise
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories -------------------------------------------------------------------


@pytest.fixture
def make_team(app):
    def make(name: str | None = None, supervisor: User | None = None) -> Team:
        team = Team(name=name or f"Team {next(_counter)}", supervisor=supervisor)
        db.session.add(team)
        db.session.commit()
        return team

    return make


@pytest.fixture
def make_user(app, password_hash):
    def make(
        username: str | None = None,
        role: Role = Role.MANAGER,
        level: Level = Level.INTERMEDIATE,
        team: Team | None = None,
        **fields,
    ) -> User:
        username = username or f"user{next(_counter)}"
        user = User(
            username=username,
            display_name=fields.pop("display_name", username.title()),
            email=fields.pop("email", f"{username}@example.com"),
            password_hash=password_hash,
            session_token=new_session_token(),
            role=role,
            level=level,
            team=team,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_customer(app):
    def make(owner: User, name: str | None = None, **fields) -> Customer:
        customer = Customer(name=name or f"客户{next(_counter)}有限公司", owner=owner, **fields)
        db.session.add(customer)
        db.session.commit()
        return customer

    return make


@pytest.fixture
def make_contact(app):
    def make(customer: Customer, name: str | None = None, **fields) -> Contact:
        contact = Contact(customer=customer, name=name or f"联系人{next(_counter)}", **fields)
        db.session.add(contact)
        db.session.commit()
        return contact

    return make


@pytest.fixture
def make_competitor(app):
    def make(name: str | None = None, **fields) -> Competitor:
        competitor = Competitor(name=name or f"竞争对手{next(_counter)}", **fields)
        db.session.add(competitor)
        db.session.commit()
        return competitor

    return make


@pytest.fixture
def make_profile(app, make_competitor):
    def make(customer: Customer, competitor: Competitor | None = None, **fields):
        profile = CompetitorProfile(
            customer=customer, competitor=competitor or make_competitor(), **fields
        )
        db.session.add(profile)
        db.session.commit()
        return profile

    return make


@pytest.fixture
def stages(app) -> dict[str, Stage]:
    """The default stages by English name ("Initial contact", ..., "Contract", ...)."""
    return {s.name_en: s for s in db.session.scalars(select(Stage).order_by(Stage.position))}


@pytest.fixture
def make_opportunity(app, stages):
    def make(customer: Customer, stage: str = "Initial contact", **fields) -> Opportunity:
        stage_row = stages[stage]
        fields.setdefault("owner", customer.owner)
        fields.setdefault("probability", stage_row.probability)
        opportunity = Opportunity(
            customer=customer,
            title=fields.pop("title", f"商机{next(_counter)}"),
            stage=stage_row,
            **fields,
        )
        db.session.add(opportunity)
        db.session.commit()
        return opportunity

    return make


@pytest.fixture
def make_visit(app):
    def make(customer: Customer, user: User | None = None, **fields) -> Visit:
        fields.setdefault("occurred_at", datetime.now(UTC))
        visit = Visit(customer=customer, user=user or customer.owner, **fields)
        db.session.add(visit)
        db.session.commit()
        return visit

    return make


@pytest.fixture
def make_reminder(app):
    def make(customer: Customer, owner: User | None = None, **fields) -> Reminder:
        due_at = fields.pop("due_at", datetime.now(UTC))
        reminder = Reminder(
            customer=customer,
            owner=owner or customer.owner,
            due_at=due_at,
            due_on=fields.pop("due_on", due_at.date()),
            **fields,
        )
        db.session.add(reminder)
        db.session.commit()
        return reminder

    return make


@pytest.fixture
def org(make_team, make_user):
    """Two teams with a supervisor and two managers each, and an admin."""
    sup1 = make_user("sup1", Role.SUPERVISOR, Level.SENIOR)
    sup2 = make_user("sup2", Role.SUPERVISOR, Level.SENIOR)
    team1 = make_team("Team One", supervisor=sup1)
    team2 = make_team("Team Two", supervisor=sup2)
    sup1.team, sup2.team = team1, team2
    people = {
        "admin": make_user("admin", Role.ADMIN, Level.SENIOR),
        "sup1": sup1,
        "sup2": sup2,
        "m1": make_user("m1", Role.MANAGER, Level.SENIOR, team1),
        "m2": make_user("m2", Role.MANAGER, Level.JUNIOR, team1),
        "m3": make_user("m3", Role.MANAGER, Level.INTERMEDIATE, team2),
        "m4": make_user("m4", Role.MANAGER, Level.JUNIOR, team2),
    }
    db.session.commit()
    people["team1"], people["team2"] = team1, team2
    return people


@pytest.fixture
def login(app):
    """Sign a test client in as `user` without the cost of a password check."""

    def sign_in(client, user: User):
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        key = start_session(user)  # a sign-in of its own, as the sign-in page makes
        db.session.commit()
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["_id"] = identifier
            session[SIGN_IN_KEY] = key
        return client

    return sign_in


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a `with count_queries() as counter:` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
