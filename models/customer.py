"""The enterprise customer (集团客户) and the reference lists it is classified by."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, where_set

if TYPE_CHECKING:
    from models.competitor import Competitor, CompetitorProfile
    from models.contact import Contact
    from models.health import CustomerHealth
    from models.user import User


class Tier(enum.StrEnum):
    """Value class: who may serve the customer and how often it must be visited."""

    A_PLUS = "A+"
    A = "A"
    B = "B"
    C = "C"


class Strategy(enum.StrEnum):
    """Strategy class (区域客户市场价值分级)."""

    CONSOLIDATE = "consolidate"
    INVEST = "invest"
    HARVEST = "harvest"
    MAINTAIN = "maintain"


class CustomerStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    LOST = "lost"


class LossReason(enum.StrEnum):
    """Why a customer was lost: an opportunity's lost reasons, and three of its own."""

    PRICE = "price"
    COMPETITOR = "competitor"
    RELATIONSHIP = "relationship"
    PRODUCT_FIT = "product_fit"
    TIMING = "timing"
    MERGED = "merged"  # merged into another company
    CLOSED = "closed"  # the company closed down
    MOVED = "moved"  # moved out of the region
    OTHER = "other"


class Industry(db.Model):
    """An admin-editable industry, named in both languages."""

    __tablename__ = "industries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def name_for(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # The name without spaces, width variants or company suffixes: finds likely duplicates.
    name_key: Mapped[str] = mapped_column(String(200), index=True, default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industries.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(50), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    employees: Mapped[int | None]
    annual_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    annual_spend: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, 4), default=Tier.C, index=True)
    strategy: Mapped[Strategy | None] = mapped_column(str_enum(Strategy), index=True)
    status: Mapped[CustomerStatus] = mapped_column(
        str_enum(CustomerStatus), default=CustomerStatus.PROSPECT, index=True
    )
    products_in_use: Mapped[str | None] = mapped_column(Text)
    contract_expiry: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The customer's site, from the first check-in a manager confirmed as the site or set
    # by an admin: on-site check-ins are measured against it.
    site_lat: Mapped[float | None]
    site_lng: Mapped[float | None]
    site_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    site_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Revenue of the last three months against the three before, in percent, refreshed by
    # each figures import (lists show and filter by it); None without six months of figures.
    revenue_trend: Mapped[Decimal | None] = mapped_column(Numeric(7, 2), index=True)
    # Set when the customer is marked lost: why, to which competitor, when (the supervisor's
    # "lost this quarter" reads lost_at, through an index of the lost ones alone).
    lost_reason: Mapped[LossReason | None] = mapped_column(str_enum(LossReason))
    lost_to_id: Mapped[int | None] = mapped_column(ForeignKey("competitors.id"))
    lost_note: Mapped[str | None] = mapped_column(Text)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column()
    # The customer page's figures line, read with the customer's own statement (None unless
    # loaded: crm/services/figures/panels.py SUMMARY): the newest month billed, the one before.
    figures_month: Mapped[date | None] = query_expression()
    figures_revenue: Mapped[Decimal | None] = query_expression()
    figures_month_before: Mapped[date | None] = query_expression()
    figures_revenue_before: Mapped[Decimal | None] = query_expression()

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    industry: Mapped[Industry | None] = relationship()
    parent: Mapped[Customer | None] = relationship(remote_side=[id], back_populates="subsidiaries")
    subsidiaries: Mapped[list[Customer]] = relationship(
        back_populates="parent", order_by="Customer.name"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by="Contact.name"
    )
    competitor_profiles: Mapped[list[CompetitorProfile]] = relationship(back_populates="customer")
    # The stored health the last pass left (customer page: joined to the customer's row).
    health: Mapped[CustomerHealth | None] = relationship(viewonly=True, uselist=False)
    lost_to: Mapped[Competitor | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The scoped list sorts by name within an owner's (or a team's) portfolio.
        Index("ix_customers_owner_id_name", "owner_id", "name"),
        # The region filter's choices within a portfolio, read from the index alone.
        Index("ix_customers_owner_id_region", "owner_id", "region"),
        # Region + tier is the usual narrowing of an admin's list; with name in the
        # index the name sort and the name search need no table row for most customers.
        Index("ix_customers_region_tier_name", "region", "tier", "name"),
        # Home figures: customers and silent ones per owner and tier, from the index alone.
        Index(
            "ix_customers_owner_id_tier_figures",
            "owner_id",
            "tier",
            "status",
            "last_visit_at",
            "created_at",
        ),
        # Few customers are lost. Over every row, PostgreSQL's planner probed the index for
        # the range's actual end through all the NULLs of the others (about 1 ms of
        # planning per statement at province), and an import wrote an entry per customer.
        Index("ix_customers_lost_at_set", "lost_at", **where_set("lost_at")),
    )

    def __repr__(self) -> str:
        return f"<Customer {self.name}>"
