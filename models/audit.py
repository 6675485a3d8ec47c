"""The audit log: every create, change and delete, with who and when (shared infrastructure)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.user import User


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MERGE = "merge"
    IMPORT = "import"


class AuditEntry(db.Model):
    """Append-only: rows are written by crm.services.audit and never changed."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The customer the change belongs to, so its page can show its whole history.
    customer_id: Mapped[int | None] = mapped_column(index=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    entity_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction))
    # {field: [old, new]} for updates; the values for creates and deletes.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_audit_entries_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
    )
