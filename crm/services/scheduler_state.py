"""The scheduler's bookkeeping rows (its heartbeat, the stage snapshot), read together.

A handful of rows: one read per page view answers every question about them (the
admin's home asks for both the last tick and the snapshot).
"""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from crm.request_cache import per_request
from models import SchedulerState


def scheduler_states() -> dict[str, SchedulerState]:
    return per_request(
        "scheduler_states",
        lambda: {state.name: state for state in db.session.scalars(select(SchedulerState))},
    )
