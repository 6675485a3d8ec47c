"""Handover emails through the outbox: the new owner, the previous owners, their supervisors."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm import emails
from crm.extensions import db
from crm.services import outbox
from models import (
    Customer,
    Handover,
    HandoverCustomer,
    MessageKind,
    Reminder,
    ReminderStatus,
    Team,
    User,
)

# An email lists this many customers and follow-ups; the rest are counted and linked.
LISTED = 50


def handover_key(handover_id: int, recipient_id: int) -> str:
    return f"handover:{handover_id}:{recipient_id}"


def enqueue_handover_notices(handover: Handover) -> int:
    """Write one email per recipient, in each one's language; a repeat writes nothing."""
    moved = select(HandoverCustomer.customer_id).where(HandoverCustomer.handover_id == handover.id)
    customers = db.session.scalars(
        select(Customer).where(Customer.id.in_(moved)).order_by(Customer.name).limit(LISTED)
    ).all()
    reminders = db.session.scalars(
        select(Reminder)
        .where(
            Reminder.customer_id.in_(moved),
            Reminder.owner_id == handover.to_owner_id,
            Reminder.status == ReminderStatus.PENDING,
        )
        .options(joinedload(Reminder.customer))
        .order_by(Reminder.due_at)
        .limit(LISTED)
    ).all()
    reminders_total = db.session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.customer_id.in_(moved),
            Reminder.owner_id == handover.to_owner_id,
            Reminder.status == ReminderStatus.PENDING,
        )
    )
    previous_ids = select(HandoverCustomer.from_owner_id).where(
        HandoverCustomer.handover_id == handover.id
    )
    previous = db.session.scalars(select(User).where(User.id.in_(previous_ids))).all()
    people = [handover.to_owner_id, *[u.id for u in previous]]
    supervisors = db.session.scalars(
        select(User)
        .join(Team, Team.supervisor_id == User.id)
        .where(Team.id.in_(select(User.team_id).where(User.id.in_(people))))
    ).all()
    context = {
        "handover": handover,
        "customers": customers,
        "reminders": reminders,
        "reminders_total": reminders_total or 0,
        "previous": previous,
    }
    recipients: dict[int, tuple[User, str]] = {
        handover.to_owner_id: (handover.to_owner, "new_owner")
    }
    for user in previous:
        recipients.setdefault(user.id, (user, "notice"))
    for user in supervisors:
        recipients.setdefault(user.id, (user, "notice"))
    rows = []
    for user, template in recipients.values():
        if not user.active or not user.email:
            continue
        subject, text, html = emails.render(f"handover_{template}", user, **context)
        rows.append(
            outbox.message_row(
                key=handover_key(handover.id, user.id),
                kind=MessageKind.HANDOVER,
                recipient=user,
                subject=subject,
                text=text,
                html=html,
            )
        )
    outbox.enqueue(rows)
    return len(rows)
