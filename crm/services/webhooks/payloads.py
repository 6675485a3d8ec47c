"""What an event says about the records it concerns: plain JSON values, the same for every receiver.

Codes rather than words (a tier "A", a reason "price"), both names of a stage, money as
a decimal string, dates as ISO 8601, and each record's page in the CRM (CRM_BASE_URL).
Only what a receiver needs to act: no notes, no contact details.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm.emails import as_pattern, external_url
from crm.extensions import db
from models import (
    Customer,
    CustomerStatus,
    Handover,
    HandoverCustomer,
    Opportunity,
    Reminder,
    Stage,
    Tier,
    User,
)

# A handover of a whole region moves thousands of customers: the event lists this many.
LISTED_CUSTOMERS = 500


def user_data(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "name": user.display_name}


def customer_data(customer: Customer) -> dict[str, Any]:
    return customer_values(
        customer.id, customer.name, customer.tier, customer.status, user_data(customer.owner)
    )


def customer_values(
    id_: int,
    name: str,
    tier: Tier | None,
    status: CustomerStatus | None,
    owner: dict | None,
    url_pattern: str | None = None,
) -> dict[str, Any]:
    """`customer_data` of a customer read as columns (an import's thousands, not ORM rows);
    `url_pattern`: customer_url_pattern(), for many customers."""
    return {
        "id": id_,
        "name": name,
        "tier": tier.value if tier else None,
        "status": status.value if status else None,
        "owner": owner,
        "url": (url_pattern or customer_url_pattern()).format(id_),
    }


def customer_url_pattern() -> str:
    """A customer's page on CRM_BASE_URL as a pattern for its id."""
    return as_pattern(lambda id_: external_url("customers.show", customer_id=id_))


def stage_data(stage: Stage | None) -> dict[str, Any] | None:
    if stage is None:
        return None
    return {
        "id": stage.id,
        "name_zh": stage.name_zh,
        "name_en": stage.name_en,
        "phase": stage.phase.value,
    }


def opportunity_data(opportunity: Opportunity) -> dict[str, Any]:
    customer = opportunity.customer
    return {
        "id": opportunity.id,
        "title": opportunity.title,
        "status": opportunity.status.value,
        "amount": opportunity.amount,
        "probability": opportunity.probability,
        "expected_close": opportunity.expected_close,
        "stage": stage_data(opportunity.stage),
        "owner": user_data(opportunity.owner),
        "customer": {"id": customer.id, "name": customer.name, "tier": customer.tier.value},
        "url": external_url("opportunities.show", opportunity_id=opportunity.id),
    }


def follow_up_data(reminder: Reminder) -> dict[str, Any]:
    opportunity = reminder.opportunity
    return {
        "id": reminder.id,
        "due_on": reminder.due_on,
        "due_at": reminder.due_at,
        "owner": user_data(reminder.owner),
        "customer": customer_data(reminder.customer),
        "opportunity": (
            {"id": opportunity.id, "title": opportunity.title} if opportunity is not None else None
        ),
        "url": external_url("reminders.show", reminder_id=reminder.id),
    }


def handover_data(handover: Handover) -> dict[str, Any]:
    """The handover, and its first LISTED_CUSTOMERS customers with their previous owners."""
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.tier, User.id, User.username, User.display_name)
        .join(HandoverCustomer, HandoverCustomer.customer_id == Customer.id)
        .join(User, User.id == HandoverCustomer.from_owner_id)
        .where(HandoverCustomer.handover_id == handover.id)
        .order_by(Customer.id)
        .limit(LISTED_CUSTOMERS)
    ).all()
    return {
        "handover": {
            "id": handover.id,
            "reverses": handover.reverses_id,
            "url": external_url("handovers.show", handover_id=handover.id),
        },
        "actor": user_data(handover.actor),
        "to_owner": user_data(handover.to_owner),
        "customer_count": handover.customers_count,
        "opportunity_count": handover.opportunities_count,
        "follow_up_count": handover.reminders_count,
        "customers": [
            {
                "id": customer_id,
                "name": name,
                "tier": tier.value,
                "from_owner": {"id": owner_id, "username": username, "name": display_name},
                "url": external_url("customers.show", customer_id=customer_id),
            }
            for customer_id, name, tier, owner_id, username, display_name in rows
        ],
    }
