"""Work plans (周计划 · 月计划) and the supervisor's review of them (工作点评).

A manager plans each week and each month; the plan is drafted, submitted, and then either
reviewed (locked) or returned for revision with a reason and submitted again. Changes made
after the first submission are kept as `PlanChange` rows so the reviewer sees what moved.
Reviews and returns are `PlanReview` rows: the plan's history of verdicts, newest last.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.activity import Visit
    from models.contact import Contact
    from models.customer import Customer
    from models.pipeline import Opportunity
    from models.user import User


class PlanKind(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # for revision, with a reason; submitted again afterwards
    REVIEWED = "reviewed"  # locked


class Rating(enum.StrEnum):
    """The operators' four-step rating: 优 / 良 / 中 / 差."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class Verdict(enum.StrEnum):
    REVIEWED = "reviewed"
    RETURNED = "returned"


class VisitMatch(enum.StrEnum):
    """How a planned visit finds the visit that carried it out."""

    AUTO = "auto"  # the first visit to the same customer in the plan's week
    MANUAL = "manual"  # the manager chose the visit (visit_id)
    NONE = "none"  # the manager said no logged visit carried it out


class KeyCustomerAim(enum.StrEnum):
    ADVANCE = "advance"  # a key customer to move forward this month
    DEVELOP = "develop"  # a customer to develop (new business)


class WorkPlan(TimestampMixin, db.Model):
    """One manager's plan for one week (starts on its Monday) or one month (its 1st)."""

    __tablename__ = "work_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, 10))
    starts_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus), default=PlanStatus.DRAFT)
    # The week's focus statement, or the month's free text.
    focus: Mapped[str | None] = mapped_column(Text)
    # Monthly goals (empty on weekly plans).
    goal_visits: Mapped[int | None]
    goal_new_opportunities: Mapped[int | None]
    goal_won_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column()

    owner: Mapped[User] = relationship()
    visits: Mapped[list[PlannedVisit]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlannedVisit.day"
    )
    tasks: Mapped[list[PlanTask]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTask.id"
    )
    key_customers: Mapped[list[PlanKeyCustomer]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanKeyCustomer.id"
    )
    changes: Mapped[list[PlanChange]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanChange.id"
    )
    reviews: Mapped[list[PlanReview]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanReview.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("owner_id", "kind", "starts_on"),
        # The review queue and the supervisor's home: plans of a kind, a status, a period.
        Index("ix_work_plans_kind_status_starts_on", "kind", "status", "starts_on"),
        # An admin's plans page: the latest changed plans of everyone, read in this order
        # (without it PostgreSQL sorted all 64,000 plans of a province: 42 ms).
        Index("ix_work_plans_updated_at_id", "updated_at", "id"),
    )

    @property
    def locked(self) -> bool:
        return self.status is PlanStatus.REVIEWED

    @property
    def was_submitted(self) -> bool:
        return self.first_submitted_at is not None


plan_visit_contacts = Table(
    "plan_visit_contacts",
    db.metadata,
    Column("planned_visit_id", ForeignKey("plan_visits.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id"), primary_key=True, index=True),
)


class PlannedVisit(db.Model):
    """A visit the manager means to make: customer, day, purpose, whom to meet."""

    __tablename__ = "plan_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("work_plans.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str | None] = mapped_column(Text)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    match: Mapped[VisitMatch] = mapped_column(str_enum(VisitMatch, 10), default=VisitMatch.AUTO)
    # Set only when match is MANUAL.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))

    plan: Mapped[WorkPlan] = relationship(back_populates="visits")
    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    visit: Mapped[Visit | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(secondary=plan_visit_contacts)

    __table_args__ = (Index("ix_plan_visits_plan_id_day", "plan_id", "day"),)


class PlanTask(db.Model):
    """Other planned work: free text, optionally on a day, ticked when done."""

    __tablename__ = "plan_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("work_plans.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[WorkPlan] = relationship(back_populates="tasks")


class PlanKeyCustomer(db.Model):
    """A monthly plan's key customer to advance, or customer to develop, and the aim."""

    __tablename__ = "plan_key_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("work_plans.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    aim_kind: Mapped[KeyCustomerAim] = mapped_column(str_enum(KeyCustomerAim, 10))
    aim: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[WorkPlan] = relationship(back_populates="key_customers")
    customer: Mapped[Customer] = relationship()


class PlanChange(db.Model):
    """A change made to a plan after its first submission: who, when, old → new."""

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("work_plans.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What changed, in words a reviewer reads ("focus", "planned visit", "task", ...).
    what: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[WorkPlan] = relationship(back_populates="changes")
    user: Mapped[User] = relationship()


class PlanReview(db.Model):
    """A supervisor's verdict on a plan: reviewed with a rating, or returned with a reason."""

    __tablename__ = "plan_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("work_plans.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, 10))
    rating: Mapped[Rating | None] = mapped_column(str_enum(Rating, 10))
    # The review's comment, or the reason for returning the plan.
    comment: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[WorkPlan] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()
