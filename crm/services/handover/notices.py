"""Handover emails through the outbox: the new owner, the previous owners, their supervisors."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm import emails
from crm.extensions import db
from crm.permissions import scope_member_ids
from crm.services.followups import outbox
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

# An email lists this many customers and follow-ups (and names this many previous owners);
# the rest are counted and linked.
LISTED = 50
NAMED = 10


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
    # Every moved customer as a light row: each previous owner's email lists their own.
    by_owner: dict[int, list] = defaultdict(list)
    own_count: dict[int, int] = defaultdict(int)
    for row in db.session.execute(
        select(HandoverCustomer.from_owner_id, Customer.id, Customer.name, Customer.tier)
        .join(Customer, Customer.id == HandoverCustomer.customer_id)
        .where(HandoverCustomer.handover_id == handover.id)
        .order_by(Customer.name, Customer.id)
    ):
        own_count[row.from_owner_id] += 1
        if len(by_owner[row.from_owner_id]) < LISTED:
            by_owner[row.from_owner_id].append(row)
    previous = db.session.scalars(
        select(User).where(User.id.in_(list(own_count))).order_by(User.display_name)
    ).all()
    people = [handover.to_owner_id, *own_count]
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
        "previous_names": [u.display_name for u in previous[:NAMED]],
        "previous_count": len(previous),
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
        own = {
            "own_customers": by_owner.get(user.id, []),
            "own_count": own_count.get(user.id, 0),
            **_in_scope_of(user, handover, by_owner, own_count, previous),
        }
        subject, text, html = emails.render(f"handover_{template}", user, **{**context, **own})
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


def _in_scope_of(user: User, handover: Handover, by_owner, own_count, previous) -> dict:
    """What a recipient's email may name: the customers (and previous owners) in their scope.

    The new owner's team sees every customer; anyone else only those that came from
    someone in their scope; the rest are counted, not named (handover_scope's rule).
    """
    everything = user.is_admin or user.id == handover.to_owner_id
    if not everything:
        everything = handover.to_owner_id in scope_member_ids(user)
    seen = [u for u in previous if everything or u.id == user.id or u.id in scope_member_ids(user)]
    rows = [row for u in seen for row in by_owner.get(u.id, [])]
    rows.sort(key=lambda row: (row.name, row.id))
    shown = sum(own_count[u.id] for u in seen)
    return {
        "listed": rows[:LISTED],
        "listed_count": shown,
        "not_shown": handover.customers_count - shown,
        "previous_names": [u.display_name for u in seen[:NAMED]],
        "previous_count": len(seen),
    }
