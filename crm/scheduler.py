"""The scheduler process: `flask --app wsgi crm scheduler`. Never started inside the web app.

APScheduler 3 keeps its jobs in the process that runs it, so every gunicorn worker
would run its own copy; this process runs alone instead, and the outbox's unique
keys make even an accidental second scheduler harmless (it writes nothing new and
claims nothing already claimed).
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app

from crm.delivery import DeliveryReport, deliver_due
from crm.extensions import db
from crm.mail import transport_from_config
from crm.services import idempotency
from crm.services.assessment import job as assessment_job
from crm.services.documents import cleanup as document_cleanup
from crm.services.followups import notifications, overdue
from crm.services.followups.scheduler_state import TICK_JOB_ID, record_heartbeat
from crm.services.health import job as health_job
from crm.services.reporting import snapshots
from crm.webhook_delivery import deliver_due_webhooks
from models.base import utcnow

log = logging.getLogger("crm.scheduler")


def run_tick(app: Flask) -> None:
    """The scheduled job: one tick in its own app context; a failure waits for the next."""
    with app.app_context():
        try:
            tick()
        except Exception:  # noqa: BLE001 - logged; the scheduler must keep ticking
            log.exception("tick failed")


def tick(now: datetime | None = None) -> DeliveryReport:
    """Find what is due, write it to the outbox, send what the outbox holds (and the webhooks)."""
    app = current_app
    now = now or utcnow()
    try:
        written = notifications.enqueue_due_reminders(now)
        digests = notifications.enqueue_daily_digests(now)
        digests += notifications.enqueue_weekly_digests(now)
        overdue_events = overdue.report_overdue(now)
        record_heartbeat(now, reminders=written, digests=digests)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    transport = transport_from_config(app.config)
    try:
        report = deliver_due(transport)
    finally:
        transport.close()
    calls = deliver_due_webhooks()
    log.info(
        "tick: reminders=%s digests=%s sent=%s retried=%s failed=%s "
        "webhooks: overdue=%s sent=%s retried=%s failed=%s",
        written,
        digests,
        report.sent,
        report.retried,
        report.failed,
        overdue_events,
        calls.sent,
        calls.retried,
        calls.failed,
    )
    return report


def run_snapshot(app: Flask) -> None:
    """The organisation-wide funnel and days in stage (see crm/services/reporting/snapshots.py)."""
    with app.app_context():
        try:
            snapshots.refresh()
            db.session.commit()
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            db.session.rollback()
            log.exception("stage snapshot failed")


def run_document_cleanup(app: Flask) -> None:
    """Purge deleted documents past retention, then remove objects no row names."""
    with app.app_context():
        try:
            now = utcnow()
            purged = document_cleanup.purge_deleted(now)
            db.session.commit()
            removed = document_cleanup.remove_orphans(now)
            log.info("documents: purged=%s orphans removed=%s", purged, removed)
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            db.session.rollback()
            log.exception("document cleanup failed")


def run_assessment(app: Flask) -> None:
    """Every manager's assessment drafts of the open periods, hourly (services/assessment/job)."""
    with app.app_context():
        try:
            assessment_job.run_if_due()
        except Exception:  # noqa: BLE001 - logged; the next hour tries again
            db.session.rollback()
            log.exception("assessment drafts failed")


def run_forget_idempotency_keys(app: Flask) -> None:
    """Daily: forget the API's kept answers past their 24 hours (services/idempotency)."""
    with app.app_context():
        try:
            forgotten = idempotency.forget_if_due()
            if forgotten is not None:
                log.info("idempotency keys: forgotten=%s", forgotten)
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            db.session.rollback()
            log.exception("forgetting idempotency keys failed")


def run_health(app: Flask) -> None:
    """Customer health when due: nightly, and after a figures import (services/health/job)."""
    with app.app_context():
        try:
            health_job.run_if_due()
        except Exception:  # noqa: BLE001 - logged; the lease is given back, the next run tries
            db.session.rollback()
            log.exception("health pass failed")


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Jobs with fixed ids: the tick every minute, the stage snapshot every quarter hour.

    Both also run at start: the tick to catch up after downtime, the snapshot so the
    admin's home has one. Separate jobs, so a slow snapshot never delays an email.
    """
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        run_snapshot,
        IntervalTrigger(minutes=snapshots.SNAPSHOT_MINUTES),
        args=[app],
        id=snapshots.SNAPSHOT_JOB_ID,
        name="count the organisation-wide funnel and days in stage",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        run_tick,
        IntervalTrigger(minutes=1),
        args=[app],
        id=TICK_JOB_ID,
        name="find due reminders and digests, send the outbox",
        replace_existing=True,
        coalesce=True,  # after a pause, one catch-up run, not one per missed minute
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        run_document_cleanup,
        IntervalTrigger(minutes=document_cleanup.JOB_MINUTES),
        args=[app],
        id=document_cleanup.JOB_ID,
        name="purge deleted documents past retention, remove orphaned files",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        run_assessment,
        IntervalTrigger(minutes=assessment_job.JOB_MINUTES),
        args=[app],
        id=assessment_job.JOB_ID,
        name="compute every manager's assessment drafts of the open periods",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        run_forget_idempotency_keys,
        IntervalTrigger(hours=1),  # asks hourly; runs once a day (the job's row is claimed)
        args=[app],
        id=idempotency.JOB_ID,
        name="forget the API's kept answers to Idempotency-Keys past 24 hours",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        run_health,
        IntervalTrigger(minutes=health_job.JOB_MINUTES),
        args=[app],
        id=health_job.JOB_ID,
        name="score customer health: nightly, and after a figures import",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now().astimezone(),
    )
    return scheduler
