"""Handovers of customer portfolios between managers, and managers' requests for one."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.customer import Customer
    from models.user import User


class HandoverStatus(enum.StrEnum):
    DONE = "done"
    UNDONE = "undone"  # reversed later by a handover back (reverses_id points here)


class HandoverRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Handover(db.Model):
    """One committed handover: append-only, except status when it is undone."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # None when the customers came from several owners (a filter across a team).
    from_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # Required when a customer's tier needs a more senior manager than the new owner.
    reason: Mapped[str | None] = mapped_column(Text)
    # {"open_opportunities": bool, "pending_reminders": bool, "closed_opportunities": bool}
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customers_count: Mapped[int] = mapped_column(default=0)
    opportunities_count: Mapped[int] = mapped_column(default=0)
    reminders_count: Mapped[int] = mapped_column(default=0)
    contacts_count: Mapped[int] = mapped_column(default=0)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    status: Mapped[HandoverStatus] = mapped_column(
        str_enum(HandoverStatus), default=HandoverStatus.DONE
    )
    # From the preview form: a second submit of the same preview finds this row.
    token: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    from_owner: Mapped[User | None] = relationship(foreign_keys=[from_owner_id])
    to_owner: Mapped[User] = relationship(foreign_keys=[to_owner_id])
    reverses: Mapped[Handover | None] = relationship(remote_side=[id])


class HandoverCustomer(db.Model):
    """One customer moved by a handover, with the owner it had before."""

    __tablename__ = "handover_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    handover: Mapped[Handover] = relationship()
    customer: Mapped[Customer] = relationship()
    from_owner: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("handover_id", "customer_id", name="uq_handover_customers"),)


class HandoverRequest(db.Model):
    """A manager asks their supervisor to hand a customer to someone else."""

    __tablename__ = "handover_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    to_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[HandoverRequestStatus] = mapped_column(
        str_enum(HandoverRequestStatus), default=HandoverRequestStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))

    customer: Mapped[Customer] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    to_owner: Mapped[User | None] = relationship(foreign_keys=[to_owner_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    handover: Mapped[Handover | None] = relationship()

    __table_args__ = (Index("ix_handover_requests_status_created_at", "status", "created_at"),)
