"""The sender: claims due outbox messages and hands them to the mail transport.

Unlike the services, this loop owns its transactions, because the delivery
guarantee depends on them: a claim is committed before any message of it is
sent, and each message's outcome is committed right after the SMTP server's
reply. The only way to send a message twice is a crash between the server's
"250 OK" and that commit; the repeat carries the same Message-ID.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.mail import PermanentError, TransientError, Transport, build_email
from crm.services import outbox
from models import MessageStatus, OutboxMessage
from models.base import utcnow


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_due(transport: Transport, *, worker: str | None = None) -> DeliveryReport:
    """Send everything that is due, batch by batch, until nothing is left to claim."""
    config = current_app.config
    worker = worker or worker_name()
    lease = timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    report = DeliveryReport()
    while True:
        ids = outbox.claim(worker, limit=config["OUTBOX_BATCH"], lease=lease)
        db.session.commit()
        if not ids:
            return report
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .options(joinedload(OutboxMessage.recipient))
            .order_by(OutboxMessage.id)
        )
        for message in list(messages):
            _deliver_one(message, transport, worker, lease, report)


def _deliver_one(message, transport, worker, lease, report: DeliveryReport) -> None:
    now = utcnow()
    # Renew the claim so a slow server cannot let another sender take it mid-send.
    if not outbox.renew_lease(message.id, worker, until=now + lease):
        db.session.rollback()
        return
    db.session.commit()
    recipient = message.recipient
    address = message.to_address or (recipient.email if recipient else None)
    if recipient is not None and not recipient.active:
        outbox.mark_failed(message, "recipient is deactivated")
    elif not address:
        outbox.mark_failed(message, "recipient has no email address")
    else:
        email = build_email(
            key=message.key,
            sender=current_app.config["MAIL_FROM"],
            to=address,
            subject=message.subject,
            text=message.body_text,
            html=message.body_html,
        )
        try:
            transport.send(email)
        except PermanentError as error:
            outbox.mark_failed(message, str(error))
        except TransientError as error:
            outbox.mark_retry(message, str(error))
            report.retried += 1
            report.errors.append(str(error))
        else:
            outbox.mark_sent(message)
            report.sent += 1
    if message.status is MessageStatus.FAILED:
        report.failed += 1
        current_app.logger.warning(
            "email failed: id=%s key=%s reason=%s", message.id, message.key, message.last_error
        )
    db.session.commit()
