"""People at a customer, with their buying role and reporting line."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum

if TYPE_CHECKING:
    from models.customer import Customer


class BuyingRole(enum.StrEnum):
    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    USER = "user"
    CONTACT_PERSON = "contact_person"


class Attitude(enum.StrEnum):
    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    OPPONENT = "opponent"


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(30), index=True)
    office_phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[BuyingRole] = mapped_column(
        str_enum(BuyingRole), default=BuyingRole.CONTACT_PERSON
    )
    attitude: Mapped[Attitude] = mapped_column(str_enum(Attitude), default=Attitude.NEUTRAL)
    strength: Mapped[int] = mapped_column(default=3)
    reports_to_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    reports_to: Mapped[Contact | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("strength BETWEEN 1 AND 5", name="strength_range"),
        # "Has this customer a decision maker?" is asked for every row of the list.
        Index("ix_contacts_customer_id_role_active", "customer_id", "role", "active"),
    )

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"

    @property
    def is_decision_maker(self) -> bool:
        return self.role is BuyingRole.DECISION_MAKER


# The list's order (those still at the customer first, then by name): an admin's page of
# 200,000 contacts is read from here instead of sorting them all.
Index("ix_contacts_active_name_id", Contact.active.desc(), Contact.name, Contact.id)
