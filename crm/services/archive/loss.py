"""Losing a customer: why (the reasons of a lost opportunity, and merged / closed / moved),
to which competitor, and when; and winning it back.

Marking a customer lost is its own action, not a status picked in the profile form: the
supervisor's "lost this quarter" needs the reason, and for "competitor" the competitor.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.services import audit
from crm.services.errors import DomainError, StaleEdit, check_version
from crm.services.scope import check_customer_in_scope
from models import AuditAction, Competitor, Customer, CustomerStatus, LossReason, User
from models.base import utcnow

# What the audit log records of a loss.
LOSS_FIELDS = ("status", "lost_reason", "lost_to_id", "lost_note", "lost_at")
NOTE_LIMIT = 2000


def mark_lost(
    customer: Customer,
    *,
    actor: User,
    reason: LossReason | str | None,
    competitor: Competitor | None = None,
    note: str | None = None,
    version: int | str | None = None,
    at: datetime | None = None,
) -> Customer:
    """Mark the customer lost (or correct why, if it is lost already: the date stays)."""
    check_customer_in_scope(customer, actor=actor)
    check_version(customer, version)
    try:
        reason = LossReason(reason) if reason else None
    except ValueError:
        reason = None
    if reason is None:
        raise DomainError(_l("Choose why the customer was lost."), field="reason")
    if reason is LossReason.COMPETITOR and competitor is None:
        raise DomainError(_l("Choose the competitor the customer went to."), field="competitor_id")
    if competitor is not None and not competitor.active and competitor.id != customer.lost_to_id:
        raise DomainError(
            _l("%(name)s is retired: choose another competitor.", name=competitor.name),
            field="competitor_id",
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise DomainError(
            _l("The note is longer than %(limit)d characters.", limit=NOTE_LIMIT), field="note"
        )
    before = audit.snapshot(customer, LOSS_FIELDS)
    if customer.status is not CustomerStatus.LOST or customer.lost_at is None:
        customer.lost_at = at or utcnow()
    customer.status = CustomerStatus.LOST
    customer.lost_reason = reason
    customer.lost_to_id = competitor.id if competitor is not None else None
    customer.lost_note = note
    _record(customer, before, actor)
    return customer


def clear_loss(customer: Customer) -> None:
    """Forget why a customer was lost: it is no longer lost (won back, or set by mistake).

    The audit log keeps the old values; lists of lost customers read only the current ones.
    """
    customer.lost_reason = None
    customer.lost_to_id = None
    customer.lost_note = None
    customer.lost_at = None


def _record(customer: Customer, before: dict, actor: User) -> None:
    changes = audit.diff(before, audit.snapshot(customer, LOSS_FIELDS))
    if changes:
        customer.updated_by_id = actor.id
        audit.record(
            AuditAction.UPDATE, customer, actor=actor, customer_id=customer.id, changes=changes
        )
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(
            _l(
                "Someone else saved this customer while you were filling in the form. "
                "Their version is shown below; nothing was saved."
            ),
            current=customer,
        )


def loss_competitors(customer: Customer) -> list[Competitor]:
    """Whom the customer may be marked lost to: the active competitors, and the one it went
    to already if that one is retired since."""
    stmt = select(Competitor).where(Competitor.active.is_(True)).order_by(Competitor.name)
    competitors = list(db.session.scalars(stmt))
    if customer.lost_to_id is not None and customer.lost_to_id not in {c.id for c in competitors}:
        competitors.insert(0, customer.lost_to)
    return competitors
