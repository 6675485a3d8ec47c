"""The customer timeline's service source: each change of the customer's tickets.

One statement also carries the customer's ticket counts for the page's service panel
(remembered for the request): the customer page is held to a fixed number of statements,
and a customer with no ticket events still gets its one row of counts (the events are
outer-joined to the counts, not the other way round).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select, true
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.i18n import user_zone
from crm.labels import label
from crm.services.activity.timeline_item import (
    CUSTOMER,
    LIMIT,
    TimelineItem,
    bound,
    older_than,
)
from crm.services.tickets import summary
from models import Customer, ServiceTicket, TicketEvent, TicketKind, TicketStatus, User
from models.base import UTCDateTime, utcnow

NOW = bindparam("timeline_now", type_=UTCDateTime())  # what "overdue" is counted against


@functools.cache
def _events(paged: bool) -> Select:
    counts = summary.counts_query(CUSTOMER, NOW).subquery()
    newest = (
        select(TicketEvent.id)
        .join(ServiceTicket, ServiceTicket.id == TicketEvent.ticket_id)
        .where(ServiceTicket.customer_id == CUSTOMER, older_than(TicketEvent.at, paged))
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(LIMIT)
        .subquery()
    )
    return (
        select(counts.c.unresolved, counts.c.overdue, counts.c.to_revisit, TicketEvent)
        .select_from(counts)
        .outerjoin(newest, true())
        .outerjoin(TicketEvent, TicketEvent.id == newest.c.id)
        .options(
            joinedload(TicketEvent.ticket).load_only(
                ServiceTicket.title,
                ServiceTicket.kind,
                ServiceTicket.severity,
                ServiceTicket.category,
                ServiceTicket.due_at,
                ServiceTicket.satisfaction,
            ),
            joinedload(TicketEvent.actor),
            joinedload(TicketEvent.handler).load_only(User.display_name),
        )
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
    )


def ticket_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """Openings, status changes and new handlers of the customer's tickets, newest first."""
    params = {**bound(customer, limit, before), NOW.key: utcnow()}
    rows = db.session.execute(_events(before is not None), params).all()
    summary.remember_counts(customer.id, summary.counts_from(rows[0]))
    return [_item(row.TicketEvent, customer.owner) for row in rows if row.TicketEvent is not None]


def _item(event: TicketEvent, owner: User) -> TimelineItem:
    ticket = event.ticket
    detail: list[tuple[Any, Any, Any]] = []
    if event.from_status is None:
        title = (
            _l("Complaint opened: %(title)s", title=ticket.title)
            if ticket.kind is TicketKind.COMPLAINT
            else _l("Service request opened: %(title)s", title=ticket.title)
        )
        detail += [
            (str(_l("Severity")), None, label(ticket.severity)),
            (str(_l("Category")), None, label(ticket.category)),
            (str(_l("Due")), None, due_in_owner_zone(ticket, owner)),
        ]
    elif event.from_status is event.to_status:
        title = _l("Ticket handed to a new handler: %(title)s", title=ticket.title)
    elif event.to_status is TicketStatus.IN_PROGRESS:
        title = _l("Ticket taken in hand: %(title)s", title=ticket.title)
    elif event.to_status is TicketStatus.RESOLVED:
        title = _l("Ticket resolved: %(title)s", title=ticket.title)
    elif event.to_status is TicketStatus.CLOSED:
        title = _l("Ticket closed after the revisit: %(title)s", title=ticket.title)
        if ticket.satisfaction is not None:
            detail.append((str(_l("Satisfaction")), None, f"{ticket.satisfaction}/5"))
    else:
        title = _l("Ticket reopened: %(title)s", title=ticket.title)
    if event.handler is not None:
        detail.append((str(_l("Handler")), None, event.handler.display_name))
    if event.note:
        detail.append((str(_note_label(event)), None, event.note))
    return TimelineItem(
        at=event.at,
        kind="service",
        actor=event.actor,
        title=str(title),
        detail=detail,
        link_id=event.ticket_id,
        record=event,
    )


def _note_label(event: TicketEvent) -> Any:
    """What an event's note is: the resolution, the customer's comment, or a note."""
    if event.from_status is not event.to_status:
        if event.to_status is TicketStatus.RESOLVED:
            return _l("Resolution")
        if event.to_status is TicketStatus.CLOSED:
            return _l("Customer's comment")
    return _l("Note")


def due_in_owner_zone(ticket: ServiceTicket, owner: User) -> str:
    """The due time as the owner's clock shows it, with the zone: the SLA is theirs."""
    zone = user_zone(owner)
    return f"{ticket.due_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
