"""Customer health: a score and a band from the signals the CRM holds, with its reasons."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum

if TYPE_CHECKING:
    from models.customer import Customer


class HealthBand(enum.StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at_risk"


class CustomerHealth(db.Model):
    """A customer's latest health, rewritten by each health pass (one row per customer)."""

    __tablename__ = "customer_health"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)  # 100 = no warning signal at all
    band: Mapped[HealthBand] = mapped_column(str_enum(HealthBand))
    # Each signal that fired: {"signal": code, "points": n, "detail": {...}} — the page
    # words and links them; the list filters by signal.
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The same signals' codes, with a space either side of each (" silent arrears_growing "):
    # the list's filter by signal reads them from the index below, where parsing each
    # at-risk customer's factors cost more than the rest of the page.
    signal_codes: Mapped[str] = mapped_column(String(400), default="", server_default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the customer last entered "at risk": the warning email is keyed by it, so it
    # goes once per entry, not every night.
    at_risk_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        Index("ix_customer_health_band_score_signals", "band", "score", "signal_codes"),
    )


class HealthSnapshot(db.Model):
    """The history: a customer's score and band on each day it changed."""

    __tablename__ = "customer_health_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(SmallInteger)
    band: Mapped[HealthBand] = mapped_column(str_enum(HealthBand))
    # The codes of the signals that fired that day: what a lost customer showed before.
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)

    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        Index("ix_customer_health_history_customer_id_day", "customer_id", "day", unique=True),
        # The weekly digest: who worsened since a day.
        Index("ix_customer_health_history_day", "day"),
    )
