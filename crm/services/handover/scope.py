"""Which customers of a handover a user may see.

One handover can move customers of several teams (an administrator's). Its page, the
list of handovers and its emails show each person only the customers in their scope:
those that went to someone in it, came from someone in it, or are in it now. The
others are counted, never named.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from crm.extensions import db
from crm.permissions import scoped
from models import Customer, Handover, HandoverCustomer, User


def visible_customer_rows(handover: Handover, user: User) -> Select:
    """SELECT of the handover's rows (HandoverCustomer) the user may see (the registry's path)."""
    return scoped(HandoverCustomer, user).where(HandoverCustomer.handover_id == handover.id)


def in_scope_now(customer_ids: list[int], user: User) -> set[int]:
    """Those of these customers the user may see now (whose current owner may be shown)."""
    if not customer_ids:
        return set()
    return set(
        db.session.scalars(
            scoped(Customer, user)
            .with_only_columns(Customer.id)
            .where(Customer.id.in_(customer_ids))
        )
    )


@dataclass
class Shown:
    """How many of a handover's customers a user sees, of how many it moved."""

    visible: int
    total: int

    @property
    def hidden(self) -> int:
        return self.total - self.visible

    @property
    def complete(self) -> bool:
        return self.hidden == 0


def shown_counts(handover_ids: list[int], user: User) -> dict[int, Shown]:
    """{handover id: Shown} for these handovers, in two grouped queries."""
    if not handover_ids:
        return {}
    totals = dict(
        db.session.execute(
            select(HandoverCustomer.handover_id, func.count())
            .where(HandoverCustomer.handover_id.in_(handover_ids))
            .group_by(HandoverCustomer.handover_id)
        ).all()
    )
    visible = dict(
        db.session.execute(
            scoped(HandoverCustomer, user)
            .with_only_columns(HandoverCustomer.handover_id, func.count())
            .where(HandoverCustomer.handover_id.in_(handover_ids))
            .group_by(HandoverCustomer.handover_id)
        ).all()
    )
    return {i: Shown(visible=visible.get(i, 0), total=totals.get(i, 0)) for i in handover_ids}
