"""Competitors (other operators and banks) and what they offer each customer."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, str_enum

if TYPE_CHECKING:
    from models.customer import Customer


class ThreatLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class InfoSource(enum.StrEnum):
    """Where what we know about a competitor came from."""

    WEBSITE = "website"
    BROCHURE = "brochure"
    PRODUCT_USE = "product_use"
    CUSTOMER_VISIT = "customer_visit"
    RELATIONSHIP = "relationship"


class Competitor(TimestampMixin, db.Model):
    """An entry of the admin-editable registry (中国联通, 中国电信, other banks...)."""

    __tablename__ = "competitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class CompetitorProfile(TimestampMixin, db.Model):
    """One competitor's position at one customer."""

    __tablename__ = "competitor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id"))
    products: Mapped[str | None] = mapped_column(Text)
    offer: Mapped[str | None] = mapped_column(Text)
    # Discount as a percentage off list price (e.g. 15.00 = 15 % off).
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    contract_expiry: Mapped[date | None] = mapped_column(Date, index=True)
    strengths: Mapped[str | None] = mapped_column(Text)
    weaknesses: Mapped[str | None] = mapped_column(Text)
    threat: Mapped[ThreatLevel] = mapped_column(str_enum(ThreatLevel), default=ThreatLevel.MEDIUM)
    source: Mapped[InfoSource | None] = mapped_column(str_enum(InfoSource))
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="competitor_profiles")
    competitor: Mapped[Competitor] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("customer_id", "competitor_id"),
        # A team's contracts expiring soon: its customers' profiles by expiry date.
        Index(
            "ix_competitor_profiles_customer_id_contract_expiry", "customer_id", "contract_expiry"
        ),
        # The overview's count per competitor and of contracts ending soon, from the index.
        Index(
            "ix_competitor_profiles_competitor_id_contract_expiry",
            "competitor_id",
            "contract_expiry",
        ),
    )


# The overview's default order, expiry first and no date last (its ORDER BY, exactly):
# an admin's first page reads 50 entries instead of sorting every profile.
Index(
    "ix_competitor_profiles_expiry_order",
    CompetitorProfile.contract_expiry.is_(None),
    CompetitorProfile.contract_expiry,
    CompetitorProfile.id,
)
# The API's keyset order of the same (blueprints/api/pagination.nullable): a date stands in
# for no date, so that a cursor can compare it.
Index(
    "ix_competitor_profiles_api_expiry_order",
    CompetitorProfile.contract_expiry.is_(None),
    func.coalesce(CompetitorProfile.contract_expiry, literal_column("'9999-12-31'")),
    CompetitorProfile.id,
)
