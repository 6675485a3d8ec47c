"""What the services ask of the scope registry (crm/permissions.py) before they change a record."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from crm.permissions import in_scope
from crm.services.errors import NotFound
from models import Customer, User


def check_customer_in_scope(customer: Customer, *, actor: User) -> None:
    """Refuse unless the customer is in the actor's portfolio, asked of the database.

    Asked of the database, not of the loaded row: a handover may have moved the
    customer since the page was loaded.
    """
    if not in_scope(Customer, customer.id, actor):
        raise NotFound(_l("This customer is not in your portfolio."))
