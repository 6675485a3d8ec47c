"""Managers ask their supervisor to hand a customer over; the supervisor approves or declines."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from crm.extensions import db
from crm.permissions import scoped
from crm.services.errors import DomainError, NotAllowed
from crm.services.handover.transfer import hand_over, may_hand_over
from models import Customer, Handover, HandoverRequest, HandoverRequestStatus, User
from models.base import utcnow


def request_handover(
    customer: Customer, *, actor: User, to_owner: User | None = None, note: str
) -> HandoverRequest:
    """A manager asks for one of their customers to go to someone else (or to anyone fit)."""
    if customer.owner_id != actor.id and not may_hand_over(actor):
        raise NotAllowed(_l("Only the customer's owner can ask for its handover."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("Say why the customer should be handed over."), field="note")
    if to_owner is not None and (not to_owner.active or to_owner.id == customer.owner_id):
        raise DomainError(_l("Choose another, active manager."), field="to_owner")
    pending = db.session.scalar(
        select(HandoverRequest.id).where(
            HandoverRequest.customer_id == customer.id,
            HandoverRequest.status == HandoverRequestStatus.PENDING,
        )
    )
    if pending:
        raise DomainError(_l("A handover of this customer has been asked for already."))
    request = HandoverRequest(
        customer_id=customer.id, requested_by_id=actor.id, to_owner=to_owner, note=note
    )
    db.session.add(request)
    db.session.flush()
    return request


def visible_requests(user: User) -> Select:
    """Requests the user made, or about customers in their scope when they decide them."""
    return scoped(HandoverRequest, user)


def check_decidable(request: HandoverRequest, actor: User) -> None:
    if not may_hand_over(actor):
        raise NotAllowed(_l("Only a supervisor or an administrator can decide handover requests."))
    if request.status is not HandoverRequestStatus.PENDING:
        raise DomainError(_l("This request has been decided already."))


def decline(request: HandoverRequest, *, actor: User, note: str = "") -> None:
    check_decidable(request, actor)
    request.status = HandoverRequestStatus.DECLINED
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.decision_note = (note or "").strip() or None
    db.session.flush()


def approve(request: HandoverRequest, handover: Handover, *, actor: User) -> None:
    """Mark the request approved by the handover that carried it out."""
    check_decidable(request, actor)
    request.status = HandoverRequestStatus.APPROVED
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.handover_id = handover.id
    db.session.flush()


def hand_over_answering(pending: HandoverRequest | None, *, actor: User, **handover) -> Handover:
    """Hand customers over (handover.hand_over); a pending request it answers is approved."""
    done = hand_over(actor=actor, **handover)
    if pending is not None and pending.status is HandoverRequestStatus.PENDING:
        approve(pending, done, actor=actor)
    return done
