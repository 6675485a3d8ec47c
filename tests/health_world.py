"""Customers for the health tests: one that fires no signal, and what makes each signal fire."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crm.extensions import db
from crm.services.health.sources import add_months
from models import (
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerStatus,
    LostReason,
    MonthlyFigure,
    Opportunity,
    OpportunityStatus,
    ServiceTicket,
    ThreatLevel,
    TicketCategory,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    Tier,
)

NOW = datetime.now(UTC).replace(microsecond=0)
LATEST_MONTH = date(2026, 5, 1)  # the figures' latest month (any month: the pass reads it)


def quiet_customer(owner, name: str | None = None, **fields) -> Customer:
    """An active customer visited today, with a decision maker: no signal fires."""
    fields.setdefault("tier", Tier.B)
    fields.setdefault("status", CustomerStatus.ACTIVE)
    fields.setdefault("last_visit_at", NOW - timedelta(hours=1))
    customer = Customer(name=name or f"健康客户{_next()}有限公司", owner=owner, **fields)
    db.session.add(customer)
    db.session.add(
        Contact(customer=customer, name=f"决策人{_next()}", role=BuyingRole.DECISION_MAKER)
    )
    db.session.commit()
    return customer


_counter = iter(range(1, 10**6))


def _next() -> int:
    return next(_counter)


def figures(customer: Customer, revenues, **columns) -> None:
    """Six months of figures ending with LATEST_MONTH; `columns` give a list per column."""
    for index, revenue in enumerate(revenues):
        month = add_months(LATEST_MONTH, index - len(revenues) + 1)
        values = {name: values[index] for name, values in columns.items()}
        db.session.add(
            MonthlyFigure(customer=customer, month=month, revenue=Decimal(revenue), **values)
        )
    db.session.commit()


def ticket(customer: Customer, **fields) -> ServiceTicket:
    fields.setdefault("kind", TicketKind.COMPLAINT)
    fields.setdefault("status", TicketStatus.RESOLVED)
    fields.setdefault("opened_at", NOW - timedelta(days=5))
    fields.setdefault("due_at", fields["opened_at"] + timedelta(days=1))
    row = ServiceTicket(
        customer=customer,
        category=TicketCategory.NETWORK_QUALITY,
        severity=TicketSeverity.HIGH,
        title=fields.pop("title", f"工单{_next()}"),
        owner=customer.owner,
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def competitor_profile(customer: Customer, **fields) -> CompetitorProfile:
    competitor = Competitor(name=fields.pop("competitor", f"竞争对手{_next()}"))
    profile = CompetitorProfile(customer=customer, competitor=competitor, **fields)
    db.session.add(profile)
    db.session.commit()
    return profile


def today() -> date:
    """Today in the organisation's zone (Asia/Shanghai), as the pass counts days."""
    from zoneinfo import ZoneInfo

    return NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()


# Each signal alone: what makes it fire on a quiet customer --------------------------------


def _revenue_falling(customer, stages):
    figures(customer, [100, 100, 100, 80, 80, 80])  # −20 %


def _lines_lost(customer, stages):
    figures(
        customer,
        [100] * 6,
        active_lines=[100] * 6,
        lines_lost=[0, 0, 0, 3, 3, 3],  # 9 of 109 lines: 8.3 %
    )


def _arrears_growing(customer, stages):
    figures(customer, [100] * 6, arrears=[0, 0, Decimal(100), 0, 0, Decimal(150)])  # +50 %


def _complaints_overdue(customer, stages):
    ticket(customer, status=TicketStatus.OPEN, opened_at=NOW - timedelta(days=2))


def _complaints_repeated(customer, stages):
    for days in (10, 30, 80):
        ticket(customer, opened_at=NOW - timedelta(days=days))


def _low_satisfaction(customer, stages):
    ticket(
        customer,
        kind=TicketKind.REQUEST,
        status=TicketStatus.CLOSED,
        satisfaction=1,
        closed_at=NOW - timedelta(days=3),
    )


def _silent(customer, stages):
    customer.last_visit_at = NOW - timedelta(days=70)  # tier B: every 60 days
    db.session.commit()


def _no_decision_maker(customer, stages):
    for contact in customer.contacts:
        contact.active = False
    db.session.commit()


def _competitor_contract_ending(customer, stages):
    competitor_profile(customer, contract_expiry=today() + timedelta(days=30))


def _competitor_high_threat(customer, stages):
    competitor_profile(customer, threat=ThreatLevel.HIGH)


def _contract_ending(customer, stages):
    customer.contract_expiry = today() + timedelta(days=45)
    db.session.commit()


def _lost_to_competitor(customer, stages):
    competitor = Competitor(name=f"对手{_next()}")
    db.session.add(
        Opportunity(
            customer=customer,
            title="专线扩容",
            stage=stages["Proposal"],
            owner=customer.owner,
            status=OpportunityStatus.LOST,
            lost_reason=LostReason.COMPETITOR,
            lost_to=competitor,
            closed_at=NOW - timedelta(days=20),
        )
    )
    db.session.commit()


ALONE = {
    "revenue_falling": _revenue_falling,
    "lines_lost": _lines_lost,
    "arrears_growing": _arrears_growing,
    "complaints_overdue": _complaints_overdue,
    "complaints_repeated": _complaints_repeated,
    "low_satisfaction": _low_satisfaction,
    "silent": _silent,
    "no_decision_maker": _no_decision_maker,
    "competitor_contract_ending": _competitor_contract_ending,
    "competitor_high_threat": _competitor_high_threat,
    "contract_ending": _contract_ending,
    "lost_to_competitor": _lost_to_competitor,
}
