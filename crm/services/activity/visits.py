"""Visits (客户拜访): logging, editing and deleting the work log, with their side effects.

A visit keeps three things right in the same flush: the customer's last visit, the
last contact date of each contact met, and the follow-up reminder its next
follow-up date schedules for the customer's owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.i18n import user_zone
from crm.permissions import scoped
from crm.services import audit
from crm.services.activity import check_in
from crm.services.archive.lock import lock_customer_for_write
from crm.services.errors import DomainError, StaleEdit, check_version
from crm.services.followups import reminders as reminder_service
from models import (
    AuditAction,
    Contact,
    Customer,
    Opportunity,
    ReminderSource,
    User,
    Visit,
    VisitKind,
    visit_contacts,
)
from models.base import utcnow

# What the audit log records of a visit (plus the ids of the contacts met).
FIELDS = (
    "occurred_at",
    "kind",
    "opportunity_id",
    "purpose",
    "outcome",
    "next_step",
    "follow_up_on",
    "check_in_lat",
    "check_in_lng",
    "check_in_accuracy_m",
)
TEXT_FIELDS = ("purpose", "outcome", "next_step")
TEXT_LENGTH = 5000
# Clocks and rounding to the minute: a visit "now" may read a little ahead.
FUTURE_SLACK = timedelta(hours=1)


# Scope ----------------------------------------------------------------------


def visible_visits(user: User) -> Select:
    """SELECT of the visits whose customer is in the user's scope."""
    return scoped(Visit, user)


# Rules ----------------------------------------------------------------------


def _clean(
    actor: User,
    *,
    occurred_at: datetime,
    kind: VisitKind | str,
    purpose: str | None,
    outcome: str | None,
    next_step: str | None,
    follow_up_on: date | None,
) -> dict[str, Any]:
    """Validate and normalise the visit's own fields; raise DomainError on the first fault."""
    if occurred_at is None or occurred_at.tzinfo is None:
        raise DomainError(_l("Enter the date and time of the visit."), field="occurred_on")
    occurred_at = occurred_at.astimezone(UTC)
    if occurred_at > utcnow() + FUTURE_SLACK:
        raise DomainError(_l("A visit cannot be logged in the future."), field="occurred_on")
    try:
        kind = VisitKind(kind)
    except ValueError:
        raise DomainError(_l("Choose a kind of visit from the list."), field="kind")
    values: dict[str, Any] = {"occurred_at": occurred_at, "kind": kind}
    for name, text in (("purpose", purpose), ("outcome", outcome), ("next_step", next_step)):
        text = (text or "").strip()
        if len(text) > TEXT_LENGTH:
            raise DomainError(_l("At most %(n)d characters.", n=TEXT_LENGTH), field=name)
        values[name] = text or None
    if follow_up_on is not None:
        visit_day = occurred_at.astimezone(user_zone(actor)).date()
        if follow_up_on < visit_day:
            raise DomainError(
                _l("The next follow-up cannot be before the visit."), field="follow_up_on"
            )
    values["follow_up_on"] = follow_up_on
    return values


def _opportunity(customer: Customer, opportunity: Opportunity | int | None) -> Opportunity | None:
    """The chosen opportunity, which must be this customer's."""
    if opportunity is None or opportunity == 0:
        return None
    if not isinstance(opportunity, Opportunity):
        opportunity = db.session.get(Opportunity, int(opportunity))
    if opportunity is None or opportunity.customer_id != customer.id:
        # Never name the other customer's opportunity: it may be out of scope.
        raise DomainError(
            _l("The opportunity must be one of this customer's."), field="opportunity_id"
        )
    return opportunity


def _met_contacts(customer: Customer, contacts: Iterable[Contact | int]) -> list[Contact]:
    """The contacts met, which must all be this customer's."""
    ids = {c.id if isinstance(c, Contact) else int(c) for c in contacts}
    if not ids:
        return []
    found = list(db.session.scalars(select(Contact).where(Contact.id.in_(ids))))
    if len(found) != len(ids) or any(c.customer_id != customer.id for c in found):
        raise DomainError(
            _l("The contacts met must be contacts of this customer."), field="contact_ids"
        )
    return sorted(found, key=lambda c: c.name)


def _snapshot(visit: Visit) -> dict[str, Any]:
    values = audit.snapshot(visit, FIELDS)
    # From the relationship: a newly chosen opportunity sets the column only at flush.
    values["opportunity_id"] = visit.opportunity.id if visit.opportunity else None
    values["contact_ids"] = sorted(c.id for c in visit.contacts)
    return values


def _label(visit: Visit) -> str:
    return visit.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Derived dates --------------------------------------------------------------
# Plain UPDATEs: these dates follow from the visits, they are not edits, so they
# must not bump the version of a customer or contact someone may be editing.


def refresh_last_visits(customer_ids: Iterable[int] | None = None) -> None:
    """Set customers' last visit to their latest visit; all customers when no ids are given.

    One set-based UPDATE (also for demo data and imports that insert visits in bulk).
    """
    latest = (
        select(func.max(Visit.occurred_at))
        .where(Visit.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    stmt = update(Customer).values(last_visit_at=latest, updated_at=Customer.updated_at)
    if customer_ids is not None:
        stmt = stmt.where(Customer.id.in_(list(customer_ids)))
    db.session.execute(stmt.execution_options(synchronize_session=False))


def refresh_last_contacted(contact_ids: Iterable[int] | None = None) -> None:
    """Set contacts' last contact date to the latest visit that met them (all when no ids)."""
    latest = (
        select(func.max(Visit.occurred_at))
        .join(visit_contacts, visit_contacts.c.visit_id == Visit.id)
        .where(visit_contacts.c.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    stmt = update(Contact).values(last_contacted_at=latest, updated_at=Contact.updated_at)
    if contact_ids is not None:
        stmt = stmt.where(Contact.id.in_(list(contact_ids)))
    db.session.execute(stmt.execution_options(synchronize_session=False))


def _refresh_dates(customer: Customer, contacts: Iterable[Contact]) -> None:
    """Recompute the dates one visit change affects, and let the loaded objects see them."""
    contacts = list({c.id: c for c in contacts}.values())
    refresh_last_visits([customer.id])
    db.session.expire(customer, ["last_visit_at"])
    if contacts:
        refresh_last_contacted([c.id for c in contacts])
        for contact in contacts:
            db.session.expire(contact, ["last_contacted_at"])


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(
            _l("Someone else saved this visit while you were editing it."), current=None
        )


# Changes --------------------------------------------------------------------


def log_visit(
    customer: Customer,
    *,
    actor: User,
    occurred_at: datetime,
    kind: VisitKind | str = VisitKind.ON_SITE,
    opportunity: Opportunity | int | None = None,
    contacts: Iterable[Contact | int] = (),
    purpose: str | None = None,
    outcome: str | None = None,
    next_step: str | None = None,
    follow_up_on: date | None = None,
    check_in_lat: float | str | None = None,
    check_in_lng: float | str | None = None,
    check_in_accuracy_m: float | str | None = None,
    confirm_site: bool = False,
) -> Visit:
    """Log a visit the actor made; a follow-up date schedules a reminder for the owner.

    With the browser's location it is checked in (crm/services/activity/check_in.py);
    `confirm_site` makes that location the customer's site when it has none yet.
    """
    customer = lock_customer_for_write(customer.id, actor=actor)
    location = check_in.clean_location(check_in_lat, check_in_lng, check_in_accuracy_m)
    values = _clean(
        actor,
        occurred_at=occurred_at,
        kind=kind,
        purpose=purpose,
        outcome=outcome,
        next_step=next_step,
        follow_up_on=follow_up_on,
    )
    linked = _opportunity(customer, opportunity)
    met = _met_contacts(customer, contacts)
    visit = Visit(customer=customer, user=actor, opportunity=linked, contacts=met, **values)
    check_in.record_check_in(visit, location, actor=actor, confirm_site=confirm_site)
    db.session.add(visit)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        visit,
        actor=actor,
        customer_id=customer.id,
        changes=_snapshot(visit),
        label=_label(visit),
    )
    if visit.follow_up_on is not None:
        reminder_service.schedule_follow_up(
            customer,
            on=visit.follow_up_on,
            note=visit.next_step,
            source=ReminderSource.VISIT,
            actor=actor,
            visit=visit,
            opportunity=linked,
        )
    _refresh_dates(customer, met)
    return visit


def update_visit(
    visit: Visit,
    *,
    actor: User,
    version: int | str | None,
    occurred_at: datetime,
    kind: VisitKind | str,
    opportunity: Opportunity | int | None = None,
    contacts: Iterable[Contact | int] = (),
    purpose: str | None = None,
    outcome: str | None = None,
    next_step: str | None = None,
    follow_up_on: date | None = None,
) -> Visit:
    """Change a visit (refused when saved by someone else since the form was opened)."""
    customer = lock_customer_for_write(visit.customer_id, actor=actor)
    check_version(visit, version)
    values = _clean(
        actor,
        occurred_at=occurred_at,
        kind=kind,
        purpose=purpose,
        outcome=outcome,
        next_step=next_step,
        follow_up_on=follow_up_on,
    )
    linked = _opportunity(customer, opportunity)
    met = _met_contacts(customer, contacts)
    before = _snapshot(visit)
    previously_met = list(visit.contacts)
    for name, value in values.items():
        setattr(visit, name, value)
    visit.opportunity = linked
    visit.contacts = met
    changes = audit.diff(before, _snapshot(visit))
    if not changes:
        return visit
    # Changing only the contacts met writes no visits row; touch it so the version moves.
    visit.updated_at = utcnow()
    _flush()
    audit.record(
        AuditAction.UPDATE,
        visit,
        actor=actor,
        customer_id=customer.id,
        changes=changes,
        label=_label(visit),
    )
    _sync_follow_up(visit, previous_on=_date(before["follow_up_on"]), actor=actor)
    _refresh_dates(customer, [*previously_met, *met])
    return visit


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _sync_follow_up(visit: Visit, *, previous_on: date | None, actor: User) -> None:
    """Move, cancel or schedule the visit's follow-up after an edit."""
    pending = reminder_service.pending_follow_up_of(visit)
    if visit.follow_up_on is None:
        if pending is not None:
            reminder_service.cancel_follow_up(pending, actor=actor)
    elif pending is not None:
        pending.opportunity = visit.opportunity
        reminder_service.move_follow_up(
            pending, on=visit.follow_up_on, note=visit.next_step, actor=actor
        )
    elif visit.follow_up_on != previous_on:
        # The earlier follow-up was done or dismissed: a new date is a new follow-up.
        reminder_service.schedule_follow_up(
            visit.customer,
            on=visit.follow_up_on,
            note=visit.next_step,
            source=ReminderSource.VISIT,
            actor=actor,
            visit=visit,
            opportunity=visit.opportunity,
        )


def delete_visit(visit: Visit, *, actor: User) -> None:
    """Delete a visit and its pending follow-up; the dates it set are recomputed."""
    customer = lock_customer_for_write(visit.customer_id, actor=actor)
    met = list(visit.contacts)
    audit.record(
        AuditAction.DELETE,
        visit,
        actor=actor,
        customer_id=customer.id,
        changes=_snapshot(visit),
        label=_label(visit),
    )
    reminder_service.release_visit_reminders(visit, actor=actor)
    db.session.delete(visit)
    _flush()
    _refresh_dates(customer, met)
