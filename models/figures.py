"""Monthly business figures per customer, as the billing system exports them each month."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.customer import Customer


class MonthlyFigure(db.Model):
    """One customer's figures for one month (收入, ARPU, 到达数, 离网 ...).

    Re-importing a month replaces the month's row for each customer in the file, so
    (customer, month) is unique. Every figure but revenue may be missing from a file.
    """

    __tablename__ = "monthly_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2))  # 收入
    arpu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    active_lines: Mapped[int | None]  # lines or accounts in use (到达数)
    key_solution_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    arrears: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 欠费
    arrears_recovered: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    lines_lost: Mapped[int | None]  # 离网
    source: Mapped[str | None] = mapped_column(String(200))  # the imported file's name
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        # A customer's last 13 months (customer page, health) read from the unique index.
        UniqueConstraint("customer_id", "month"),
        # A month's import replaces rows by month; the health pass reads months in a range.
        Index("ix_monthly_figures_month", "month"),
        # The health job's five-minute check for new figures reads the newest import time.
        Index("ix_monthly_figures_imported_at", "imported_at"),
    )
