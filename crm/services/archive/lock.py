"""The customer row lock that writes share with handovers.

A handover locks its customers while it moves them and what hangs off them. A write
that derives an owner from a customer (a visit's follow-up, a new follow-up, a new
opportunity) takes the same lock first and reads the owner under it: it either runs
before the handover, which then moves what it wrote, or after it, and then sees the
new owner (the previous owner is refused). Reading the owner before the lock would
save the row under an owner who no longer has the customer.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from crm.extensions import db
from crm.permissions import scoped
from crm.services.errors import NotFound
from models import Customer, User


def lock_customer_for_write(customer_id: int, *, actor: User) -> Customer:
    """Lock the customer until commit and return it re-read, if it is in the actor's scope.

    Call it before the transaction writes anything else: a handover waiting for this
    lock must not hold a row this transaction then waits for.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite locks the whole database on the first write: a no-op write takes that
        # lock now, so the read below is the latest and stays so until commit.
        db.session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(owner_id=Customer.owner_id, updated_at=Customer.updated_at),
            execution_options={"synchronize_session": False},
        )
    stmt = (
        scoped(Customer, actor)
        .where(Customer.id == customer_id)
        .execution_options(populate_existing=True)
    )
    if dialect == "postgresql":
        # NO KEY UPDATE: waits for (and holds off) a handover's FOR UPDATE, but not the
        # key-share locks of other inserts that merely reference the customer.
        stmt = stmt.with_for_update(of=Customer, key_share=True)
    customer = db.session.scalar(stmt)
    if customer is None:
        raise NotFound(_l("This customer is not in your portfolio."))
    return customer
