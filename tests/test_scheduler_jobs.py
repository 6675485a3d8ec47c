"""The scheduler's job table: every job is scheduled (none added paused), each under its id."""

from __future__ import annotations

import threading
import time

from crm.scheduler import JOBS, build_scheduler


def test_every_job_is_scheduled_and_the_start_up_ones_run_at_once(app):
    scheduler = build_scheduler(app)
    # Started paused in a thread of its own (a BlockingScheduler blocks): jobs get their
    # first run times but none runs.
    thread = threading.Thread(target=lambda: scheduler.start(paused=True), daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if scheduler.running:
                break
            time.sleep(0.02)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {each.id for each in JOBS}
        first = min(job.next_run_time for job in jobs.values())
        for each in JOBS:
            job = jobs[each.id]
            assert job.next_run_time is not None, f"{each.id} was added paused"
            assert job.func is each.run
            if each.at_start:
                assert (job.next_run_time - first).total_seconds() < 5
            else:
                assert (job.next_run_time - first).total_seconds() > 60
    finally:
        scheduler.shutdown(wait=False)
        thread.join(timeout=5)
