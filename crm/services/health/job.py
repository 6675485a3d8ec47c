"""When the health pass runs: nightly, and soon after a figures import.

The scheduler asks every few minutes (`run_if_due`). The pass is due when the night's
hour has come and today's pass has not run, or when an import brought figures newer
than those the last pass read (the latest MonthlyFigure.imported_at it saw: a file
still being imported while a pass reads is seen by the next one).

Exactly one process runs a pass, however many schedulers ask at once: the first to
move the job's row from the state it read (a compare-and-set UPDATE, committed at
once) holds a lease on it; the others find the row moved, or leased, and do nothing.
A process that dies mid-pass leaves a lease that runs out, and the pass runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from crm.extensions import db
from crm.i18n import today_in
from crm.services.followups.scheduler_state import state_row
from crm.services.health import alerts, assessment
from models import MonthlyFigure, SchedulerState
from models.base import utcnow

log = logging.getLogger("crm.health")

JOB_ID = "crm-health"
JOB_MINUTES = 5  # how soon after an import the scores follow
NIGHTLY_AT = time(2, 0)  # in the organisation's time zone: after the day's work, before 8:00
LEASE = timedelta(minutes=30)  # far above a pass's length (under a minute at 100k customers)


@dataclass(frozen=True)
class Due:
    why: str  # "first", "nightly", "import" or "manual"
    figures_seen: datetime | None


def latest_import() -> datetime | None:
    return db.session.scalar(select(func.max(MonthlyFigure.imported_at)))


def _seen(info: dict[str, Any], key: str) -> str | None:
    return info.get(key) if isinstance(info, dict) else None


def _leased(state: SchedulerState, now: datetime) -> bool:
    lease = _seen(state.info or {}, "leased_until")
    return bool(lease) and datetime.fromisoformat(lease) > now


def due(state: SchedulerState, now: datetime) -> Due | None:
    """Why a pass is due now, or None (also while another process holds the lease)."""
    info = state.info or {}
    if _leased(state, now):
        return None
    figures = latest_import()
    if state.last_run_at is None or _seen(info, "day") is None:
        return Due("first", figures)
    seen = _seen(info, "figures_seen")
    if figures is not None and (seen is None or figures > datetime.fromisoformat(seen)):
        return Due("import", figures)
    zone = assessment.organisation_zone()
    local = now.astimezone(zone)
    last_day = date.fromisoformat(info["day"])
    if local.date() > last_day and local.time() >= NIGHTLY_AT:
        return Due("nightly", figures)
    return None


def _claim(state: SchedulerState, now: datetime) -> bool:
    """Move the row from what was read to "leased by this pass"; False if someone else did."""
    info = dict(state.info or {})
    info["leased_until"] = (now + LEASE).isoformat()
    previous = state.last_run_at
    same = (
        SchedulerState.last_run_at.is_(None)
        if previous is None
        else SchedulerState.last_run_at == previous
    )
    try:
        moved = db.session.execute(
            update(SchedulerState)
            .where(SchedulerState.name == JOB_ID, same)
            .values(last_run_at=now, info=info)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except OperationalError:
        # SQLite: another process wrote the row since this one read it ("database is
        # locked"): that process has the claim.
        db.session.rollback()
        return False
    return moved.rowcount == 1


def run_if_due(now: datetime | None = None, *, force: bool = False) -> assessment.PassReport | None:
    """Run the pass if it is due (or `force`d: the CLI) and no one else runs it; commits.

    None when it did not run: not due, or another process holds the lease.
    """
    now = now or utcnow()
    state = state_row(JOB_ID)
    db.session.commit()
    why = due(state, now)
    if why is None and force and not _leased(state, now):
        first = state.last_run_at is None or _seen(state.info or {}, "day") is None
        why = Due("first" if first else "manual", latest_import())
    if why is None:
        return None
    previous = (state.last_run_at, dict(state.info or {}))
    if not _claim(state, now):
        return None
    try:
        report = run_pass(now, notify=why.why != "first")
        state = state_row(JOB_ID)
        state.info = {
            "day": today_in(assessment.organisation_zone(), now).isoformat(),
            "figures_seen": why.figures_seen.isoformat() if why.figures_seen else None,
            "why": why.why,
            "assessed": report.assessed,
            "changed": report.changed,
            "entered": len(report.entered),
        }
        db.session.commit()
    except Exception:
        db.session.rollback()
        _release(now, *previous)
        raise
    log.info(
        "health pass (%s): assessed=%s changed=%s entered=%s left=%s",
        why.why,
        report.assessed,
        report.changed,
        len(report.entered),
        report.left,
    )
    return report


def run_pass(now: datetime | None = None, *, notify: bool = True) -> assessment.PassReport:
    """One pass and its emails (the caller commits).

    `notify=False` for the first pass of an installation (and the demo): every customer
    then "enters" a band at once, and that is the baseline, not news to email about.
    """
    report = assessment.assess_all(now)
    if notify and report.entered:
        alerts.tell_entered(report.entered)
    return report


def _release(now: datetime, last_run_at: datetime | None, info: dict) -> None:
    """After a failed pass: give the row back as it was, so the next asking runs it."""
    try:
        state = state_row(JOB_ID)
        if state.last_run_at == now:
            state.last_run_at, state.info = last_run_at, info
        db.session.commit()
    except Exception:  # noqa: BLE001 - the lease runs out on its own
        db.session.rollback()
        log.exception("health pass: could not release the lease")
