"""Organisation-wide funnel and days in stage, computed by the scheduler, not per view.

Across a province (150,000 opportunities, 600,000 stage-history rows) these two
figures take about a second to count, and they move slowly: both describe the
opportunities created over the last twelve months. So the scheduler process counts
them every SNAPSHOT_MINUTES (a job with its own fixed id) and keeps the result in
its bookkeeping table; the admin's all-teams home shows it with its time. A team's
view (a supervisor's, or an admin's with a team chosen) still counts live: a team
is small enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from crm.i18n import today_in
from crm.services.followups.scheduler_state import scheduler_states, state_row
from crm.services.pipeline import funnel
from crm.services.reporting import metrics
from models.base import utcnow

SNAPSHOT_JOB_ID = "crm-stage-snapshot"
SNAPSHOT_MINUTES = 15
COHORT_DAYS = 365


@dataclass(frozen=True)
class StageSnapshot:
    computed_at: datetime
    reached: dict[int, int]  # stage id -> opportunities of the cohort that got that far
    days: dict[int, tuple[int, float]]  # stage id -> (opportunities, total days in it)


def cohort(now: datetime) -> metrics.Period:
    """The last twelve months, in the organisation's default time zone."""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return metrics.last_days(today_in(zone, now), zone, COHORT_DAYS)


def refresh(now: datetime | None = None) -> StageSnapshot:
    """Count both figures over every opportunity and store them (the caller commits)."""
    now = now or utcnow()
    period = cohort(now)
    snapshot = StageSnapshot(now, *funnel.history_figures(None, None, period, now))
    state = state_row(SNAPSHOT_JOB_ID)
    state.last_run_at = now
    state.info = {  # JSON keys are strings
        "reached": {str(k): v for k, v in snapshot.reached.items()},
        "days": {str(k): list(v) for k, v in snapshot.days.items()},
    }
    return snapshot


def latest() -> StageSnapshot | None:
    """The last snapshot the scheduler stored, or None before its first run."""
    state = scheduler_states().get(SNAPSHOT_JOB_ID)
    if state is None or state.last_run_at is None:
        return None
    info = state.info or {}
    return StageSnapshot(
        state.last_run_at,
        {int(k): int(v) for k, v in info.get("reached", {}).items()},
        {int(k): (int(v[0]), float(v[1])) for k, v in info.get("days", {}).items()},
    )
