"""When the health pass runs (nightly, after an import) and that one process runs it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from crm.extensions import db
from crm.scheduler import run_health
from crm.services.followups.scheduler_state import state_row
from crm.services.health import assessment, job
from models import CustomerHealth, MonthlyFigure
from tests.health_world import quiet_customer

# Shanghai is UTC+8: 03:00 there on 2 March 2027 is 19:00 UTC on 1 March.
NIGHT = datetime(2027, 3, 1, 19, 0, tzinfo=UTC)


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def run(now: datetime):
    db.session.commit()
    report = job.run_if_due(now)
    db.session.expire_all()
    return report


def import_figures(customer, at: datetime, month=date(2027, 1, 1)) -> None:
    db.session.add(
        MonthlyFigure(customer=customer, month=month, revenue=Decimal(100), imported_at=at)
    )
    db.session.commit()


def test_the_first_pass_runs_at_once_then_once_a_night(app, org):
    quiet_customer(org["m1"])
    first = run(NIGHT)
    assert first is not None and first.assessed == 1
    assert run(NIGHT + timedelta(minutes=5)) is None  # the same night: done
    assert run(shanghai(date(2027, 3, 2), 23, 0)) is None  # that day, still done
    assert run(shanghai(date(2027, 3, 3), 1, 55)) is None  # next night, before 02:00
    assert run(shanghai(date(2027, 3, 3), 2, 0)) is not None
    assert run(shanghai(date(2027, 3, 3), 2, 5)) is None
    state = state_row(job.JOB_ID)
    assert state.info["day"] == "2027-03-03" and state.info["why"] == "nightly"


def test_an_import_brings_a_pass_within_minutes(app, org):
    customer = quiet_customer(org["m1"])
    run(NIGHT)
    at = NIGHT + timedelta(hours=6)
    import_figures(customer, at)
    report = run(at + timedelta(minutes=job.JOB_MINUTES))
    assert report is not None and state_row(job.JOB_ID).info["why"] == "import"
    assert run(at + timedelta(minutes=2 * job.JOB_MINUTES)) is None  # seen: not again
    # A re-import of the month (a later imported_at) counts as a new import.
    db.session.execute(update(MonthlyFigure).values(imported_at=at + timedelta(hours=1)))
    assert run(at + timedelta(hours=1, minutes=5)) is not None


def test_a_pass_does_not_run_while_another_holds_the_lease(app, org):
    quiet_customer(org["m1"])
    state = state_row(job.JOB_ID)
    state.info = {"leased_until": (NIGHT + timedelta(minutes=10)).isoformat()}
    db.session.commit()
    assert run(NIGHT) is None
    assert job.run_if_due(NIGHT, force=True) is None  # not even the CLI's
    # A lease whose holder died runs out: the pass runs.
    assert run(NIGHT + timedelta(minutes=11)) is not None


def test_a_claim_from_a_stale_read_fails(app, org):
    """Two schedulers read the row; the first claims it; the second's claim finds it moved."""
    quiet_customer(org["m1"])
    run(NIGHT)
    later = NIGHT + timedelta(days=1)
    read_by_second = state_row(job.JOB_ID)
    db.session.expunge(read_by_second)  # what the second process holds
    assert job._claim(state_row(job.JOB_ID), later) is True  # the first one
    assert job._claim(read_by_second, later + timedelta(seconds=1)) is False


def test_a_failed_pass_gives_the_lease_back(app, org, monkeypatch):
    quiet_customer(org["m1"])

    def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(assessment, "assess_all", broken)
    run_health(app)  # the scheduler's job: logs, does not raise
    state = state_row(job.JOB_ID)
    assert state.last_run_at is None and "leased_until" not in (state.info or {})
    monkeypatch.undo()
    assert run(NIGHT) is not None


def test_the_scheduler_job_scores_the_customers(app, org):
    customer = quiet_customer(org["m1"])
    run_health(app)
    db.session.expire_all()
    assert db.session.get(CustomerHealth, customer.id).score == 100


def test_the_cli_runs_a_pass_now(app, org, runner):
    quiet_customer(org["m1"])
    result = runner.invoke(args=["crm", "health"])
    assert result.exit_code == 0, result.output
    assert "assessed=1" in result.output
    assert db.session.scalar(select(func.count()).select_from(CustomerHealth)) == 1
