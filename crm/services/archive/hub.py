"""What the customer's pages gather about one customer: its opportunities, pending
follow-ups, and the contacts and opportunities its forms offer.

Each list is one query (relations eager-loaded, at most `limit` rows and one more to
know there are more), so the customer page's statements do not grow with its rows.
The caller has loaded the customer in scope; the queries apply the scope again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import case, or_, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import visible_opportunities
from crm.services.followups.reminders import visible_reminders
from models import (
    Contact,
    Customer,
    Opportunity,
    OpportunityStatus,
    Reminder,
    ReminderStatus,
    User,
)

# The customer page shows this many of each; the rest are a link away.
HUB_LIMIT = 10

Row = TypeVar("Row")


@dataclass
class FirstRows(Generic[Row]):
    """The first rows of a list, and whether more follow."""

    rows: list[Row]
    more: bool


def _first(stmt, limit: int) -> FirstRows:
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return FirstRows(rows=rows[:limit], more=len(rows) > limit)


# Open ones first, then the won ones in delivery, then the lost ones.
_STATUS_ORDER = case(
    (Opportunity.status == OpportunityStatus.OPEN, 0),
    (Opportunity.status == OpportunityStatus.WON, 1),
    else_=2,
)


def customer_opportunities(
    customer: Customer, *, actor: User, limit: int = HUB_LIMIT
) -> FirstRows[Opportunity]:
    """The customer's opportunities the actor may see: open first, then the latest changed."""
    return _first(
        visible_opportunities(actor)
        .options(joinedload(Opportunity.stage), joinedload(Opportunity.owner))
        .where(Opportunity.customer_id == customer.id)
        .order_by(_STATUS_ORDER, Opportunity.updated_at.desc(), Opportunity.id.desc()),
        limit,
    )


def customer_follow_ups(
    customer: Customer, *, actor: User, limit: int = HUB_LIMIT
) -> FirstRows[Reminder]:
    """The customer's pending follow-ups the actor may see, soonest first."""
    return _first(
        visible_reminders(actor)
        .options(
            joinedload(Reminder.owner).load_only(User.timezone, User.display_name),
            joinedload(Reminder.opportunity).load_only(Opportunity.title),
        )
        .where(Reminder.customer_id == customer.id, Reminder.status == ReminderStatus.PENDING)
        .order_by(Reminder.due_at, Reminder.id),
        limit,
    )


def contact_choices(customer: Customer, *, also: list[int] | None = None) -> list[Contact]:
    """The customer's active contacts, plus those with ids in `also` (since departed), by name."""
    return list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.customer_id == customer.id, or_(Contact.active, Contact.id.in_(also or []))
            )
            .order_by(Contact.name, Contact.id)
        )
    )


def opportunity_choices(customer: Customer, *, also: int | None = None) -> list[Opportunity]:
    """The customer's open opportunities, plus the one with id `also` (already linked), by title."""
    shown = Opportunity.status == OpportunityStatus.OPEN
    if also is not None:
        shown = or_(shown, Opportunity.id == also)
    return list(
        db.session.scalars(
            select(Opportunity)
            .where(Opportunity.customer_id == customer.id, shown)
            .order_by(Opportunity.title, Opportunity.id)
        )
    )
