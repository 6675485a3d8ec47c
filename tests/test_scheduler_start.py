"""Schedulers that start together, and ticks that race: no errors, honest counts.

A restart, or a second scheduler started by mistake, runs its jobs at once at start.
Each writes its bookkeeping row (the tick's heartbeat, the stage snapshot) and the
outbox rows that fell due; whoever comes second must neither fail on the unique name
nor count rows the first one wrote.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text

from crm.extensions import db
from crm.services.followups import notifications
from crm.services.followups.scheduler_state import TICK_JOB_ID, record_heartbeat
from crm.services.reporting import snapshots
from models import OutboxMessage, SchedulerState

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
def postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "needs PostgreSQL: SQLite lets one writer in at a time, so starts cannot collide "
            "there; CI runs this on PostgreSQL"
        )


def run_together(app, count: int, work) -> list[BaseException]:
    """Run `work()` in `count` threads, each in its own app context (own session), at once."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                work()
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - collected, asserted below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def moved(org, stages, make_customer, make_opportunity):
    """Three opportunities with history: each snapshot writes its per-owner rows too."""
    from models import OpportunityStatus
    from tests.test_dashboards import _history

    for who in ("m1", "m2", "m3"):
        opportunity = make_opportunity(make_customer(org[who]), "Needs discovery")
        _history(
            opportunity,
            [
                (NOW - timedelta(days=9), "Initial contact", OpportunityStatus.OPEN),
                (NOW - timedelta(days=2), "Needs discovery", OpportunityStatus.OPEN),
            ],
            stages,
        )
        opportunity.created_at = NOW - timedelta(days=9)
    db.session.commit()


def kept_reached() -> int:
    from models import OwnerStageFigures

    return db.session.scalar(select(func.sum(OwnerStageFigures.reached)))


def test_three_schedulers_starting_at_once_write_their_state_without_errors(
    postgresql, app, org, moved
):
    for round_ in range(10):  # each round starts from no rows, as a first start does
        db.session.execute(delete(SchedulerState))
        db.session.commit()
        errors = run_together(app, 3, lambda: record_heartbeat(NOW, reminders=0, digests=0))
        errors += run_together(app, 3, snapshots.refresh)
        assert errors == [], f"round {round_}: {errors!r}"
        names = db.session.scalars(select(SchedulerState.name)).all()
        assert sorted(names) == sorted([TICK_JOB_ID, snapshots.SNAPSHOT_JOB_ID])
        assert kept_reached() == 6  # three opportunities, two stages each: kept once


def test_a_second_snapshot_waits_for_the_first_then_replaces_its_rows(postgresql, app, org, moved):
    """Two schedulers' snapshots at once: the second waits for the first's commit, then
    deletes what it wrote (without the wait, its delete would miss the first's new rows
    and its insert clash with them)."""
    snapshots.refresh()
    db.session.commit()  # the job has run before: its row and its figures are there
    snapshots.refresh()  # the first of the two: not committed yet
    second: dict[str, object] = {}

    def run_second() -> None:
        with app.app_context():
            try:
                snapshots.refresh()
                db.session.commit()
                second["ok"] = True
            except Exception as error:  # noqa: BLE001 - asserted below
                db.session.rollback()
                second["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=run_second)
    start_and_wait_until_blocked(thread)
    assert waiting_on_a_lock() == 1
    db.session.commit()
    thread.join(timeout=30)
    assert second == {"ok": True}
    assert kept_reached() == 6


def start_and_wait_until_blocked(thread: threading.Thread) -> None:
    """Start `thread` and return once some transaction waits for a lock (or it ended, or
    30 s passed): the caller then asserts who waits, and releases it."""
    thread.start()
    deadline = time.monotonic() + 30
    while not waiting_on_a_lock() and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.01)


def waiting_on_a_lock() -> int:
    """Backends of this database that wait for another transaction's lock (a separate
    connection: the test's own session is the one holding it)."""
    with db.engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def test_two_ticks_over_the_same_due_reminders_report_n_then_0(
    postgresql, app, org, make_customer, make_reminder
):
    customer = make_customer(org["m1"])
    for i in range(5):
        make_reminder(customer, org["m1"], due_at=NOW - timedelta(minutes=1), note=f"n{i}")
    db.session.commit()

    # The first tick writes the five emails and has not committed yet ...
    assert notifications.enqueue_due_reminders(NOW) == 5
    second: dict[str, int] = {}

    def second_tick() -> None:
        with app.app_context():
            # ... the second one finds no email of them yet, so it writes them too: its
            # inserts wait for the first tick's transaction, and then conflict.
            second["reminders"] = notifications.enqueue_due_reminders(NOW)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=second_tick)
    start_and_wait_until_blocked(thread)
    assert waiting_on_a_lock() == 1  # the second tick is blocked on the first one's rows
    db.session.commit()
    thread.join(timeout=30)

    assert second == {"reminders": 0}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 5


def test_ticks_one_after_the_other_report_n_then_0(app, org, make_customer, make_reminder):
    customer = make_customer(org["m1"])
    for i in range(3):
        make_reminder(customer, org["m1"], due_at=NOW - timedelta(minutes=1), note=f"n{i}")
    db.session.commit()
    assert notifications.enqueue_due_reminders(NOW) == 3
    db.session.commit()
    assert notifications.enqueue_due_reminders(NOW + timedelta(minutes=1)) == 0
