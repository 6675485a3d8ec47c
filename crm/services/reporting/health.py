"""What /healthz reports: whether the database answers and when the scheduler last ticked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from crm.extensions import db
from crm.services.followups.scheduler_state import last_tick
from models.base import utcnow


def database_reachable() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "unreachable" to a load balancer
        return False
    return True


def scheduler_health() -> dict:
    """The scheduler's last tick: ok, late (missed several minutes) or never ran.

    A late scheduler does not make the check fail: the web workers still serve pages, and
    a load balancer should not take them out; monitoring alerts on "late" instead.
    """
    last = last_tick()
    if last is None:
        return {"last_tick": None, "status": "never"}
    late = utcnow() - last > timedelta(minutes=5)  # it ticks every minute
    return {"last_tick": last.isoformat(), "status": "late" if late else "ok"}
