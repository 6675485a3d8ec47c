"""A request's transaction ends with COMMIT when it only read, with ROLLBACK otherwise
(crm/request_transaction.py): psycopg forgets its prepared statements on ROLLBACK.

Each test ends the app context's transaction as a request's end does
(`app.do_teardown_appcontext`) and watches what the engine sent.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from crm.extensions import db
from crm.request_transaction import reads_only
from models import Customer


@pytest.fixture
def endings(app):
    """The COMMITs and ROLLBACKs the engine sends, in order."""
    seen: list[str] = []
    listeners = {
        "commit": lambda conn: seen.append("commit"),
        "rollback": lambda conn: seen.append("rollback"),
    }
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    yield seen
    for name, listener in listeners.items():
        event.remove(db.engine, name, listener)


def end_request(app, error: BaseException | None = None) -> None:
    app.do_teardown_appcontext(error)


def name_of(customer_id: int) -> str:
    return db.session.scalar(select(Customer.name).where(Customer.id == customer_id))


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT customers.id FROM customers", True),
        ("  select 1", True),
        ("SELECT id FROM customers FOR UPDATE", True),  # its lock ends either way
        ("WITH RECURSIVE up(id) AS (SELECT 1) SELECT id FROM up", True),
        (
            "WITH moved AS (UPDATE customers SET tier = 'A' RETURNING id) SELECT id FROM moved",
            False,
        ),
        ("INSERT INTO customers (name) VALUES ('x')", False),
        ("UPDATE customers SET name = 'x'", False),
        ("DELETE FROM customers", False),
        ("PRAGMA foreign_keys=ON", False),  # not a SELECT: counted as a write
    ],
)
def test_what_counts_as_reading_only(statement, expected):
    assert reads_only(statement) is expected


def test_a_request_that_only_read_commits(app, org, make_customer, endings):
    customer = make_customer(org["m1"], "只读客户")
    endings.clear()
    assert name_of(customer.id) == "只读客户"
    end_request(app)
    assert endings == ["commit"]


def test_a_write_left_uncommitted_is_rolled_back(app, org, make_customer, endings):
    customer = make_customer(org["m1"], "原名")
    customer_id = customer.id
    endings.clear()
    customer.name = "改名未提交"
    db.session.flush()  # written, never committed: a view that failed after its flush
    end_request(app)
    assert endings == ["rollback"]
    assert name_of(customer_id) == "原名"


def test_core_and_raw_writes_are_writes_too(app, org, make_customer, endings):
    customer = make_customer(org["m1"], "原名")
    customer_id = customer.id
    for change in (
        update(Customer).where(Customer.id == customer_id).values(name="核心语句"),
        text("UPDATE customers SET name = 'raw' WHERE id = :id").bindparams(id=customer_id),
    ):
        endings.clear()
        db.session.execute(change)
        end_request(app)
        assert endings == ["rollback"]
        assert name_of(customer_id) == "原名"
        end_request(app)


def test_changes_not_flushed_a_failed_request_and_a_services_state_roll_back(
    app, org, make_customer, endings
):
    customer = make_customer(org["m1"], "原名")
    customer_id = customer.id

    endings.clear()
    db.session.get(Customer, customer_id).name = "未刷新"
    end_request(app)
    assert endings == ["rollback"] and name_of(customer_id) == "原名"
    end_request(app)

    endings.clear()
    name_of(customer_id)
    end_request(app, RuntimeError("the view failed"))
    assert endings == ["rollback"]

    endings.clear()
    name_of(customer_id)
    db.session.info["a service's state"] = {"undo": "on rollback"}
    end_request(app)
    assert endings == ["rollback"]


def test_statements_stay_prepared_from_one_request_to_the_next(app, org, make_customer):
    """psycopg prepares a statement on its fifth run on a connection, and forgets them all on
    ROLLBACK: only requests that end with COMMIT reach the fifth run."""
    customer_id = make_customer(org["m1"], "常客").id
    for _ in range(6):
        assert name_of(customer_id) == "常客"
        end_request(app)
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
        assert any("customers.name" in row.statement for row in prepared)
    else:  # SQLite's driver keeps its own statement cache; the endings are the same
        assert connection.info["crm_wrote"] is False


def test_what_a_read_loaded_stays_readable_after_the_request(app, org, make_customer):
    """A streamed answer (a CSV export) reads its rows and the signed-in user after the
    request's end: the COMMIT of a read expires nothing."""
    customer_id = make_customer(org["m1"], "流式导出").id
    db.session.remove()
    customer = db.session.get(Customer, customer_id)
    end_request(app)  # committed, then the session removed: the customer is detached
    assert customer.name == "流式导出"


def test_a_failed_flush_the_view_caught_is_rolled_back_quietly(app, org, endings):
    """A view that catches a refused write and answers with its own page leaves an inactive
    transaction (the database's was rolled back by the failed flush): the request ends
    without an error of its own and commits nothing."""
    from sqlalchemy.exc import IntegrityError

    from models import User

    db.session.add(User(username=org["m1"].username, display_name="twin", email="t@x.example"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    endings.clear()
    end_request(app)  # no PendingRollbackError out of the request's end
    assert "commit" not in endings
    assert db.session.scalar(select(User.id).where(User.display_name == "twin")) is None
