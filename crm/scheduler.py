"""The scheduler process: `flask --app wsgi crm scheduler`. Never started inside the web app.

APScheduler 3 keeps its jobs in the process that runs it, so every gunicorn worker
would run its own copy; this process runs alone instead, and the outbox's unique
keys make even an accidental second scheduler harmless (it writes nothing new and
claims nothing already claimed).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined
from flask import Flask, current_app

from crm.delivery import DeliveryReport, deliver_due
from crm.extensions import db
from crm.mail import transport_from_config
from crm.services import idempotency
from crm.services.archive import search_backlog
from crm.services.assessment import job as assessment_job
from crm.services.documents import cleanup as document_cleanup
from crm.services.followups import notifications, overdue
from crm.services.followups.scheduler_state import TICK_JOB_ID, record_heartbeat
from crm.services.health import job as health_job
from crm.services.pipeline import totals
from crm.services.reporting import snapshots
from crm.webhook_delivery import deliver_due_webhooks
from models.base import utcnow

log = logging.getLogger("crm.scheduler")


def job(failure: str) -> Callable[[Callable[[], object]], Callable[[Flask], None]]:
    """A scheduled job's body, run in its own app context. A failure is rolled back and
    logged, never raised: the scheduler must keep running, and the next run tries again."""

    def wrap(work: Callable[[], object]) -> Callable[[Flask], None]:
        @functools.wraps(work)
        def run(app: Flask) -> None:
            with app.app_context():
                try:
                    work()
                except Exception:  # noqa: BLE001 - logged; the next run tries again
                    db.session.rollback()
                    log.exception(failure)

        return run

    return wrap


@job("tick failed")
def run_tick() -> None:
    """Every minute: one tick (below)."""
    tick()


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


@job("stage snapshot failed")
def run_snapshot() -> None:
    """The organisation-wide funnel and days in stage (see crm/services/reporting/snapshots.py)."""
    snapshots.refresh()
    db.session.commit()


@job("folding the stage totals failed")
def run_fold_stage_totals() -> None:
    """The organisation's totals per stage and status back to a row each (pipeline/totals)."""
    totals.fold()
    db.session.commit()


@job("cutting the search backlog failed")
def run_fold_search_backlog() -> None:
    """The search bigrams of the customers and contacts an import added (archive/search_backlog)."""
    folded = search_backlog.fold()
    if folded:
        log.info("search backlog: folded=%s", folded)


@job("document cleanup failed")
def run_document_cleanup() -> None:
    """Purge deleted documents past retention, then remove objects no row names."""
    now = utcnow()
    purged = document_cleanup.purge_deleted(now)
    db.session.commit()
    removed = document_cleanup.remove_orphans(now)
    log.info("documents: purged=%s orphans removed=%s", purged, removed)


@job("assessment drafts failed")
def run_assessment() -> None:
    """Every manager's assessment drafts of the open periods, hourly (services/assessment/job)."""
    assessment_job.run_if_due()


@job("forgetting idempotency keys failed")
def run_forget_idempotency_keys() -> None:
    """Daily: forget the API's kept answers past their 24 hours (services/idempotency)."""
    forgotten = idempotency.forget_if_due()
    if forgotten is not None:
        log.info("idempotency keys: forgotten=%s", forgotten)


@job("health pass failed")
def run_health() -> None:
    """Customer health when due: nightly, and after a figures import (services/health/job).
    A failed pass gives its lease back, so the next run tries again."""
    health_job.run_if_due()


@dataclass(frozen=True)
class Job:
    run: Callable[[Flask], None]
    every: dict[str, int]  # IntervalTrigger's arguments
    id: str
    name: str
    at_start: bool = True  # also run once when the scheduler starts (catch up after downtime)


# Separate jobs, so a slow snapshot or health pass never delays an email. Jobs that must run
# once a day or after an event ask often and claim their turn in the database (a row each).
JOBS = (
    Job(
        run_snapshot,
        {"minutes": snapshots.SNAPSHOT_MINUTES},
        snapshots.SNAPSHOT_JOB_ID,
        "count the organisation-wide funnel and days in stage",
    ),
    Job(run_tick, {"minutes": 1}, TICK_JOB_ID, "find due reminders and digests, send the outbox"),
    Job(
        run_fold_stage_totals,
        {"minutes": totals.FOLD_MINUTES},
        totals.FOLD_JOB_ID,
        "fold the rows the triggers add to the totals per stage and status",
    ),
    Job(
        run_fold_search_backlog,
        {"minutes": search_backlog.FOLD_MINUTES},
        search_backlog.FOLD_JOB_ID,
        "cut the search bigrams of the customers and contacts an import added",
    ),
    Job(
        run_document_cleanup,
        {"minutes": document_cleanup.JOB_MINUTES},
        document_cleanup.JOB_ID,
        "purge deleted documents past retention, remove orphaned files",
        at_start=False,
    ),
    Job(
        run_assessment,
        {"minutes": assessment_job.JOB_MINUTES},
        assessment_job.JOB_ID,
        "compute every manager's assessment drafts of the open periods",
    ),
    Job(
        run_forget_idempotency_keys,
        {"hours": 1},
        idempotency.JOB_ID,
        "forget the API's kept answers to Idempotency-Keys past 24 hours",
    ),
    Job(
        run_health,
        {"minutes": health_job.JOB_MINUTES},
        health_job.JOB_ID,
        "score customer health: nightly, and after a figures import",
    ),
)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Every job of JOBS under its fixed id."""
    scheduler = BlockingScheduler(timezone="UTC")
    for each in JOBS:
        scheduler.add_job(
            each.run,
            IntervalTrigger(**each.every),
            args=[app],
            id=each.id,
            name=each.name,
            replace_existing=True,
            coalesce=True,  # after a pause, one catch-up run, not one per missed interval
            max_instances=1,
            misfire_grace_time=None,
            # None would add the job paused; `undefined` lets the trigger set its first run.
            next_run_time=datetime.now().astimezone() if each.at_start else undefined,
        )
    return scheduler
