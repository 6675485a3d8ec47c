"""Targets (指标) a supervisor sets for each manager: weekly visits, quarterly won amount."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin

if TYPE_CHECKING:
    from models.user import User


class Target(TimestampMixin, db.Model):
    """A manager's current targets (one row per manager; homes show progress against it)."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    weekly_visits: Mapped[int] = mapped_column(default=0)
    quarterly_won: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal(0))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])
