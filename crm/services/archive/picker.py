"""Finding a customer by name: for a form that starts without one (a visit, a follow-up),
and for the searchable customer pickers (crm/services/pickers.py)."""

from __future__ import annotations

from sqlalchemy import Select, select

from crm.extensions import db
from crm.permissions import customer_scope
from crm.services import pickers
from crm.services.ordering import sorted_whole
from models import Customer, User


def customers_matching(text: str, *, viewer: User, limit: int) -> list[Customer]:
    """Customers in the viewer's scope whose name contains `text`, by name."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(customer_scope(viewer), Customer.name.contains(text, autoescape=True))
            .order_by(*sorted_whole((Customer.name, Customer.id), viewer=viewer))
            .limit(limit)
        )
    )


def _customer_choices(viewer: User) -> Select:
    """(id, name, region) of the customers in the viewer's scope, by name (an admin's read
    in name order from the index; a team's sorted whole: crm/services/ordering.py)."""
    return (
        select(Customer.id, Customer.name, Customer.region)
        .where(customer_scope(viewer))
        .order_by(*sorted_whole((Customer.name, Customer.id), viewer=viewer))
    )


def customers_named(text: str, *, viewer: User, limit: int) -> list[dict]:
    """The customer picker's answer: up to `limit` + 1 customers in the viewer's scope whose
    name contains `text` (any customer when it is empty), as {id, label, detail: region}.

    LIKE over the name, ordered by name: the name index serves the order and LIMIT stops
    the read early (crm/services/pickers.py); 2-character Chinese terms match as any other.
    """
    stmt = _customer_choices(viewer)
    if text:
        stmt = stmt.where(Customer.name.icontains(text, autoescape=True))
    return pickers.found(stmt, limit=limit + 1)


def customer_shortlist(
    viewer: User, *, chosen: int | None = None, leave_out: int | None = None
) -> pickers.Shortlist:
    """The customers a picker's page renders: the first by name and `chosen` (if in scope);
    `leave_out`: a customer that may not choose itself (a parent's own record)."""
    stmt = _customer_choices(viewer).with_only_columns(Customer.id, Customer.name)
    if leave_out is not None:
        stmt = stmt.where(Customer.id != leave_out)
    return pickers.shortlist(stmt, chosen=chosen)


def own_shortlist(*, viewer: User, chosen: int | None = None) -> pickers.Shortlist:
    """The customers the viewer owns as a picker's page renders them: the first by name and
    `chosen` (if theirs)."""
    stmt = (
        select(Customer.id, Customer.name)
        .where(Customer.owner_id == viewer.id)
        .order_by(Customer.name, Customer.id)
    )
    return pickers.shortlist(stmt, chosen=chosen)
