"""A service ticket's life: opened → in progress → resolved → closed, or reopened.

Anyone with the customer in scope works on its tickets (its manager, the team's supervisor,
an administrator). Each change writes one TicketEvent: the ticket's history and its entries
on the customer's timeline. Resolving needs the resolution and gives the customer's owner a
follow-up for the revisit (回访); closing records what the customer said at the revisit,
their satisfaction (1–5) and comment, once: a ticket reopened and closed again keeps the
first answer. Every change names the version it was made from; a stale one is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.labels import label
from crm.permissions import in_scope, scoped
from crm.services.archive.lock import lock_customer_for_write
from crm.services.errors import DomainError, NotFound, check_version
from crm.services.followups import reminders as reminder_service
from crm.services.tickets import sla
from models import (
    Contact,
    Customer,
    Reminder,
    ReminderSource,
    ReminderStatus,
    ServiceTicket,
    Team,
    TicketCategory,
    TicketEvent,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    User,
)
from models.base import utcnow

TITLE_LENGTH = 200
TEXT_LENGTH = 4000  # a description, a resolution
NOTE_LENGTH = 1000  # a note on a change, the customer's comment at the revisit
SATISFACTION = range(1, 6)


# Who raised it and who handles it -----------------------------------------------------


def handler_choices(customer: Customer, *, keep: int | None = None) -> list[User]:
    """Who may handle the customer's tickets: people who see the customer, that is its
    manager and the supervisor of the manager's team (and `keep`, the handler now)."""
    supervisor = select(Team.supervisor_id).where(Team.id == customer.owner.team_id)
    shown = or_(User.id == customer.owner_id, User.id.in_(supervisor.scalar_subquery()))
    return list(
        db.session.scalars(
            select(User)
            .where(or_(User.active.is_(True) & shown, User.id == (keep or 0)))
            .order_by(User.display_name, User.id)
        )
    )


def _contact_of(customer: Customer, contact_id: int | None) -> Contact | None:
    """The contact who raised the ticket: one of this customer's, or refused."""
    if not contact_id:
        return None
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer.id:
        raise DomainError(_l("Choose one of this customer's contacts."), field="raised_by_id")
    return contact


def _handler(customer: Customer, handler_id: int | None, *, keep: int | None = None):
    if not handler_id:
        return None
    handler = next((u for u in handler_choices(customer, keep=keep) if u.id == handler_id), None)
    if handler is None:
        raise DomainError(
            _l("The handler must be the customer's manager or their supervisor."),
            field="handler_id",
        )
    return handler


def _text(value: str | None, limit: int, field: str, *, required: object = None) -> str | None:
    text = (value or "").strip()
    if required is not None and not text:
        raise DomainError(required, field=field)
    if len(text) > limit:
        raise DomainError(_l("At most %(n)d characters.", n=limit), field=field)
    return text or None


# Changes -------------------------------------------------------------------------------


def _event(
    ticket: ServiceTicket,
    actor: User | None,
    at: datetime,
    from_status: TicketStatus | None,
    note: str | None = None,
    handler: User | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        at=at,
        actor_id=actor.id if actor is not None else None,
        from_status=from_status,
        to_status=ticket.status,
        note=note,
        handler_id=handler.id if handler is not None else None,
    )
    db.session.add(event)
    return event


def open_ticket(
    customer: Customer,
    *,
    actor: User,
    kind: TicketKind | str,
    category: TicketCategory | str,
    severity: TicketSeverity | str,
    title: str,
    description: str | None = None,
    raised_by_id: int | None = None,
    handler_id: int | None = None,
    now: datetime | None = None,
) -> ServiceTicket:
    """Open a complaint or service request; it is due by its severity's SLA in the owner's
    zone. The owner is the customer's manager, read under the customer's lock."""
    customer = lock_customer_for_write(customer.id, actor=actor)
    title = _text(title, TITLE_LENGTH, "title", required=_l("Say what it is about."))
    description = _text(description, TEXT_LENGTH, "description")
    raised_by = _contact_of(customer, raised_by_id)
    handler = _handler(customer, handler_id)
    now = now or utcnow()
    severity = TicketSeverity(severity)
    ticket = ServiceTicket(
        customer=customer,
        kind=TicketKind(kind),
        category=TicketCategory(category),
        severity=severity,
        title=title,
        description=description,
        raised_by=raised_by,
        owner=customer.owner,
        handler=handler,
        status=TicketStatus.OPEN,
        opened_at=now,
        due_at=sla.due_at(severity, now, customer.owner),
        created_by_id=actor.id,
    )
    db.session.add(ticket)
    _event(ticket, actor, now, None, handler=handler)
    db.session.flush()
    return ticket


def _check(ticket: ServiceTicket, actor: User, version: int | str | None) -> None:
    """In the actor's scope (asked of the database) and changed from the stored version."""
    if not in_scope(ServiceTicket, ticket.id, actor):
        raise NotFound(_l("This ticket is not in your portfolio."))
    check_version(ticket, version)


# Which changes each status allows; the ticket page offers the same ones.
ACTIONS: dict[str, tuple[TicketStatus, ...]] = {
    "start": (TicketStatus.OPEN,),
    "resolve": (TicketStatus.IN_PROGRESS,),
    "close": (TicketStatus.RESOLVED,),
    "reopen": (TicketStatus.RESOLVED, TicketStatus.CLOSED),
    "assign": (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED),
}
REFUSALS = {
    "start": _l("Only an open ticket can be taken in hand; this one is %(status)s."),
    "resolve": _l("Only a ticket in progress can be resolved; this one is %(status)s."),
    "close": _l("Only a resolved ticket can be closed; this one is %(status)s."),
    "reopen": _l("Only a resolved or closed ticket can be reopened; this one is %(status)s."),
    "assign": _l("A closed ticket keeps its handler; this one is %(status)s: reopen it first."),
}
SATISFACTION_RECORDED = _l(
    "The customer's satisfaction was recorded at the first revisit; it is not recorded again."
)


def allowed_actions(ticket: ServiceTicket) -> set[str]:
    """The changes the ticket's status allows now."""
    return {action for action, statuses in ACTIONS.items() if ticket.status in statuses}


def _require(ticket: ServiceTicket, action: str) -> None:
    if ticket.status not in ACTIONS[action]:
        raise DomainError(str(REFUSALS[action]) % {"status": label(ticket.status)})


def start(
    ticket: ServiceTicket,
    *,
    actor: User,
    version: int | str | None,
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceTicket:
    """Take an open ticket in hand; without a handler, whoever starts it handles it."""
    _check(ticket, actor, version)
    _require(ticket, "start")
    note = _text(note, NOTE_LENGTH, "note")
    handler = None
    if ticket.handler_id is None:
        handler = next((u for u in handler_choices(ticket.customer) if u.id == actor.id), None)
        ticket.handler = handler
    ticket.status = TicketStatus.IN_PROGRESS
    ticket.owner_id = ticket.customer.owner_id
    _event(ticket, actor, now or utcnow(), TicketStatus.OPEN, note, handler)
    db.session.flush()
    return ticket


def resolve(
    ticket: ServiceTicket,
    *,
    actor: User,
    version: int | str | None,
    resolution: str | None,
    now: datetime | None = None,
) -> ServiceTicket:
    """Record how it was solved; the owner gets a follow-up to revisit the customer."""
    _check(ticket, actor, version)
    _require(ticket, "resolve")
    resolution = _text(
        resolution,
        TEXT_LENGTH,
        "resolution",
        required=_l("Say how it was resolved: the revisit asks the customer about it."),
    )
    now = now or utcnow()
    # The revisit belongs to whoever has the customer now: read under the lock a handover takes.
    customer = lock_customer_for_write(ticket.customer_id, actor=actor)
    revisit_on = today_in(user_zone(customer.owner), now) + timedelta(days=sla.revisit_days())
    # The follow-up first: the ticket is then written once, with it (one version step).
    reminder = reminder_service.schedule_follow_up(
        customer,
        on=revisit_on,
        note=f"#{ticket.id} {ticket.title}",
        source=ReminderSource.SERVICE,
        actor=actor,
    )
    ticket.status = TicketStatus.RESOLVED
    ticket.resolution = resolution
    ticket.resolved_at = now
    ticket.owner_id = customer.owner_id
    ticket.revisit_reminder_id = reminder.id
    _event(ticket, actor, now, TicketStatus.IN_PROGRESS, resolution)
    db.session.flush()
    return ticket


def close(
    ticket: ServiceTicket,
    *,
    actor: User,
    version: int | str | None,
    satisfaction: int | None,
    comment: str | None = None,
    now: datetime | None = None,
) -> ServiceTicket:
    """Close a resolved ticket after the revisit, with the customer's satisfaction.

    The satisfaction and comment are recorded once, at the first closing; closing a
    reopened ticket again keeps them, and a second score is refused.
    """
    _check(ticket, actor, version)
    _require(ticket, "close")
    if ticket.satisfaction is not None:
        if satisfaction is not None or (comment or "").strip():
            raise DomainError(SATISFACTION_RECORDED, field="satisfaction")
    elif satisfaction not in SATISFACTION:
        raise DomainError(
            _l("Record the customer's satisfaction at the revisit, from 1 to 5."),
            field="satisfaction",
        )
    else:
        ticket.satisfaction = satisfaction
        ticket.satisfaction_comment = _text(comment, NOTE_LENGTH, "comment")
    now = now or utcnow()
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    ticket.owner_id = ticket.customer.owner_id
    _event(ticket, actor, now, TicketStatus.RESOLVED, ticket.satisfaction_comment)
    db.session.flush()
    # The revisit is done: its follow-up is too.
    _close_revisit(ticket, actor, reminder_service.complete)
    return ticket


def reopen(
    ticket: ServiceTicket,
    *,
    actor: User,
    version: int | str | None,
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceTicket:
    """The problem is back: open the ticket again, counted; its SLA starts over from now."""
    _check(ticket, actor, version)
    _require(ticket, "reopen")
    note = _text(note, NOTE_LENGTH, "note")
    now = now or utcnow()
    # No revisit while it is being worked on again; resolving it asks for a new one. Done
    # first, so that the ticket is written once (one version step).
    _close_revisit(ticket, actor, reminder_service.dismiss)
    before = ticket.status
    ticket.status = TicketStatus.OPEN
    ticket.reopened_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.revisit_reminder_id = None
    ticket.owner_id = ticket.customer.owner_id
    ticket.due_at = sla.due_at(ticket.severity, now, ticket.customer.owner)
    _event(ticket, actor, now, before, note)
    db.session.flush()
    return ticket


def assign_handler(
    ticket: ServiceTicket,
    *,
    actor: User,
    version: int | str | None,
    handler_id: int | None,
    now: datetime | None = None,
) -> ServiceTicket:
    """Give the ticket to another handler (the customer's manager or their supervisor)."""
    _check(ticket, actor, version)
    _require(ticket, "assign")
    handler = _handler(ticket.customer, handler_id)
    if handler is None:
        raise DomainError(_l("Choose the handler."), field="handler_id")
    if handler.id == ticket.handler_id:
        return ticket
    ticket.handler = handler
    _event(ticket, actor, now or utcnow(), ticket.status, None, handler)
    db.session.flush()
    return ticket


def _close_revisit(ticket: ServiceTicket, actor: User, close_reminder) -> None:
    """Complete or dismiss the ticket's pending revisit follow-up, when the actor may.

    A follow-up handed to a manager outside the actor's scope is left to them.
    """
    if ticket.revisit_reminder_id is None:
        return
    reminder = db.session.get(Reminder, ticket.revisit_reminder_id)
    if (
        reminder is not None
        and reminder.status is ReminderStatus.PENDING
        and in_scope(Reminder, reminder.id, actor)
    ):
        close_reminder(reminder, actor=actor, version=reminder.version)


def revisit_of(ticket: ServiceTicket, *, viewer: User) -> Reminder | None:
    """The ticket's revisit follow-up, if the viewer may open it (its owner is in scope)."""
    if ticket.revisit_reminder_id is None:
        return None
    return db.session.scalar(
        scoped(Reminder, viewer).where(Reminder.id == ticket.revisit_reminder_id)
    )
