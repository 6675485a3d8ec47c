"""The scheduler's assessment job: every manager's drafts of the open periods, hourly.

The drafts are what the department's view, the level review and a team page without a
change of its own read; a supervisor's change refreshes their team's at once
(`assessing`), and publishing computes anew. Several schedulers asking at the same time
(a restart, a second one by mistake): the first to move the job's row claims the run,
the others find it claimed and do nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, update

from crm.extensions import db
from crm.services.assessment import store
from crm.services.followups.scheduler_state import state_row
from models import SchedulerState
from models.base import utcnow

log = logging.getLogger("crm.assessment")

JOB_ID = "crm-assessment"
JOB_MINUTES = 60
# A run claimed this long ago is over (or its process died): the next may start.
CLAIM = timedelta(minutes=JOB_MINUTES - 5)


def run_if_due(now: datetime | None = None) -> dict[str, int] | None:
    """Refresh the open periods' drafts unless another process did within the hour."""
    now = now or utcnow()
    state_row(JOB_ID)
    db.session.commit()
    claimed = db.session.execute(
        update(SchedulerState)
        .where(
            SchedulerState.name == JOB_ID,
            or_(SchedulerState.last_run_at.is_(None), SchedulerState.last_run_at < now - CLAIM),
        )
        .values(last_run_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    return refresh(now)


def refresh(now: datetime | None = None) -> dict[str, int]:
    """Every manager's drafts of the open periods, committed; how many cards per period."""
    started = time.perf_counter()
    counts = store.refresh_open_periods(now)
    state = state_row(JOB_ID)
    state.info = {"cards": counts, "seconds": round(time.perf_counter() - started, 1)}
    db.session.commit()
    log.info("assessment drafts: %s in %.1f s", counts, time.perf_counter() - started)
    return counts
