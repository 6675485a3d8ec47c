"""`flask db upgrade` on an empty database gives exactly the schema the models declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, create_engine, inspect, text
from sqlalchemy.engine import make_url

from crm import create_app
from crm.extensions import db
from models.base import render_migration_type


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A database with no tables: a fresh SQLite file, or a scratch PostgreSQL database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    base = make_url(database_url)
    name = f"{base.database}_migrations"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


INDEX_NAMES = {
    "sqlite": text("SELECT name FROM sqlite_master WHERE type = 'index'"),
    "postgresql": text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"),
}


# SQLite's reflection cannot read an index on an expression (the competitor overview's
# order, migration 0030): the comparison leaves it out, and the test looks for it by name.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_gives_the_models_schema(empty_database_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_item": render_migration_type}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
            indexes = set(conn.scalars(INDEX_NAMES[conn.dialect.name]))
        assert differences == []
        expression_indexes = {
            index.name
            for table in db.metadata.sorted_tables
            for index in table.indexes
            if any(not isinstance(e, Column) for e in index.expressions)
        }
        assert "ix_competitor_profiles_expiry_order" in expression_indexes <= indexes
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_stage_totals_start_with_the_opportunities_there_are(empty_database_url):
    """0018 counts what is there, then its triggers count each write; downgrading drops them."""
    from decimal import Decimal

    from crm.services.pipeline import totals
    from models import Customer, Opportunity, OpportunityStatus, Role, Stage, User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0017")
        stage = db.session.scalars(db.select(Stage).order_by(Stage.position)).first()
        owner = User(username="m", display_name="M", email="m@example.com", role=Role.MANAGER)
        owner.set_password("correct-horse-9")
        customer = Customer(name="客户", owner=owner)
        for amount in (Decimal("10.50"), None, Decimal("3")):
            db.session.add(
                Opportunity(customer=customer, owner=owner, title="T", stage=stage, amount=amount)
            )
        db.session.commit()

        upgrade()
        every = tuple(OpportunityStatus)
        assert totals.stage_totals(every) == {stage.id: (3, Decimal("13.50"), Decimal("0.00"))}
        db.session.add(Opportunity(customer=customer, owner=owner, title="U", stage=stage))
        db.session.commit()
        assert totals.stage_totals(every)[stage.id][0] == 4
        db.session.commit()  # PostgreSQL: the read's lock would hold the drop back

        downgrade(revision="0017")
        db.session.add(Opportunity(customer=customer, owner=owner, title="V", stage=stage))
        db.session.commit()  # no trigger left writing to a table that is gone
        for model in (Opportunity, Customer, User):
            db.session.execute(db.delete(model))
        db.session.commit()
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_the_search_grams_start_with_the_customers_there_are(empty_database_url):
    """0020 cuts the names there are into bigrams, then its triggers cut each write."""
    from crm.services.archive.search import CustomerFilters, search_customers
    from models import Contact, Customer, Role, SearchGram, User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0019")
        admin = User(username="a", display_name="A", email="a@example.com", role=Role.ADMIN)
        admin.set_password("correct-horse-9")
        customer = Customer(name="中国人寿保险", name_key="中国人寿保险", owner=admin)
        db.session.add(Contact(customer=customer, name="王小明", mobile="13800138000"))
        db.session.commit()

        upgrade()

        def found(q: str) -> list[str]:
            stmt = search_customers(admin, CustomerFilters(q=q))
            return [c.name for c in db.session.scalars(stmt)]

        assert found("人寿") == found("小明") == found("0013") == ["中国人寿保险"]
        db.session.add(Customer(name="东湖人民医院", owner=admin))
        db.session.commit()
        assert found("医院") == ["东湖人民医院"]
        db.session.commit()  # PostgreSQL: the read's lock would hold the drop back

        downgrade(revision="0019")
        db.session.add(Customer(name="西湖银行", owner=admin))
        db.session.commit()  # no trigger left writing to a table that is gone
        assert not inspect(db.engine).has_table(SearchGram.__tablename__)
        for model in (Contact, Customer, User):
            db.session.execute(db.delete(model))
        db.session.commit()
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_the_latest_migration_writes_the_search_triggers_the_models_write():
    """A migration keeps its own copy of the trigger functions (later changes of the models
    must come with a migration of their own): the newest copy is the models' text."""
    import importlib.util
    from pathlib import Path

    from models import search_grams

    path = Path(__file__).parents[1] / "migrations/versions/0026_search_gram_backlog.py"
    spec = importlib.util.spec_from_file_location("migration_0026", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def words(sql: str) -> list[str]:
        return sql.split()

    assert [words(sql) for sql in migration.FUNCTIONS] == [
        words(search_grams._pg_function(table)) for table in ("customers", "contacts")
    ]
    inserts = [sql for sql in search_grams.SQLITE_TRIGGERS if "_insert " in sql or "_defer " in sql]
    assert [words(sql) for sql in migration.SQLITE_TRIGGERS] == [words(sql) for sql in inserts]
    assert {dialect: words(sql) for dialect, sql in migration.FOLD.items()} == {
        dialect: words(sql) for dialect, sql in search_grams.FOLD.items()
    }
