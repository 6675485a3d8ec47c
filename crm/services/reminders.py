"""Follow-up reminders (跟进提醒): scheduled from visits, moved and cancelled with them.

Minimal for now: the reminders issue adds manual reminders, completion and the
emails. A reminder without a time falls due at 08:30 in its owner's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import customer_scope
from models import Customer, Opportunity, Reminder, ReminderSource, ReminderStatus, User, Visit

DUE_TIME = time(8, 30)
NOTE_LENGTH = 500
# The home page lists this many pending follow-ups at most; the reminders page shows all.
HOME_LIMIT = 50


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
    reminder.due_on = on
    reminder.due_at = due_instant(reminder.owner, on)
    reminder.note = new_note
    db.session.flush()
    return True


def cancel_follow_up(reminder: Reminder, *, actor: User) -> None:
    """Remove a pending follow-up; a done or dismissed one is kept as history, unlinked."""
    if reminder.status is ReminderStatus.PENDING:
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

    def __len__(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.upcoming)


def pending_reminders_for(
    user: User, *, now: datetime | None = None, limit: int = HOME_LIMIT, days_ahead: int = 14
) -> PendingReminders:
    """The user's own pending follow-ups (overdue, today, the next `days_ahead` days), in scope."""
    today = today_in(user_zone(user), now)
    rows = db.session.scalars(
        select(Reminder)
        .join(Reminder.customer)
        .options(joinedload(Reminder.customer))
        .where(
            Reminder.owner_id == user.id,
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on <= today + timedelta(days=days_ahead),
            customer_scope(user),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    result = PendingReminders(today=today)
    for reminder in rows:
        if reminder.due_on < today:
            result.overdue.append(reminder)
        elif reminder.due_on == today:
            result.due_today.append(reminder)
        else:
            result.upcoming.append(reminder)
    return result
