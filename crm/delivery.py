"""The sender: claims due outbox messages and hands them to the mail transport.

Unlike the services, this loop owns its transactions, because the delivery
guarantee depends on them: a claim is committed before any message of it is
sent, and each message's outcome is committed right after the SMTP server's
reply. The only way to send a message twice is a crash between the server's
"250 OK" and that commit; the repeat carries the same Message-ID.

Claims are short (OUTBOX_LEASE_SECONDS, a minute) and renewed while a batch is being
sent, every third of the lease: a sender that is killed holds its claims for at most
a minute, after which the next sender takes them.

`drain` is that loop for any queue of deliveries (models/outbox.py Deliverable): the
emails here, the webhook calls in crm/webhook_delivery.py.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.mail import PermanentError, TransientError, Transport, build_email
from crm.services.followups import outbox
from models import MessageStatus, OutboxMessage
from models.base import utcnow
from models.outbox import Deliverable


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Claimed(Protocol):
    id: int


# Sends one claimed delivery and records its outcome: (item, worker, report, clock).
Send = Callable[[Any, str, DeliveryReport, Callable[[], datetime]], None]


def deliver_due(
    transport: Transport, *, worker: str | None = None, now: datetime | None = None
) -> DeliveryReport:
    """Send every email that is due, batch by batch, until nothing is left to claim.

    `now` fixes the clock (tests move it forward instead of waiting); by default it runs.
    """
    send = partial(_deliver_one, transport=transport)
    return drain(OutboxMessage, _load, send, worker=worker, now=now)


def drain(
    queue: type[Deliverable],
    load: Callable[[list[int]], list[Claimed]],
    send: Send,
    *,
    worker: str | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Claim what is due in `queue`, `load` each batch, `send` each item, until none is left."""
    config = current_app.config
    worker = worker or worker_name()
    lease = timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DeliveryReport()
    while True:
        ids = outbox.claim(
            worker, limit=config["OUTBOX_BATCH"], lease=lease, now=clock(), queue=queue
        )
        db.session.commit()
        if not ids:
            return report
        _send_batch(queue, load(ids), send, worker, lease, report, clock)


@dataclass(frozen=True)
class _Claimed:
    """What sending needs, read once: the commits after each send expire ORM objects."""

    id: int
    key: str
    subject: str
    text: str
    html: str
    address: str | None
    recipient_active: bool
    attempts: int
    written_at: datetime


def _load(ids: list[int]) -> list[_Claimed]:
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .options(joinedload(OutboxMessage.recipient))
        .order_by(OutboxMessage.id)
    )
    claimed = [
        _Claimed(
            id=m.id,
            key=m.key,
            subject=m.subject,
            text=m.body_text,
            html=m.body_html,
            address=m.to_address or (m.recipient.email if m.recipient else None),
            recipient_active=m.recipient is None or m.recipient.active,
            attempts=m.attempts,
            written_at=m.created_at,
        )
        for m in messages
    ]
    return claimed


def _send_batch(queue, batch: list[Claimed], send: Send, worker, lease, report, clock) -> None:
    """The claim's lease is renewed once, and again whenever a third of it has gone by."""
    renewed_at = None
    ours: set[int] = set()
    for item in batch:
        now = clock()
        if renewed_at is None or now - renewed_at > lease / 3:
            # Renew so a slow server cannot let another sender take the rest mid-send.
            ids = [i.id for i in batch]
            ours = outbox.renew_leases(ids, worker, until=now + lease, queue=queue)
            db.session.commit()
            renewed_at = now
        if item.id in ours:
            send(item, worker, report, clock)


def _deliver_one(
    message: _Claimed, worker, report: DeliveryReport, clock, *, transport: Transport
) -> None:
    attempted = False
    if not message.recipient_active:
        outcome = outbox.failed_values("recipient is deactivated")
    elif not message.address:
        outcome = outbox.failed_values("recipient has no email address")
    else:
        email = build_email(
            key=message.key,
            sender=current_app.config["MAIL_FROM"],
            to=message.address,
            subject=message.subject,
            text=message.text,
            html=message.html,
        )
        attempted = True
        try:
            transport.send(email)
        except PermanentError as error:
            outcome = outbox.failed_values(str(error))
        except TransientError as error:
            outcome = outbox.retry_values(
                message.attempts + 1, str(error), written_at=message.written_at, now=clock()
            )
            if outcome["status"] is MessageStatus.PENDING:
                report.retried += 1
            report.errors.append(str(error))
        else:
            outcome = outbox.sent_values(clock())
            report.sent += 1
    outbox.record_outcome(message.id, worker, outcome, attempted=attempted)
    if outcome["status"] is MessageStatus.FAILED:
        report.failed += 1
        current_app.logger.warning(
            "email failed: id=%s key=%s reason=%s", message.id, message.key, outcome["last_error"]
        )
    db.session.commit()
