"""What falls due: reminder emails and daily digests, written to the outbox once each.

A tick may run late (the scheduler was down) or twice (a restart): everything
here is keyed so that repeating it writes nothing new. Reminders that came due
longer ago than REMINDER_MAX_AGE_HOURS are not emailed one by one after a
downtime; the next daily digest lists them with the other overdue follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import emails
from crm.extensions import db
from crm.services import cadence, outbox
from models import Customer, MessageKind, OutboxMessage, Reminder, ReminderStatus, User
from models.base import utcnow

MAX_LEAD = timedelta(days=1)
DAILY_DIGEST_AT = time(8, 0)


def enqueue_due_reminders(now: datetime | None = None) -> int:
    """Write an email for every reminder whose (due time − owner's lead time) has come."""
    now = now or utcnow()
    max_age = timedelta(hours=current_app.config["REMINDER_MAX_AGE_HOURS"])
    candidates = db.session.execute(
        select(Reminder, User)
        .join(User, Reminder.owner_id == User.id)
        .where(
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_at > now - max_age,
            Reminder.due_at <= now + MAX_LEAD,
            User.email_reminders.is_(True),
        )
        .options(joinedload(Reminder.customer))
    ).all()
    due = [
        (reminder, owner)
        for reminder, owner in candidates
        if reminder.due_at - timedelta(minutes=owner.reminder_lead_minutes) <= now
    ]
    if not due:
        return 0
    existing = set(
        db.session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.reminder_id.in_([r.id for r, _ in due]))
        )
    )
    rows = []
    for reminder, owner in due:
        key = outbox.reminder_key(reminder.id, reminder.due_at, owner.id)
        if key in existing:
            continue
        subject, text, html = emails.render("reminder", owner, reminder=reminder)
        rows.append(
            outbox.message_row(
                key=key,
                kind=MessageKind.REMINDER,
                recipient=owner,
                subject=subject,
                text=text,
                html=html,
                reminder_id=reminder.id,
            )
        )
    outbox.enqueue(rows)
    return len(rows)


@dataclass
class DailyDigest:
    overdue: list[Reminder]
    today: list[Reminder]
    silent: list

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.silent)


def daily_digest_for(user: User, today: date) -> DailyDigest:
    """Today's and overdue follow-ups and silent customers of one user."""
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.owner_id == user.id,
                Reminder.status == ReminderStatus.PENDING,
                Reminder.due_on <= today,
            )
            .options(joinedload(Reminder.customer))
            .order_by(Reminder.due_at)
        )
    )
    return DailyDigest(
        overdue=[r for r in reminders if r.due_on < today],
        today=[r for r in reminders if r.due_on == today],
        silent=silent_customers_of(user, today),
    )


def silent_customers_of(user: User, today: date, limit: int = 50) -> list[Customer]:
    """The user's own customers whose visit cadence has passed, highest tier first."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(
                Customer.owner_id == user.id,
                cadence.silent_filter(ZoneInfo(user.timezone), today),
            )
            .order_by(Customer.tier, Customer.name)
            .limit(limit)
        )
    )


def local_now(user: User, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(user.timezone))


def enqueue_daily_digests(now: datetime | None = None) -> int:
    """At or after 08:00 in each user's zone, their digest for that day, once; none if empty."""
    now = now or utcnow()
    written = 0
    users = db.session.scalars(
        select(User).where(User.active.is_(True), User.email_daily_digest.is_(True))
    )
    for user in users:
        local = local_now(user, now)
        if local.time() < DAILY_DIGEST_AT or user.daily_digest_on == local.date():
            continue
        digest = daily_digest_for(user, local.date())
        user.daily_digest_on = local.date()
        if digest.empty:
            continue  # nothing to say, no email
        subject, text, html = emails.render("daily_digest", user, digest=digest, day=local.date())
        outbox.enqueue(
            [
                outbox.message_row(
                    key=f"daily:{user.id}:{local.date().isoformat()}",
                    kind=MessageKind.DAILY_DIGEST,
                    recipient=user,
                    subject=subject,
                    text=text,
                    html=html,
                )
            ]
        )
        written += 1
    db.session.flush()
    return written


def enqueue_weekly_digests(now: datetime | None = None) -> int:
    """Supervisors' Monday digest (built with the pipeline; nothing until then)."""
    return 0
