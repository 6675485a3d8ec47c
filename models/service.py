"""After-sale service records (售后服务): complaints and service requests per customer."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.contact import Contact
    from models.customer import Customer
    from models.user import User


class TicketKind(enum.StrEnum):
    COMPLAINT = "complaint"  # 投诉
    REQUEST = "request"  # 服务请求


class TicketCategory(enum.StrEnum):
    NETWORK_QUALITY = "network_quality"
    BILLING = "billing"
    INSTALLATION = "installation"
    SERVICE_ATTITUDE = "service_attitude"
    PRODUCT_FAULT = "product_fault"
    OTHER = "other"


class TicketSeverity(enum.StrEnum):
    """Sets the SLA: each severity's hours to resolve are an admin setting."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class TicketStatus(enum.StrEnum):
    """open → in progress → resolved → closed; a resolved or closed ticket may reopen."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ServiceTicket(TimestampMixin, db.Model):
    __tablename__ = "service_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[TicketKind] = mapped_column(str_enum(TicketKind))
    category: Mapped[TicketCategory] = mapped_column(str_enum(TicketCategory))
    severity: Mapped[TicketSeverity] = mapped_column(str_enum(TicketSeverity))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # The customer's contact who raised it, when known.
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # Owner: the account manager answerable to the customer; handler: who works on it.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus), default=TicketStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # opened_at + the severity's SLA
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_count: Mapped[int] = mapped_column(default=0)
    # The customer's satisfaction at the revisit (回访), recorded once when closing.
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)  # 1–5
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The owner's follow-up for the revisit, made when the ticket was resolved: closing the
    # ticket completes it, reopening dismisses it.
    revisit_reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column()

    customer: Mapped[Customer] = relationship()
    raised_by: Mapped[Contact | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # A customer's tickets, open ones first (customer page, health signals).
        Index("ix_service_tickets_customer_id_status", "customer_id", "status"),
        # Overdue counts on the homes: unresolved tickets by due time, with their customer
        # (the count per customer owner reads no ticket row).
        Index("ix_service_tickets_status_due_at", "status", "due_at", "customer_id"),
        # The ticket list's default order (due first) over several statuses: read in due
        # order and stopped at a page, instead of sorting every ticket still being worked on.
        Index("ix_service_tickets_due_at", "due_at"),
    )


class TicketEvent(db.Model):
    """One change of a ticket (opened, status moved, handler changed, reopened, closed):
    the ticket's history and its entries on the customer's timeline."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("service_tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus))
    to_status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus))
    note: Mapped[str | None] = mapped_column(Text)
    # The handler this change set (on opening, or when the handler changed); None otherwise.
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ticket: Mapped[ServiceTicket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])

    __table_args__ = (Index("ix_ticket_events_ticket_id_at", "ticket_id", "at"),)
