"""The scheduler's assessment job and the `crm assessment` command (issue 15)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crm.extensions import db
from crm.services.assessment import job, store
from models import Scorecard
from models.base import utcnow
from tests.assessment_world import figure, last_month


def _drafts() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Scorecard).where(Scorecard.publication_id.is_(None))
    )


def test_the_job_stores_every_managers_drafts_of_the_open_periods_once_an_hour(org):
    now = utcnow()
    counts = job.run_if_due(now)
    # This and last month, this and last quarter: the four managers of the org each.
    assert sorted(counts.values()) == [4, 4, 4, 4]
    assert set(counts) == {p.key for p in store.open_periods(now)}
    assert _drafts() == 16
    assert job.run_if_due(now + timedelta(minutes=10)) is None  # claimed within the hour
    assert job.run_if_due(now + timedelta(minutes=61)) is not None
    assert _drafts() == 16  # replaced, not added


def test_a_run_reads_the_records_as_they_are(org, make_customer):
    period = last_month()
    customer = make_customer(org["m1"])
    figure(customer, period.previous().first, 1000)
    job.refresh()
    before = db.session.scalar(
        select(Scorecard.total).where(
            Scorecard.user_id == org["m1"].id, Scorecard.period == period.key
        )
    )
    figure(customer, period.first, 1500)
    job.refresh()
    after = db.session.scalar(
        select(Scorecard.total).where(
            Scorecard.user_id == org["m1"].id, Scorecard.period == period.key
        )
    )
    assert after > before


def test_the_command_computes_the_periods_asked_for(org, runner):
    period = last_month()
    result = runner.invoke(
        args=["crm", "assessment", "--period", period.key, "--period", "2025-Q4"]
    )
    assert result.exit_code == 0, result.output
    assert f"{period.key}: 4 cards" in result.output and "2025-Q4: 4 cards" in result.output
    result = runner.invoke(args=["crm", "assessment", "--period", "2025-13"])
    assert result.exit_code != 0 and "A period is a month" in result.output
    result = runner.invoke(args=["crm", "assessment"])
    assert result.exit_code == 0 and "cards" in result.output
