"""A follow-up done together with the visit it was about: one step over two services.

Visits schedule follow-ups (crm/services/activity/visits.py imports the reminders service), so
closing a follow-up by logging its visit lives here, above both, and neither imports
the other back.
"""

from __future__ import annotations

from datetime import date, datetime

from crm.services.activity import visits
from crm.services.archive.lock import lock_customer_for_write
from crm.services.followups import reminders
from models import Reminder, User, Visit, VisitKind
from models.base import utcnow


def complete_with_visit(
    reminder: Reminder,
    *,
    actor: User,
    version: int | str | None,
    kind: VisitKind | str,
    outcome: str | None,
    follow_up_on: date | None = None,
    now: datetime | None = None,
) -> Visit:
    """Mark a follow-up done and log the visit it was about, together or not at all.

    The caller commits once; any DomainError leaves both undone after its rollback.
    """
    # The customer's lock before the follow-up's row: a handover takes them in that order.
    lock_customer_for_write(reminder.customer_id, actor=actor)
    reminders.complete(reminder, actor=actor, version=version)
    return visits.log_visit(
        reminder.customer,
        actor=actor,
        occurred_at=now or utcnow(),
        kind=kind,
        opportunity=reminder.opportunity,
        purpose=reminder.note,
        outcome=outcome,
        follow_up_on=follow_up_on,
    )
