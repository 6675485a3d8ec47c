"""Ticket counts for other pages: a customer's on its page, overdue ones per owner on the homes.

Both pages are held to a fixed number of statements, so neither count costs one of its own
where another query can carry it: the customer page's counts ride in the timeline's ticket
query (crm/services/tickets/timeline.py), the homes' in their team table's union
(crm/services/reporting/dashboards.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select

from crm.extensions import db
from crm.permissions import customer_scope
from crm.request_cache import per_request
from crm.services.reporting import metrics
from crm.services.tickets import sla
from models import Customer, ServiceTicket, TicketStatus, User
from models.base import utcnow


@dataclass(frozen=True)
class TicketCounts:
    """A customer's tickets being worked on, those past their due time, those to revisit."""

    unresolved: int = 0
    overdue: int = 0
    to_revisit: int = 0  # resolved, waiting for the revisit that closes them


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counts_query(customer_id: Any, now: Any) -> Select:
    """One row: the customer's TicketCounts (ix_service_tickets_customer_id_status); the
    id and the time may be values or bound parameters (the timeline binds them)."""
    return select(
        _count_where(ServiceTicket.status.in_(sla.UNRESOLVED)).label("unresolved"),
        _count_where(sla.overdue(now)).label("overdue"),
        _count_where(ServiceTicket.status == TicketStatus.RESOLVED).label("to_revisit"),
    ).where(ServiceTicket.customer_id == customer_id)


def counts_from(row) -> TicketCounts:
    return TicketCounts(int(row.unresolved), int(row.overdue), int(row.to_revisit))


def remember_counts(customer_id: int, counts: TicketCounts) -> None:
    """Keep counts another query read for the rest of this request (the customer page)."""
    per_request(f"ticket-counts:{customer_id}", lambda: counts)


def customer_ticket_counts(customer: Customer, *, now: datetime | None = None) -> TicketCounts:
    """The customer's counts: read with its timeline already, or with one statement now.

    The caller has loaded the customer in scope.
    """
    return per_request(
        f"ticket-counts:{customer.id}",
        lambda: counts_from(db.session.execute(counts_query(customer.id, now or utcnow())).one()),
    )


def overdue_per_owner(viewer: User, owner_ids: list[int], now: datetime) -> Select:
    """Overdue tickets of the viewer's customers per customer owner among `owner_ids`, as a
    part of the home's team-table union: (kind "tickets", owner_id, count).

    Counted by the customer's owner now, as the list's owner filter and the scope count:
    a handed-over customer's tickets go with it.
    """
    owners = metrics.among_owners(Customer.owner_id, owner_ids)
    return (
        select(
            literal("tickets").label("kind"),
            Customer.owner_id.label("owner_id"),
            func.count().label("count"),
        )
        .select_from(ServiceTicket)
        .join(Customer, Customer.id == ServiceTicket.customer_id)
        .where(customer_scope(viewer), owners, sla.overdue(now))
        .group_by(Customer.owner_id)
    )
