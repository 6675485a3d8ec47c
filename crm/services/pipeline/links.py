"""Who is involved in an opportunity: the customer's contacts with their buying role on it,
and the competitors bidding for it with their offer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from crm.extensions import db
from crm.services import audit
from crm.services.errors import DomainError
from crm.services.pipeline.opportunities import require_customer_in_scope
from models import (
    AuditAction,
    BuyingRole,
    Competitor,
    Contact,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    User,
)

# Primary contact first, then decision makers, then by name.
ROLE_ORDER = {role: index for index, role in enumerate(BuyingRole)}


def sorted_contacts(opportunity: Opportunity) -> list[OpportunityContact]:
    return sorted(
        opportunity.contacts,
        key=lambda link: (not link.is_primary, ROLE_ORDER[link.role], link.contact.name),
    )


def contacts_on(opportunity: Opportunity) -> Select:
    """SELECT of the links of the opportunity's contacts, each with its contact (the API
    pages it in the page's order: see sorted_contacts)."""
    return (
        select(OpportunityContact)
        .join(OpportunityContact.contact)
        .where(OpportunityContact.opportunity_id == opportunity.id)
        .options(contains_eager(OpportunityContact.contact))
    )


def addable_contacts(opportunity: Opportunity) -> list[Contact]:
    """The customer's active contacts not yet on the opportunity."""
    linked = select(OpportunityContact.contact_id).where(
        OpportunityContact.opportunity_id == opportunity.id
    )
    return list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.customer_id == opportunity.customer_id,
                Contact.active.is_(True),
                Contact.id.not_in(linked),
            )
            .order_by(Contact.name)
        )
    )


def add_contact(
    opportunity: Opportunity,
    contact: Contact,
    *,
    actor: User,
    role: BuyingRole | str | None = None,
    is_primary: bool = False,
) -> OpportunityContact:
    """Put one of the customer's contacts on the opportunity with a role (theirs by default);
    making them primary makes the previous primary contact an ordinary one."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if contact.customer_id != opportunity.customer_id:
        raise DomainError(_l("Choose a contact of this customer."), field="contact_id")
    if not contact.active:
        raise DomainError(_l("This contact has left the customer."), field="contact_id")
    if any(link.contact_id == contact.id for link in opportunity.contacts):
        raise DomainError(_l("This contact is already on the opportunity."), field="contact_id")
    try:
        role = BuyingRole(role) if role else contact.role
    except ValueError:
        raise DomainError(_l("Choose a buying role from the list."), field="role")
    if is_primary:
        for link in opportunity.contacts:
            link.is_primary = False
    link = OpportunityContact(contact=contact, role=role, is_primary=is_primary)
    opportunity.contacts.append(link)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        link,
        actor=actor,
        customer_id=opportunity.customer_id,
        label=f"{opportunity.title}: {contact.name}",
        changes={"role": [None, role.value], "is_primary": [None, is_primary]},
    )
    return link


def remove_contact(opportunity: Opportunity, contact_id: int, *, actor: User) -> None:
    """Take a contact off the opportunity (the contact itself stays)."""
    require_customer_in_scope(opportunity.customer_id, actor)
    link = next((c for c in opportunity.contacts if c.contact_id == contact_id), None)
    if link is None:
        raise DomainError(_l("This contact is not on the opportunity."), field="contact_id")
    audit.record(
        AuditAction.DELETE,
        link,
        actor=actor,
        customer_id=opportunity.customer_id,
        label=f"{opportunity.title}: {link.contact.name}",
        changes={"role": [link.role.value, None]},
    )
    opportunity.contacts.remove(link)
    db.session.flush()


def competitors_on(opportunity: Opportunity) -> Select:
    """SELECT of the competitors bidding on the opportunity, each with its registry entry."""
    return (
        select(OpportunityCompetitor)
        .join(OpportunityCompetitor.competitor)
        .where(OpportunityCompetitor.opportunity_id == opportunity.id)
        .options(contains_eager(OpportunityCompetitor.competitor))
    )


def addable_competitors(opportunity: Opportunity) -> list[Competitor]:
    """Active registry entries not yet bidding on the opportunity."""
    bidding = select(OpportunityCompetitor.competitor_id).where(
        OpportunityCompetitor.opportunity_id == opportunity.id
    )
    return list(
        db.session.scalars(
            select(Competitor)
            .where(Competitor.active.is_(True), Competitor.id.not_in(bidding))
            .order_by(Competitor.name)
        )
    )


def add_competitor(
    opportunity: Opportunity, competitor: Competitor, *, actor: User, offer: str | None = None
) -> OpportunityCompetitor:
    """Record that a competitor bids for the opportunity, and what it offers."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if not competitor.active:
        raise DomainError(_l("This competitor is retired from the registry."), "competitor_id")
    if any(bid.competitor_id == competitor.id for bid in opportunity.competitors):
        raise DomainError(
            _l("This competitor is already on the opportunity."), field="competitor_id"
        )
    offer = (offer or "").strip() or None
    bid = OpportunityCompetitor(competitor=competitor, offer=offer)
    opportunity.competitors.append(bid)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        bid,
        actor=actor,
        customer_id=opportunity.customer_id,
        label=f"{opportunity.title}: {competitor.name}",
        changes={"offer": [None, offer]},
    )
    return bid


def remove_competitor(opportunity: Opportunity, competitor_id: int, *, actor: User) -> None:
    require_customer_in_scope(opportunity.customer_id, actor)
    bid = next((b for b in opportunity.competitors if b.competitor_id == competitor_id), None)
    if bid is None:
        raise DomainError(_l("This competitor is not on the opportunity."), "competitor_id")
    audit.record(
        AuditAction.DELETE,
        bid,
        actor=actor,
        customer_id=opportunity.customer_id,
        label=f"{opportunity.title}: {bid.competitor.name}",
        changes={"offer": [bid.offer, None]},
    )
    opportunity.competitors.remove(bid)
    db.session.flush()


def contact_by_id(contact_id: int | None) -> Contact | None:
    """The contact a form chose (among the addable ones), or None without an id."""
    return db.session.get(Contact, contact_id) if contact_id else None
