"""Idempotency keys of the JSON API: a retried create gets the first answer, not a twin.

A client that lost the answer to a POST (a timeout, a dropped connection) sends it again
with the same `Idempotency-Key`. The first answer is kept with the key, saved in the same
transaction as what the POST made; the retry gets that answer again. The same key with
another request is refused: it is a client's mistake, and guessing would hide it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update

from crm.extensions import db
from crm.services.followups.scheduler_state import state_row
from models import IdempotencyKey, SchedulerState, User

# How long an answer is kept: retries come within minutes; a day covers a night's batch.
KEPT_FOR = timedelta(hours=24)
KEY_MAX = 200


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body, hashed."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: str
    location: str | None


def stored_answer(user: User, key: str, now: datetime | None = None) -> StoredAnswer | None:
    """The answer kept for this user's key, unless it is older than KEPT_FOR."""
    now = now or datetime.now(UTC)
    row = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if row is None or now - row.created_at > KEPT_FOR:
        return None
    return StoredAnswer(row.fingerprint, row.status, row.body, row.location)


def keep_answer(
    *,
    user: User,
    token_id: int | None,
    key: str,
    request_fingerprint: str,
    status: int,
    body: str,
    location: str | None,
) -> None:
    """Keep the answer with the key, in the caller's transaction (an expired key is replaced)."""
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < datetime.now(UTC) - KEPT_FOR,
        )
    )
    db.session.add(
        IdempotencyKey(
            user_id=user.id,
            token_id=token_id,
            key=key,
            fingerprint=request_fingerprint,
            status=status,
            body=body,
            location=location,
        )
    )
    db.session.flush()


def forget_old_answers(now: datetime | None = None) -> int:
    """Delete answers older than KEPT_FOR; the number deleted."""
    cutoff = (now or datetime.now(UTC)) - KEPT_FOR
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0


# The scheduler's daily maintenance (crm/scheduler.py) --------------------------------------

JOB_ID = "crm-idempotency-keys"
JOB_HOURS = 24
# A run claimed this long ago is over: the next day's may start (a little early is fine).
CLAIM = timedelta(hours=JOB_HOURS) - timedelta(minutes=30)


def forget_if_due(now: datetime | None = None) -> int | None:
    """Forget the answers past KEPT_FOR, once a day however many schedulers ask.

    Answers past KEPT_FOR are never replayed (stored_answer ignores them); this keeps the
    table to about a day of POSTs. The first scheduler to move the job's row claims the
    run (as the assessment job does); the others find it claimed. None: not due.
    """
    now = now or datetime.now(UTC)
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
    forgotten = forget_old_answers(now)
    state_row(JOB_ID).info = {"forgotten": forgotten}
    db.session.commit()
    return forgotten
