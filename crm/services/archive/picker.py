"""Finding a customer by name for a form that starts without one (a visit, a follow-up)."""

from __future__ import annotations

from sqlalchemy import Row, select

from crm.extensions import db
from crm.permissions import customer_scope
from models import Customer, User


def customers_matching(text: str, *, viewer: User, limit: int) -> list[Customer]:
    """Customers in the viewer's scope whose name contains `text`, by name."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(customer_scope(viewer), Customer.name.contains(text, autoescape=True))
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
    )


def customer_names(*, viewer: User, limit: int) -> list[str]:
    """The names of the customers in the viewer's scope, by name: what the picker suggests."""
    return list(
        db.session.scalars(
            select(Customer.name).where(customer_scope(viewer)).order_by(Customer.name).limit(limit)
        )
    )


def own_customers(*, viewer: User, limit: int) -> list[Row]:
    """(id, name) of the customers the viewer owns, by name: the picker's quick choice."""
    return list(
        db.session.execute(
            select(Customer.id, Customer.name)
            .where(Customer.owner_id == viewer.id)
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
    )
