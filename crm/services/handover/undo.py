"""Undoing a handover within 7 days: a new recorded handover back to the previous owners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, not_, select

from crm.extensions import db
from crm.permissions import owner_scope
from crm.services.errors import DomainError, NotAllowed
from crm.services.handover.transfer import (
    HandoverOptions,
    count_of,
    may_hand_over,
    move_selection,
    require_hand_over,
)
from models import Customer, Handover, HandoverCustomer, HandoverStatus, User
from models.base import utcnow

UNDO_DAYS = 7


@dataclass
class UndoReport:
    handovers: list[Handover]
    moved_back: int
    moved_on: int  # customers someone handed on since: they stay where they are
    changed_since: int  # customers edited since the handover: moved back as they are now


def undo_deadline(handover: Handover):
    return handover.created_at + timedelta(days=UNDO_DAYS)


def can_undo(handover: Handover, actor: User) -> bool:
    return (
        may_hand_over(actor)
        and handover.status is HandoverStatus.DONE
        and handover.reverses_id is None
        and utcnow() <= undo_deadline(handover)
        and _all_in_scope(handover, actor)
    )


def _all_in_scope(handover: Handover, actor: User) -> bool:
    """Whether the new owner and every previous owner are in the actor's scope.

    An undo moves every customer of the handover back: a supervisor may undo only a
    handover they could have made (an administrator's may span teams).
    """
    if actor.is_admin:
        return True
    to_owner = db.session.scalar(
        select(User.id).where(User.id == handover.to_owner_id, owner_scope(actor, User.id))
    )
    outside = count_of(
        select(func.count()).where(
            HandoverCustomer.handover_id == handover.id,
            not_(owner_scope(actor, HandoverCustomer.from_owner_id)),
        )
    )
    return to_owner is not None and outside == 0


def undo(handover: Handover, *, actor: User) -> UndoReport:
    """Hand the customers back to their previous owners, as new recorded handovers."""
    require_hand_over(actor)
    if not _all_in_scope(handover, actor):
        raise NotAllowed(
            _l("Some of these customers are outside your teams: ask an administrator to undo it.")
        )
    if handover.reverses_id is not None:
        raise DomainError(_l("An undo cannot itself be undone: hand the customers over again."))
    if handover.status is not HandoverStatus.DONE:
        raise DomainError(_l("This handover has been undone already."))
    if utcnow() > undo_deadline(handover):
        raise DomainError(_l("A handover can be undone only within %(n)d days.", n=UNDO_DAYS))
    listed = select(HandoverCustomer.customer_id).where(HandoverCustomer.handover_id == handover.id)
    still_there = and_(Customer.id.in_(listed), Customer.owner_id == handover.to_owner_id)
    moved_on = count_of(
        select(func.count()).where(
            Customer.id.in_(listed), Customer.owner_id != handover.to_owner_id
        )
    )
    changed = count_of(
        select(func.count()).where(still_there, Customer.updated_at > handover.created_at)
    )
    previous = db.session.scalars(
        select(User)
        .where(
            User.id.in_(
                select(HandoverCustomer.from_owner_id).where(
                    HandoverCustomer.handover_id == handover.id
                )
            )
        )
        .order_by(User.id)
    ).all()
    for user in previous:
        if not user.active:
            raise DomainError(
                _l(
                    "%(name)s is deactivated: hand these customers to someone else instead.",
                    name=user.display_name,
                )
            )
    options = HandoverOptions(**handover.options)
    backs = []
    from_handover = handover.to_owner
    for user in previous:
        ids = (
            select(Customer.id)
            .where(still_there)
            .where(
                Customer.id.in_(
                    select(HandoverCustomer.customer_id).where(
                        HandoverCustomer.handover_id == handover.id,
                        HandoverCustomer.from_owner_id == user.id,
                    )
                )
            )
        )
        if not count_of(select(func.count()).select_from(ids.subquery())):
            continue
        back = move_selection(
            actor=actor,
            ids=ids,
            to_owner=user,
            options=options,
            note=str(_l("Undo of handover #%(id)d.", id=handover.id)),
            reason=None,
            token=f"undo:{handover.id}:{user.id}",
            expected_fingerprint=None,
            reverses=handover,
        )
        backs.append(back)
    if not backs:
        raise DomainError(
            _l("None of these customers is still with %(name)s.", name=from_handover.display_name)
        )
    handover.status = HandoverStatus.UNDONE
    db.session.flush()
    return UndoReport(
        handovers=backs,
        moved_back=sum(b.customers_count for b in backs),
        moved_on=moved_on,
        changed_since=changed,
    )
