"""Opportunities (商机), the stages they move through, and their append-only history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, utcnow
from models.contact import BuyingRole

if TYPE_CHECKING:
    from models.competitor import Competitor
    from models.contact import Contact
    from models.customer import Customer
    from models.user import User


class Phase(enum.StrEnum):
    PRE_SALE = "pre_sale"
    IN_SALE = "in_sale"
    AFTER_SALE = "after_sale"


class OpportunityStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class LostReason(enum.StrEnum):
    PRICE = "price"
    COMPETITOR = "competitor"
    RELATIONSHIP = "relationship"
    PRODUCT_FIT = "product_fit"
    TIMING = "timing"
    OTHER = "other"


class DocumentRule(enum.StrEnum):
    OFF = "off"
    REQUIRE = "require"
    SUGGEST = "suggest"


class Stage(db.Model):
    """An admin-editable stage; stages in use are retired, never deleted."""

    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    phase: Mapped[Phase] = mapped_column(str_enum(Phase))
    position: Mapped[int] = mapped_column(index=True)
    probability: Mapped[int] = mapped_column(default=0)
    # The contract stage: an opportunity is won here (exactly one stage carries it).
    is_contract: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # A document rule (admin toggle, off by default): moving an opportunity into this
    # stage requires, or only suggests, a document of this kind (a document kind's code).
    document_rule: Mapped[DocumentRule] = mapped_column(
        str_enum(DocumentRule, 10), default=DocumentRule.OFF, server_default="off"
    )
    document_kind: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),)

    def name_for(self, locale: str) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en


class Opportunity(TimestampMixin, db.Model):
    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(String(200))
    solution: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    expected_close: Mapped[date | None] = mapped_column(Date, index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"))
    probability: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[OpportunityStatus] = mapped_column(
        str_enum(OpportunityStatus), default=OpportunityStatus.OPEN
    )
    next_step: Mapped[str | None] = mapped_column(String(300))
    next_step_on: Mapped[date | None] = mapped_column(Date)
    contract_date: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[LostReason | None] = mapped_column(str_enum(LostReason))
    lost_to_id: Mapped[int | None] = mapped_column(ForeignKey("competitors.id"), index=True)
    lost_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column()

    customer: Mapped[Customer] = relationship()
    stage: Mapped[Stage] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lost_to: Mapped[Competitor | None] = relationship()
    contacts: Mapped[list[OpportunityContact]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan"
    )
    competitors: Mapped[list[OpportunityCompetitor]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan"
    )
    history: Mapped[list[OpportunityHistory]] = relationship(
        back_populates="opportunity", order_by="OpportunityHistory.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        # Board and list: an owner's (or a team's) opportunities by status and stage;
        # with amount and probability the open pipeline per owner is read from the index.
        Index(
            "ix_opportunities_owner_figures",
            "owner_id",
            "status",
            "stage_id",
            "amount",
            "probability",
        ),
        # The board ranks each column per status from the index: the first cards of a
        # stage and status are the first entries, however many the column holds.
        Index("ix_opportunities_stage_board", "stage_id", "status", "updated_at", "id"),
        # The list's default order (most recently changed first), from the index: an
        # admin's first page reads 50 entries, not every open opportunity sorted.
        Index("ix_opportunities_updated_at_id", "updated_at", "id"),
        # A customer's opportunities; and the board, whose scope joins through the
        # customer, reads its cards' stage, order and amounts from the index alone.
        Index(
            "ix_opportunities_customer_board",
            "customer_id",
            "status",
            "stage_id",
            "updated_at",
            "amount",
            "probability",
        ),
        # Home figures across every team: open per stage, closed this quarter, new this month.
        Index("ix_opportunities_status_stage_id_amount", "status", "stage_id", "amount"),
        Index("ix_opportunities_closed_at_figures", "closed_at", "status", "owner_id", "amount"),
        Index("ix_opportunities_created_at_owner_id", "created_at", "owner_id"),
        # New opportunities of a few owners in a month (a team's home, the review queue's
        # month plans): one seek per owner. Without it SQLite read each owner's every
        # opportunity through the figures index to test created_at (50 owners: 10 ms).
        Index("ix_opportunities_owner_id_created_at", "owner_id", "created_at"),
    )

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount or Decimal(0)) * self.probability / 100


class OpportunityContact(db.Model):
    """A contact's buying role on one opportunity (one of them primary)."""

    __tablename__ = "opportunity_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    role: Mapped[BuyingRole] = mapped_column(str_enum(BuyingRole))
    is_primary: Mapped[bool] = mapped_column(default=False)

    opportunity: Mapped[Opportunity] = relationship(back_populates="contacts")
    contact: Mapped[Contact] = relationship()

    __table_args__ = (UniqueConstraint("opportunity_id", "contact_id"),)


class OpportunityCompetitor(db.Model):
    """Another bidder on an opportunity and what it offers."""

    __tablename__ = "opportunity_competitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id"), index=True)
    offer: Mapped[str | None] = mapped_column(Text)

    opportunity: Mapped[Opportunity] = relationship(back_populates="competitors")
    competitor: Mapped[Competitor] = relationship()

    __table_args__ = (UniqueConstraint("opportunity_id", "competitor_id"),)


class OpportunityHistory(db.Model):
    """Append-only: the opportunity's state after each change of stage, amount,
    probability, expected date or status, with who and when. Consecutive rows give
    the time spent in each stage."""

    __tablename__ = "opportunity_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"))
    status: Mapped[OpportunityStatus] = mapped_column(str_enum(OpportunityStatus))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    probability: Mapped[int]
    expected_close: Mapped[date | None] = mapped_column(Date)
    # {field: [old, new]} of what this row changed ({} for the first row).
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    opportunity: Mapped[Opportunity] = relationship(back_populates="history")
    stage: Mapped[Stage] = relationship()
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_opportunity_history_opportunity_id_at", "opportunity_id", "at"),
        Index("ix_opportunity_history_stage_id_at", "stage_id", "at"),
        # The opportunities that moved in a report's period (migration 0029).
        Index("ix_opportunity_history_at_opportunity_id", "at", "opportunity_id"),
    )


# History rows are never changed or removed, whichever code holds the session: the
# rule lives with the model, so it holds wherever models are imported.
@event.listens_for(OpportunityHistory, "before_update")
@event.listens_for(OpportunityHistory, "before_delete")
def history_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("opportunity history is append-only")
