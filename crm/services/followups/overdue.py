"""Follow-ups that have just become overdue, reported once each (the follow_up.overdue webhook).

A follow-up is overdue once its day is over in its owner's time zone and it is still
pending, as the follow-up lists and the daily digest count it. Each tick looks at the
moments since the last tick's (kept in its scheduler_state row), so a follow-up is
seen at the tick after its owner's midnight; after downtime, the moments missed are
looked at (up to LOOK_BACK). The event's key is the follow-up and its day, so two
ticks that look at the same moment write it once, and a follow-up moved to a later
day becomes overdue again on that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.i18n import local_midnight_utc, user_zone
from crm.services.followups.scheduler_state import state_row
from crm.services.webhooks import events as webhook_events
from crm.services.webhooks.outgoing import listeners
from models import Customer, Reminder, ReminderStatus, WebhookEvent
from models.base import utcnow

STATE_NAME = "follow-ups-overdue"
LOOK_BACK = timedelta(days=7)  # the longest downtime whose overdue follow-ups are reported


def overdue_at(reminder: Reminder) -> datetime:
    """The instant the follow-up's day ends in its owner's zone."""
    return local_midnight_utc(reminder.due_on + timedelta(days=1), user_zone(reminder.owner))


def report_overdue(now: datetime | None = None) -> int:
    """Queue the follow_up.overdue event of each follow-up overdue since the last look."""
    now = now or utcnow()
    state = state_row(STATE_NAME)
    since = max(state.last_run_at or now - timedelta(days=1), now - LOOK_BACK)
    if since >= now:
        return 0  # a tick with an earlier clock than the last (tests, a clock set back)
    state.last_run_at = now
    if not listeners(WebhookEvent.FOLLOW_UP_OVERDUE):
        return 0
    # Days that can end in (since, now] in some zone (UTC-12 … UTC+14), then exactly per owner.
    candidates = db.session.scalars(
        select(Reminder)
        .where(
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on >= (since - timedelta(days=2)).date(),
            Reminder.due_on <= now.date(),
        )
        .options(
            joinedload(Reminder.owner),
            joinedload(Reminder.customer).joinedload(Customer.owner),
            joinedload(Reminder.opportunity),
        )
        .order_by(Reminder.id)
    ).all()
    due = [reminder for reminder in candidates if since < overdue_at(reminder) <= now]
    return webhook_events.follow_ups_overdue(due)
