"""Helpers the service ticket tests share: a ticket opened and moved on through the service."""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from crm.services.tickets import lifecycle
from models import ServiceTicket, TicketEvent

# The steps that bring a new ticket to each status.
STEPS = {
    "open": (),
    "in_progress": ("start",),
    "resolved": ("start", "resolve"),
    "closed": ("start", "resolve", "close"),
}


def open_ticket(customer, actor=None, **fields) -> ServiceTicket:
    """A complaint about the customer, opened by `actor` (default: its owner), committed."""
    values = {
        "kind": "complaint",
        "category": "network_quality",
        "severity": "high",
        "title": "专线中断",
        **fields,
    }
    ticket = lifecycle.open_ticket(customer, actor=actor or customer.owner, **values)
    db.session.commit()
    return ticket


def advance(ticket: ServiceTicket, status: str, actor=None) -> ServiceTicket:
    """Move a new ticket on to `status` through the service, committed after each step."""
    actor = actor or ticket.customer.owner
    for step in STEPS[status]:
        if step == "start":
            lifecycle.start(ticket, actor=actor, version=ticket.version)
        elif step == "resolve":
            lifecycle.resolve(ticket, actor=actor, version=ticket.version, resolution="已修复")
        else:
            lifecycle.close(ticket, actor=actor, version=ticket.version, satisfaction=4)
        db.session.commit()
    return ticket


def ticket_in(customer, status: str, actor=None, **fields) -> ServiceTicket:
    return advance(open_ticket(customer, actor, **fields), status, actor)


def events(ticket: ServiceTicket) -> list[tuple[str | None, str]]:
    """(from, to) of the ticket's events, oldest first."""
    db.session.expire_all()
    rows = db.session.execute(
        select(TicketEvent.from_status, TicketEvent.to_status)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return [(old.value if old else None, new.value) for old, new in rows]


def reloaded(ticket: ServiceTicket) -> ServiceTicket:
    db.session.expire_all()
    return db.session.get(ServiceTicket, ticket.id)
