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

from sqlalchemy import delete, select

from crm.extensions import db
from models import IdempotencyKey, User

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
