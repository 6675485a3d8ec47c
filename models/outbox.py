"""The email outbox: every message is a row first, sent later, exactly once per key."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.user import User


class MessageKind(enum.StrEnum):
    REMINDER = "reminder"
    DAILY_DIGEST = "daily_digest"
    WEEKLY_DIGEST = "weekly_digest"
    HANDOVER = "handover"
    PLAN_REVIEW = "plan_review"  # a plan reviewed or returned, to its manager
    VISIT_COMMENT = "visit_comment"  # a comment (点评) on a visit, to the thread's people
    HEALTH_AT_RISK = "health_at_risk"  # a customer entered "at risk", to owner (and supervisor)


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a sender until claimed_until
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # permanently refused; an admin may retry it
    CANCELLED = "cancelled"  # its reason went away before it was sent


class Deliverable:
    """What every queue of outgoing deliveries keeps (emails here, webhook calls in
    models/webhook.py), so that one sender loop claims, retries and records them all
    (crm/services/followups/outbox.py, crm/delivery.py)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)  # first, as elsewhere
    # What the delivery is about: writing the same one twice is a no-op.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Deliverable, db.Model):
    __tablename__ = "outbox"

    # key: kind + subject + due instant + recipient.
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL"), index=True
    )

    recipient: Mapped[User | None] = relationship()

    __table_args__ = (
        # The senders' claim: what is pending and due, oldest first.
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_created_at", "created_at"),
    )


class SchedulerState(db.Model):
    """Heartbeat and bookkeeping of the scheduler process (one row per job)."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
