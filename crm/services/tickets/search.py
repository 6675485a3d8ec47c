"""The service ticket list: filters from the URL, sort orders, and the scoped SELECT."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case
from sqlalchemy.orm import contains_eager, joinedload, load_only

from crm.extensions import db
from crm.permissions import scoped
from crm.services.archive.identity import is_record_id
from crm.services.filters import ListFilters
from crm.services.ordering import sorted_whole
from crm.services.tickets import sla
from models import (
    Customer,
    ServiceTicket,
    TicketCategory,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    User,
)
from models.base import utcnow

# The list shows tickets still being worked on unless asked for others: closed ones are
# history. "all" shows every status.
ACTIVE = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)
STATUS_CHOICES = ("all", *(status.value for status in TicketStatus))
SEVERITY_RANK = case(
    {severity: rank for rank, severity in enumerate(TicketSeverity)},
    value=ServiceTicket.severity,
    else_=9,
)
SORTS = {
    "due": (ServiceTicket.due_at, ServiceTicket.id),
    "-due": (ServiceTicket.due_at.desc(), ServiceTicket.id.desc()),
    "opened": (ServiceTicket.opened_at, ServiceTicket.id),
    "-opened": (ServiceTicket.opened_at.desc(), ServiceTicket.id.desc()),
    "severity": (SEVERITY_RANK, ServiceTicket.due_at, ServiceTicket.id),
    "customer": (Customer.name, ServiceTicket.due_at, ServiceTicket.id),
}


@dataclass
class TicketFilters(ListFilters):
    """What the list is narrowed to; read from and written back to the URL's query."""

    status: str = ""
    overdue: str = ""
    kind: str = ""
    category: str = ""
    severity: str = ""
    customer: str = ""
    owner: str = ""
    sort: str = "due"

    @classmethod
    def from_args(cls, args: Any) -> TicketFilters:
        """Build from request.args; unknown values are dropped, never an error."""
        values = {f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)}
        filters = cls(**values)
        if filters.status not in STATUS_CHOICES:
            filters.status = ""
        if filters.kind not in {kind.value for kind in TicketKind}:
            filters.kind = ""
        if filters.category not in {category.value for category in TicketCategory}:
            filters.category = ""
        if filters.severity not in {severity.value for severity in TicketSeverity}:
            filters.severity = ""
        for name in ("customer", "owner"):
            if not is_record_id(getattr(filters, name)):
                setattr(filters, name, "")
        if filters.sort not in SORTS:
            filters.sort = "due"
        filters.overdue = "1" if filters.overdue in {"1", "on", "y"} else ""
        return filters


def search_tickets(viewer: User, filters: TicketFilters, *, now: datetime | None = None) -> Select:
    """The scoped, filtered and sorted SELECT of tickets, with what a list line shows."""
    stmt = scoped(ServiceTicket, viewer)  # joined to its customer, which the scope asks
    if filters.status == "all":
        pass
    elif filters.status:
        stmt = stmt.where(ServiceTicket.status == TicketStatus(filters.status))
    elif not filters.overdue:
        stmt = stmt.where(ServiceTicket.status.in_(ACTIVE))
    if filters.overdue:
        stmt = stmt.where(sla.overdue(now or utcnow()))
    if filters.kind:
        stmt = stmt.where(ServiceTicket.kind == TicketKind(filters.kind))
    if filters.category:
        stmt = stmt.where(ServiceTicket.category == TicketCategory(filters.category))
    if filters.severity:
        stmt = stmt.where(ServiceTicket.severity == TicketSeverity(filters.severity))
    if filters.customer:
        stmt = stmt.where(ServiceTicket.customer_id == int(filters.customer))
    if filters.owner:
        # The owner is the customer's manager now: a handed-over customer's tickets go along.
        stmt = stmt.where(Customer.owner_id == int(filters.owner))
    return stmt.options(
        # What a line shows: no descriptions, resolutions or comments.
        load_only(
            ServiceTicket.title,
            ServiceTicket.kind,
            ServiceTicket.category,
            ServiceTicket.severity,
            ServiceTicket.status,
            ServiceTicket.opened_at,
            ServiceTicket.due_at,
            ServiceTicket.reopened_count,
            ServiceTicket.customer_id,
            ServiceTicket.handler_id,
        ),
        # What a line shows of the customer (already joined) and its manager.
        contains_eager(ServiceTicket.customer)
        .load_only(Customer.name, Customer.owner_id)
        .joinedload(Customer.owner)
        .load_only(User.display_name, User.timezone),
        joinedload(ServiceTicket.handler).load_only(User.display_name),
    ).order_by(*sorted_whole(SORTS[filters.sort], viewer=viewer))


def customer_in_filter(filters: TicketFilters, *, viewer: User) -> Customer | None:
    """The customer the list is narrowed to, if the viewer may see it (else nothing of it)."""
    if not filters.customer:
        return None
    return db.session.scalar(
        scoped(Customer, viewer)
        .where(Customer.id == int(filters.customer))
        .options(load_only(Customer.name))
    )
