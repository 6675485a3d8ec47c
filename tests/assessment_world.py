"""Records for the assessment tests: figures, complaints, visits and deals in a period."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm.extensions import db
from crm.services.assessment import periods
from crm.services.assessment.periods import AssessmentPeriod
from models import (
    Customer,
    MonthlyFigure,
    OpportunityStatus,
    PeriodKind,
    ServiceTicket,
    TicketCategory,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    Visit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def last_month() -> AssessmentPeriod:
    """The last month that is over (publishable), in the organisation's zone."""
    return periods.current(PeriodKind.MONTH).previous()


def at(day, hour: int = 12) -> datetime:
    """Noon (or `hour`) of a local day, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def near_end(period: AssessmentPeriod, days_before: int = 2) -> datetime:
    return at(period.last - timedelta(days=days_before))


def figure(customer: Customer, month, revenue, **values) -> MonthlyFigure:
    row = MonthlyFigure(
        customer=customer,
        month=month,
        revenue=Decimal(str(revenue)),
        **{k: (Decimal(str(v)) if isinstance(v, float | str) else v) for k, v in values.items()},
    )
    db.session.add(row)
    db.session.commit()
    return row


def complaint(customer: Customer, opened_at: datetime, **fields) -> ServiceTicket:
    ticket = ServiceTicket(
        customer=customer,
        kind=fields.pop("kind", TicketKind.COMPLAINT),
        category=TicketCategory.NETWORK_QUALITY,
        severity=TicketSeverity.HIGH,
        title=fields.pop("title", "网络中断投诉"),
        owner=fields.pop("owner", customer.owner),
        status=TicketStatus.RESOLVED,
        opened_at=opened_at,
        due_at=opened_at + timedelta(days=1),
        **fields,
    )
    db.session.add(ticket)
    db.session.commit()
    return ticket


def visits(customer: Customer, when: datetime, count: int, user=None) -> None:
    for n in range(count):
        db.session.add(
            Visit(
                customer=customer,
                user=user or customer.owner,
                occurred_at=when - timedelta(hours=n),
            )
        )
    db.session.commit()


def closed_deal(make_opportunity, customer, status: OpportunityStatus, amount, closed_at):
    return make_opportunity(
        customer,
        stage="Contract" if status is OpportunityStatus.WON else "Initial contact",
        status=status,
        amount=Decimal(amount),
        closed_at=closed_at,
    )
