"""The outbox: writing messages once, claiming them for a sender, recording the outcome.

Writing is idempotent by key (INSERT ... ON CONFLICT DO NOTHING). Claiming marks a
batch `sending` with a lease; PostgreSQL skips rows another sender has locked, and
SQLite serialises writers, so no two senders ever hold the same message. A sender
that dies leaves its claims to expire; they are then claimed again (at-least-once).

An attempt is counted when its outcome is recorded, not when it is claimed: a claim
that expired because its sender died was no attempt. Temporary failures are retried,
with pauses doubling from 30 seconds up to 30 minutes, until the message is older than
the configured give-up age (MAIL_GIVE_UP_AFTER_HOURS); only then is it marked failed.

The same functions serve every queue of outgoing deliveries (`queue=`: a model with
models/outbox.py Deliverable's columns): the emails' table by default, and the webhook
calls (crm/services/webhooks), which give up after a number of attempts instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.extensions import db
from crm.services import bulk
from crm.services.errors import DomainError
from crm.services.people.users import require_admin
from models import MessageKind, MessageStatus, OutboxMessage, User
from models.base import utcnow
from models.outbox import Deliverable

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 1800  # once the server is back, a waiting message goes within 30 minutes


def reminder_key(reminder_id: int, due_at: datetime, recipient_id: int) -> str:
    """One reminder email per due instant and recipient: moving the due time makes a new one."""
    return f"reminder:{reminder_id}:{due_at:%Y%m%dT%H%M}Z:{recipient_id}"


def enqueue(
    rows: list[dict[str, Any]],
    now: datetime | None = None,
    *,
    queue: type[Deliverable] = OutboxMessage,
) -> int:
    """Write messages; a row whose key exists already is skipped, not duplicated.

    Returns how many rows were written: a concurrent writer's rows count there, not here.
    """
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    _pending(rows, now or utcnow())
    written = db.session.execute(
        insert(queue).on_conflict_do_nothing(index_elements=["key"]).returning(queue.id),
        rows,
    )
    return len(written.all())


def enqueue_new(
    rows: list[dict[str, Any]], now: datetime | None = None, *, queue: type[Deliverable]
) -> int:
    """Write messages whose keys are new by construction (a random event id in each).

    No key can be taken, so no row is checked against the others: they are written in one
    statement (COPY on PostgreSQL; crm/services/bulk.py). A webhook per customer of an
    import of 100,000 cost 5 s the checked way on SQLite.
    """
    bulk.insert_rows(queue.__table__, _pending(rows, now or utcnow()))
    return len(rows)


def _pending(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The rows with what a new message starts with, where they do not say otherwise."""
    for row in rows:
        row.setdefault("next_attempt_at", now)
        row.setdefault("created_at", now)
        row.setdefault("status", MessageStatus.PENDING)
        row.setdefault("attempts", 0)
    return rows


def message_row(
    *,
    key: str,
    kind: MessageKind,
    recipient: User | None,
    subject: str,
    text: str,
    html: str = "",
    to_address: str | None = None,
    reminder_id: int | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "recipient_id": recipient.id if recipient is not None else None,
        "to_address": to_address,
        "subject": subject[:300],
        "body_text": text,
        "body_html": html,
        "reminder_id": reminder_id,
    }


def cancel_reminder_messages(reminder_id: int) -> None:
    """A reminder done or dismissed before its email went out: the email is not sent."""
    # No autoflush: the caller's pending change to the reminder is flushed by the caller,
    # which turns a race with another close (a stale version) into a refusal, not a 500.
    with db.session.no_autoflush:
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.reminder_id == reminder_id,
                OutboxMessage.status == MessageStatus.PENDING,
            )
            .values(status=MessageStatus.CANCELLED, last_error="cancelled: reminder closed"),
            execution_options={"synchronize_session": False},
        )


def claim(
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    queue: type[Deliverable] = OutboxMessage,
) -> list[int]:
    """Take up to `limit` due messages for `worker`; returns their ids (commit right after)."""
    now = now or utcnow()
    due = or_(
        and_(queue.status == MessageStatus.PENDING, queue.next_attempt_at <= now),
        # A sender that died mid-batch: its lease ran out, the message is up for grabs again.
        and_(queue.status == MessageStatus.SENDING, queue.claimed_until < now),
    )
    candidates = select(queue.id).where(due).order_by(queue.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    result = db.session.execute(
        update(queue)
        .where(queue.id.in_(candidates.scalar_subquery()))
        .values(
            status=MessageStatus.SENDING,
            claimed_by=worker,
            claimed_until=now + lease,
        )
        .returning(queue.id),
        execution_options={"synchronize_session": False},
    )
    return sorted(result.scalars())


def sent_values(now: datetime | None = None) -> dict[str, Any]:
    return {
        "status": MessageStatus.SENT,
        "sent_at": now or utcnow(),
        "claimed_until": None,
        "last_error": None,
    }


def failed_values(reason: str) -> dict[str, Any]:
    """Permanent failure: kept for an admin to read and retry, never blocks the rest."""
    return {"status": MessageStatus.FAILED, "claimed_until": None, "last_error": reason[:2000]}


def retry_pause(attempts: int) -> timedelta:
    """30 s after the first failed attempt, doubling, never more than MAX_RETRY_SECONDS."""
    doublings = min(max(attempts - 1, 0), 16)  # 30 s × 2^16 is far past the cap already
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2**doublings, MAX_RETRY_SECONDS))


def give_up_after() -> timedelta:
    return timedelta(hours=current_app.config["MAIL_GIVE_UP_AFTER_HOURS"])


def retry_values(
    attempts: int, reason: str, *, written_at: datetime, now: datetime | None = None
) -> dict[str, Any]:
    """Temporary failure number `attempts`: try again later, unless the message is too old.

    Too old means written longer ago than MAIL_GIVE_UP_AFTER_HOURS: a reminder that
    arrives days late no longer helps anyone, and the digests list what is overdue.
    """
    now = now or utcnow()
    age = now - written_at
    if age >= give_up_after():
        hours = age.total_seconds() / 3600
        return failed_values(f"gave up after {tries(attempts)} in {hours:.0f} hours: {reason}")
    return later_values(attempts, reason, now)


def tries(attempts: int) -> str:
    return f"{attempts} attempt" + ("" if attempts == 1 else "s")


def later_values(attempts: int, reason: str, now: datetime) -> dict[str, Any]:
    """Try again after the pause that follows failed attempt number `attempts`."""
    return {
        "status": MessageStatus.PENDING,
        "next_attempt_at": now + retry_pause(attempts),
        "claimed_until": None,
        "last_error": reason[:2000],
    }


def record_outcome(
    message_id: int,
    worker: str,
    values: dict[str, Any],
    *,
    attempted: bool = True,
    queue: type[Deliverable] = OutboxMessage,
) -> bool:
    """One UPDATE for a send's outcome, only while the claim is still this worker's.

    `attempted`: the message was handed to the transport, which counts as an attempt.
    """
    if attempted:
        values = {**values, "attempts": queue.attempts + 1}
    result = db.session.execute(
        update(queue)
        .where(
            queue.id == message_id,
            queue.claimed_by == worker,
            queue.status == MessageStatus.SENDING,
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def renew_leases(
    message_ids: list[int],
    worker: str,
    *,
    until: datetime,
    queue: type[Deliverable] = OutboxMessage,
) -> set[int]:
    """Extend a batch's claims at once; returns the ids that are still this worker's."""
    if not message_ids:
        return set()
    result = db.session.execute(
        update(queue)
        .where(
            queue.id.in_(message_ids),
            queue.claimed_by == worker,
            queue.status == MessageStatus.SENDING,
        )
        .values(claimed_until=until)
        .returning(queue.id),
        execution_options={"synchronize_session": False},
    )
    return set(result.scalars())


def mark_retry(message: OutboxMessage, reason: str, now: datetime | None = None) -> None:
    """Temporary failure of attempt number `message.attempts`: see retry_values."""
    values = retry_values(message.attempts, reason, written_at=message.created_at, now=now)
    for name, value in values.items():
        setattr(message, name, value)


def retry_message(message: Deliverable, *, actor: User) -> None:
    """An admin sends a failed message (or webhook call) again."""
    require_admin(actor)
    if message.status is not MessageStatus.FAILED:
        raise DomainError(_l("Only a failed message can be retried."))
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
