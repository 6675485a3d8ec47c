"""Follow-up reminders (跟进提醒): scheduled from visits, moved and cancelled with them.

A reminder without a time falls due at 08:30 in its owner's time zone; one with a
time at that local time. Dates and times are entered and shown in the OWNER's zone
(a supervisor in another city sees the manager's day). Closing or moving a
reminder cancels its queued email; a moved one is emailed again at its new time,
because the outbox key holds the due instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.labels import label
from crm.permissions import follow_up_scope, scoped
from crm.services import audit
from crm.services.archive.lock import lock_customer_for_write
from crm.services.errors import DomainError, NotFound, StaleEdit, check_version
from crm.services.followups import outbox
from models import (
    AuditAction,
    Customer,
    Opportunity,
    OutboxMessage,
    Reminder,
    ReminderSource,
    ReminderStatus,
    User,
    Visit,
)
from models.base import utcnow

DUE_TIME = time(8, 30)
NOTE_LENGTH = 500
# The home page lists this many pending follow-ups at most; the reminders page shows all.
HOME_LIMIT = 50
SNOOZE_DAYS = (1, 3, 7)
# What the audit log records of a reminder.
FIELDS = ("due_on", "due_at", "has_time", "note", "status", "opportunity_id", "owner_id")


def due_instant(owner: User, day: date) -> datetime:
    """08:30 on `day` in the owner's time zone, as a UTC instant."""
    return datetime.combine(day, DUE_TIME, tzinfo=user_zone(owner)).astimezone(UTC)


def _note(text: str | None) -> str:
    return (text or "").strip()[:NOTE_LENGTH]


def schedule_follow_up(
    customer: Customer,
    *,
    on: date,
    note: str | None,
    source: ReminderSource,
    actor: User,
    visit: Visit | None = None,
    opportunity: Opportunity | None = None,
) -> Reminder:
    """Create one pending follow-up for the customer's owner, due on `on` (no time of day)."""
    owner = customer.owner
    reminder = Reminder(
        owner=owner,
        customer=customer,
        opportunity=opportunity,
        visit_id=visit.id if visit is not None else None,
        source=source,
        due_on=on,
        due_at=due_instant(owner, on),
        has_time=False,
        note=_note(note),
        status=ReminderStatus.PENDING,
    )
    db.session.add(reminder)
    db.session.flush()
    return reminder


def move_follow_up(reminder: Reminder, *, on: date, note: str | None, actor: User) -> bool:
    """Move a pending follow-up to another day (and note); done or dismissed ones stay put."""
    if reminder.status is not ReminderStatus.PENDING:
        return False
    new_note = _note(note)
    if reminder.due_on == on and reminder.note == new_note:
        return False
    if reminder.due_on != on:
        # An email queued for the old day must not go out; the new day gets its own.
        outbox.cancel_reminder_messages(reminder.id)
    reminder.due_on = on
    reminder.due_at = due_instant(reminder.owner, on)
    reminder.note = new_note
    db.session.flush()
    return True


def cancel_follow_up(reminder: Reminder, *, actor: User) -> None:
    """Remove a pending follow-up; a done or dismissed one is kept as history, unlinked."""
    if reminder.status is ReminderStatus.PENDING:
        outbox.cancel_reminder_messages(reminder.id)  # no email about a removed follow-up
        db.session.delete(reminder)
    else:
        reminder.visit_id = None
    db.session.flush()


def pending_follow_up_of(visit: Visit) -> Reminder | None:
    """The pending reminder this visit scheduled, if any."""
    return db.session.scalar(
        select(Reminder)
        .where(Reminder.visit_id == visit.id, Reminder.status == ReminderStatus.PENDING)
        .order_by(Reminder.id)
        .limit(1)
    )


def reminders_of_visit(visit: Visit) -> list[Reminder]:
    """Every reminder still linked to the visit (pending, done or dismissed)."""
    return list(
        db.session.scalars(
            select(Reminder)
            .options(joinedload(Reminder.owner))
            .where(Reminder.visit_id == visit.id)
            .order_by(Reminder.due_at)
        )
    )


def release_visit_reminders(visit: Visit, *, actor: User) -> None:
    """Before a visit is deleted: drop its pending follow-ups, keep and unlink the others."""
    for reminder in list(db.session.scalars(select(Reminder).where(Reminder.visit_id == visit.id))):
        cancel_follow_up(reminder, actor=actor)


@dataclass
class PendingReminders:
    """A user's pending follow-ups split by their local day."""

    today: date
    overdue: list[Reminder] = field(default_factory=list)
    due_today: list[Reminder] = field(default_factory=list)
    upcoming: list[Reminder] = field(default_factory=list)
    limit_reached: bool = False

    def __len__(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.upcoming)


def _pending_of(user: User, viewer: User, *columns) -> Select:
    """SELECT of the user's pending follow-ups that `viewer` may see (or `columns` of them)."""
    return (
        select(*(columns or (Reminder,)))
        .select_from(Reminder)
        .join(Reminder.customer)
        .where(
            Reminder.owner_id == user.id,
            Reminder.status == ReminderStatus.PENDING,
            follow_up_scope(viewer),
        )
    )


def _soonest_first(stmt: Select) -> Select:
    """Follow-up lines, soonest first, with what a line shows of their relations."""
    return stmt.options(
        # What a follow-up line shows of them, not whole rows.
        joinedload(Reminder.customer).load_only(Customer.name, Customer.owner_id),
        joinedload(Reminder.owner).load_only(User.timezone, User.display_name),
        joinedload(Reminder.opportunity).load_only(Opportunity.title),
    ).order_by(Reminder.due_at, Reminder.id)


def pending_reminders_for(
    user: User,
    *,
    now: datetime | None = None,
    limit: int = HOME_LIMIT,
    days_ahead: int = 14,
    viewer: User | None = None,
    offset: int = 0,
) -> PendingReminders:
    """The user's own pending follow-ups (overdue, today, the next `days_ahead` days).

    `viewer` (default: the user) is who looks: a supervisor sees a team member's list,
    limited to the customers in the supervisor's scope. Days are the owner's. `offset`
    skips that many of the soonest (the list page's later pages).
    """
    viewer = viewer or user
    today = today_in(user_zone(user), now)
    rows = list(
        db.session.scalars(
            _soonest_first(_pending_of(user, viewer))
            .where(Reminder.due_on <= today + timedelta(days=days_ahead))
            .offset(max(offset, 0))
            .limit(limit)
        )
    )
    result = PendingReminders(today=today, limit_reached=len(rows) >= limit)
    for reminder in rows:
        if reminder.due_on < today:
            result.overdue.append(reminder)
        elif reminder.due_on == today:
            result.due_today.append(reminder)
        else:
            result.upcoming.append(reminder)
    return result


@dataclass
class LaterReminders:
    """One page of a user's pending follow-ups due after the days the list shows in full."""

    after: date  # the last day shown in full; these are due later
    rows: list[Reminder]
    page: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * LATER_PAGE_SIZE < self.total


LATER_PAGE_SIZE = 20


def later_reminders_for(
    user: User,
    *,
    viewer: User,
    days_ahead: int,
    page: int = 1,
    now: datetime | None = None,
) -> LaterReminders:
    """The `page`th page of the user's pending follow-ups due after `days_ahead` days."""
    after = today_in(user_zone(user), now) + timedelta(days=days_ahead)
    total = db.session.scalar(
        _pending_of(user, viewer, func.count(Reminder.id)).where(Reminder.due_on > after)
    )
    page = min(max(page, 1), max(1, -(-total // LATER_PAGE_SIZE)))
    rows = list(
        db.session.scalars(
            _soonest_first(_pending_of(user, viewer))
            .where(Reminder.due_on > after)
            .offset((page - 1) * LATER_PAGE_SIZE)
            .limit(LATER_PAGE_SIZE)
        )
    )
    return LaterReminders(after=after, rows=rows, page=page, total=total)


# Scope ----------------------------------------------------------------------


def visible_reminders(user: User) -> Select:
    """SELECT of the reminders the user may see and change.

    Both the customer and the reminder's owner must be in the user's scope: a
    manager sees their own, a supervisor the team's, an admin every one.
    """
    return scoped(Reminder, user)


def follow_ups_of(
    user: User,
    *,
    viewer: User,
    status: ReminderStatus = ReminderStatus.PENDING,
    due_until: date | None = None,
) -> Select:
    """SELECT of the user's follow-ups of one status that `viewer` may see, soonest first,
    due on or before `due_until` when given (the API's list; the page splits them by day)."""
    stmt = visible_reminders(viewer).where(Reminder.owner_id == user.id, Reminder.status == status)
    if due_until is not None:
        stmt = stmt.where(Reminder.due_on <= due_until)
    # The owner's zone gives a timed follow-up its local time; nothing else is shown of them.
    return stmt.options(joinedload(Reminder.owner).load_only(User.timezone)).order_by(
        Reminder.due_at, Reminder.id
    )


def _check_may_change(reminder: Reminder, actor: User) -> None:
    """Refuse unless the reminder is in the actor's scope (asked of the database)."""
    allowed = db.session.scalar(
        visible_reminders(actor).with_only_columns(Reminder.id).where(Reminder.id == reminder.id)
    )
    if allowed is None:
        raise NotFound(_l("This follow-up is not in your portfolio."))


def _check_pending(reminder: Reminder) -> None:
    if reminder.status is not ReminderStatus.PENDING:
        raise DomainError(
            _l("This follow-up is closed already (%(status)s).", status=label(reminder.status))
        )


# Due dates in the owner's zone ------------------------------------------------


def local_due(owner: User, day: date, at: time | None) -> tuple[datetime, bool]:
    """(UTC instant, has_time) of a follow-up on `day`, at `at` local time or 08:30."""
    if at is None:
        return due_instant(owner, day), False
    at = at.replace(second=0, microsecond=0, tzinfo=None)
    return datetime.combine(day, at, tzinfo=user_zone(owner)).astimezone(UTC), True


def due_time_of(reminder: Reminder) -> time | None:
    """The local time of day a timed reminder falls due in its owner's zone."""
    if not reminder.has_time:
        return None
    return reminder.due_at.astimezone(user_zone(reminder.owner)).time().replace(tzinfo=None)


def _check_not_past(owner: User, day: date, now: datetime | None = None) -> None:
    if day is None:
        raise DomainError(_l("Choose the day of the follow-up."), field="due_on")
    if day < today_in(user_zone(owner), now):
        raise DomainError(_l("A follow-up cannot be set in the past."), field="due_on")


def _set_due(reminder: Reminder, day: date, at: time | None) -> None:
    due_at, has_time = local_due(reminder.owner, day, at)
    if (reminder.due_on, reminder.due_at, reminder.has_time) != (day, due_at, has_time):
        # An email queued for the old instant must not go out; the new one gets its own key.
        outbox.cancel_reminder_messages(reminder.id)
    reminder.due_on, reminder.due_at, reminder.has_time = day, due_at, has_time


def _label(reminder: Reminder) -> str:
    return reminder.note or reminder.due_on.isoformat()


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(
            _l("Someone else changed this follow-up while you were looking at it."), current=None
        )


def _audit_update(reminder: Reminder, before: dict, actor: User) -> None:
    audit.record(
        AuditAction.UPDATE,
        reminder,
        actor=actor,
        customer_id=reminder.customer_id,
        changes=audit.diff(before, audit.snapshot(reminder, FIELDS)),
        label=_label(reminder),
    )


# Changes --------------------------------------------------------------------


def create_reminder(
    customer: Customer,
    *,
    actor: User,
    due_on: date,
    due_time: time | None = None,
    note: str | None = "",
    opportunity: Opportunity | int | None = None,
) -> Reminder:
    """A manual follow-up; it belongs to the customer's owner (a supervisor sets it for them)."""
    customer = lock_customer_for_write(customer.id, actor=actor)
    owner = actor if customer.owner_id == actor.id else customer.owner
    if len((note or "").strip()) > NOTE_LENGTH:
        raise DomainError(_l("At most %(n)d characters.", n=NOTE_LENGTH), field="note")
    _check_not_past(owner, due_on)
    if opportunity is not None and not isinstance(opportunity, Opportunity):
        opportunity = db.session.get(Opportunity, int(opportunity)) if opportunity else None
    if opportunity is not None and opportunity.customer_id != customer.id:
        raise DomainError(
            _l("The opportunity must be one of this customer's."), field="opportunity_id"
        )
    due_at, has_time = local_due(owner, due_on, due_time)
    reminder = Reminder(
        owner=owner,
        customer=customer,
        opportunity=opportunity,
        source=ReminderSource.MANUAL,
        due_on=due_on,
        due_at=due_at,
        has_time=has_time,
        note=_note(note),
        status=ReminderStatus.PENDING,
    )
    db.session.add(reminder)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        reminder,
        actor=actor,
        customer_id=customer.id,
        changes=audit.snapshot(reminder, FIELDS),
        label=_label(reminder),
    )
    return reminder


def reschedule(
    reminder: Reminder,
    *,
    actor: User,
    version: int | str | None,
    due_on: date,
    due_time: time | None = None,
) -> Reminder:
    """Move a pending follow-up to another day (and time) in its owner's zone."""
    _check_may_change(reminder, actor)
    _check_pending(reminder)
    check_version(reminder, version)
    _check_not_past(reminder.owner, due_on)
    before = audit.snapshot(reminder, FIELDS)
    _set_due(reminder, due_on, due_time)
    _flush()
    _audit_update(reminder, before, actor)
    return reminder


def snooze(
    reminder: Reminder,
    *,
    actor: User,
    days: int | None = None,
    until: date | None = None,
    version: int | str | None = None,
    now: datetime | None = None,
) -> Reminder:
    """Put a follow-up off by 1, 3 or 7 days, or until a later day; its time of day stays.

    Counted from today (the owner's); one not due yet is put off from its own day,
    so snoozing never brings a follow-up closer.
    """
    _check_may_change(reminder, actor)
    _check_pending(reminder)
    if version is not None:
        check_version(reminder, version)
    today = today_in(user_zone(reminder.owner), now)
    if days in SNOOZE_DAYS:
        day = max(today, reminder.due_on) + timedelta(days=days)
    elif days is None and until is not None:
        if until <= today:
            raise DomainError(_l("Snooze until a day after today."), field="until")
        day = until
    else:
        raise DomainError(_l("Snooze for 1, 3 or 7 days, or until a chosen day."), field="until")
    before = audit.snapshot(reminder, FIELDS)
    _set_due(reminder, day, due_time_of(reminder))
    _flush()
    _audit_update(reminder, before, actor)
    return reminder


def _close(reminder: Reminder, status: ReminderStatus, actor: User, version) -> Reminder:
    _check_may_change(reminder, actor)
    _check_pending(reminder)
    check_version(reminder, version)
    before = audit.snapshot(reminder, FIELDS)
    reminder.status = status
    reminder.completed_at = utcnow()
    # Flush before cancelling its email: the cancelling UPDATE would autoflush, and a
    # close that raced another one must be refused as stale there, not fail.
    _flush()
    outbox.cancel_reminder_messages(reminder.id)  # a queued email about it is not sent
    _audit_update(reminder, before, actor)
    return reminder


def complete(reminder: Reminder, *, actor: User, version: int | str | None) -> Reminder:
    """Mark a follow-up done; its email is not sent if it has not gone out yet."""
    return _close(reminder, ReminderStatus.DONE, actor, version)


def dismiss(reminder: Reminder, *, actor: User, version: int | str | None) -> Reminder:
    """Drop a follow-up that is no longer needed; its queued email is not sent."""
    return _close(reminder, ReminderStatus.DISMISSED, actor, version)


def email_history(reminder: Reminder) -> list[OutboxMessage]:
    """The reminder's emails, newest first: queued, sent, failed or cancelled."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.reminder_id == reminder.id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        )
    )
