"""The scheduler's bookkeeping rows (its heartbeat, the stage snapshot), read together.

A handful of rows: one read per page view answers every question about them (the
admin's home asks for both the last tick and the snapshot). The scheduler process
writes them (crm/scheduler.py); pages read them from here without loading APScheduler.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.extensions import db
from crm.request_cache import per_request
from models import SchedulerState

# The row of the scheduler's minute job: when it last ran and what it wrote.
TICK_JOB_ID = "crm-tick"


def scheduler_states() -> dict[str, SchedulerState]:
    return per_request(
        "scheduler_states",
        lambda: {state.name: state for state in db.session.scalars(select(SchedulerState))},
    )


def state_row(name: str) -> SchedulerState:
    """The job's row, written first if absent (the caller updates it and commits).

    Schedulers that start at the same moment (a restart, a second one by mistake) all
    find no row: each inserts it only if absent, so none fails on the unique name.
    """
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SchedulerState)
        .values(name=name, info={})
        .on_conflict_do_nothing(index_elements=["name"])
    )
    # Read afresh: the row is ours, or whoever got there first committed it.
    return db.session.scalars(
        select(SchedulerState)
        .where(SchedulerState.name == name)
        .execution_options(populate_existing=True)
    ).one()


def record_heartbeat(now: datetime, **info) -> None:
    """When the tick ran and what it wrote (the counts of rows actually written)."""
    state = state_row(TICK_JOB_ID)
    state.last_run_at = now
    state.info = info


def last_tick() -> datetime | None:
    state = scheduler_states().get(TICK_JOB_ID)
    return state.last_run_at if state else None
