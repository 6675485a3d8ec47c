"""The scheduler's daily maintenance forgets the API's kept answers past their 24 hours,
once a day however many schedulers ask, and keeps the younger ones (still replayed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from crm.extensions import db
from crm.scheduler import build_scheduler, run_forget_idempotency_keys
from crm.services import idempotency
from models import IdempotencyKey


def _answer(user, key: str, age: timedelta) -> None:
    idempotency.keep_answer(
        user=user,
        token_id=None,
        key=key,
        request_fingerprint="f" * 64,
        status=201,
        body="{}",
        location=None,
    )
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == key)
        .values(created_at=datetime.now(UTC) - age)
    )
    db.session.commit()


def _keys() -> set[str]:
    return set(db.session.scalars(select(IdempotencyKey.key)))


def test_old_answers_are_forgotten_once_a_day(app, org):
    _answer(org["m1"], "old", timedelta(hours=25))
    _answer(org["m1"], "young", timedelta(hours=2))
    now = datetime.now(UTC)
    assert idempotency.forget_if_due(now) == 1
    assert _keys() == {"young"}
    assert idempotency.stored_answer(org["m1"], "young") is not None
    # A second scheduler asking the same day finds the run claimed, and does nothing.
    _answer(org["m2"], "older", timedelta(hours=30))
    assert idempotency.forget_if_due(now + timedelta(hours=1)) is None
    assert _keys() == {"young", "older"}
    # The next day it runs again.
    assert idempotency.forget_if_due(now + timedelta(hours=24)) == 2
    assert _keys() == set()


def test_the_scheduler_runs_it_as_its_own_job(app, org):
    job = build_scheduler(app).get_job(idempotency.JOB_ID)
    assert job is not None and job.func is run_forget_idempotency_keys
    _answer(org["m1"], "old", timedelta(days=3))
    run_forget_idempotency_keys(app)
    db.session.expire_all()
    assert _keys() == set()
