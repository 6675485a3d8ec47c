"""The work log: visits (客户拜访) and follow-up reminders (跟进提醒); visit cadences per tier."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, utcnow, where_set
from models.customer import Tier

if TYPE_CHECKING:
    from models.contact import Contact
    from models.customer import Customer
    from models.pipeline import Opportunity
    from models.user import User


class VisitKind(enum.StrEnum):
    ON_SITE = "on_site"
    PHONE = "phone"
    MEETING = "meeting"
    PRESENTATION = "presentation"
    OTHER = "other"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DISMISSED = "dismissed"


class ReminderSource(enum.StrEnum):
    MANUAL = "manual"
    VISIT = "visit"
    OPPORTUNITY = "opportunity"
    SERVICE = "service"  # the revisit (回访) after a service ticket was resolved


class TierCadence(db.Model):
    """How often a tier must be visited (admin-editable; docs/domain.md gives the defaults)."""

    __tablename__ = "tier_cadences"

    tier: Mapped[Tier] = mapped_column(str_enum(Tier, 4), primary_key=True)
    days: Mapped[int]


visit_contacts = Table(
    "visit_contacts",
    db.metadata,
    Column("visit_id", ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id"), primary_key=True, index=True),
)


class Visit(TimestampMixin, db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    # Who made the visit (the work log is theirs).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[VisitKind] = mapped_column(str_enum(VisitKind), default=VisitKind.ON_SITE)
    purpose: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column()

    # On-site check-in (外勤签到): where the phone said it was when the visit was logged,
    # with the browser's accuracy in metres. Empty when the manager did not check in or
    # the browser gave no location.
    check_in_lat: Mapped[float | None]
    check_in_lng: Mapped[float | None]
    check_in_accuracy_m: Mapped[float | None]
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    user: Mapped[User] = relationship()
    contacts: Mapped[list[Contact]] = relationship(secondary=visit_contacts)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_visits_customer_id_occurred_at", "customer_id", "occurred_at"),
        Index("ix_visits_user_id_occurred_at", "user_id", "occurred_at"),
        # An admin's work log and the API's visit list, newest first over everyone: without
        # it SQLite gathered a month's visits of every user (83,000 at province) and sorted
        # them to give 100 (1.4 s).
        Index("ix_visits_occurred_at_id", "occurred_at", "id"),
        # Of the visits about an opportunity only: most are about none, and an index over
        # every row read to SQLite's statistics as one value (NULL) matching them all.
        Index("ix_visits_opportunity_id_set", "opportunity_id", **where_set("opportunity_id")),
    )


class Reminder(TimestampMixin, db.Model):
    """A dated next step for its owner, about one customer."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    source: Mapped[ReminderSource] = mapped_column(
        str_enum(ReminderSource), default=ReminderSource.MANUAL
    )
    # The owner's local day, and the UTC instant it falls due (08:30 local without a time).
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    has_time: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ReminderStatus] = mapped_column(
        str_enum(ReminderStatus), default=ReminderStatus.PENDING
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column()

    owner: Mapped[User] = relationship()
    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # My follow-ups (by due day), and overdue ones per owner read from the index alone.
        Index("ix_reminders_owner_id_status_due_on", "owner_id", "status", "due_on", "due_at"),
        # The scheduler's "what is due" scan.
        Index("ix_reminders_status_due_at", "status", "due_at"),
        # A customer's follow-ups; with status and owner, the pending ones a handover moved
        # to their new owner are one probe per customer. With the customer alone,
        # PostgreSQL combined it with the owner's index, whose range it read again for each
        # of a 10,000-customer handover (2.2 s of the handover notices).
        Index("ix_reminders_customer_id_status_owner_id", "customer_id", "status", "owner_id"),
        # Most follow-ups come from no visit and concern no opportunity. Over every row,
        # SQLite's statistics for these indexes said one value matched them all (the
        # NULLs), so the visit page scanned every follow-up (100 ms at province); an index
        # of the rows that have one tells the planner what it is worth.
        Index("ix_reminders_visit_id_set", "visit_id", **where_set("visit_id")),
        Index("ix_reminders_opportunity_id_set", "opportunity_id", **where_set("opportunity_id")),
    )


class VisitComment(db.Model):
    """A supervisor's comment (点评) on one visit of the work log, and the replies to it."""

    __tablename__ = "visit_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    visit: Mapped[Visit] = relationship()
    author: Mapped[User] = relationship()
