"""The enterprise customer (集团客户): the aggregate everything else hangs off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin

if TYPE_CHECKING:
    from models.user import User


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column()

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Customer {self.name}>"
