"""One event to one person: an in-app notice and an email through the outbox.

The notice keeps what happened and to which record (its sentence is written when it is
shown); the email is rendered now, in the recipient's language and time zone, and
written to the outbox under a key of the event and the recipient, so telling the same
person of the same event twice sends one email.
"""

from __future__ import annotations

from typing import Any

from crm import emails
from crm.extensions import db
from crm.services.followups import outbox
from models import MessageKind, Notice, NoticeKind, User, Visit, WorkPlan


def tell(
    recipient: User,
    kind: NoticeKind,
    *,
    actor: User,
    key: str,
    email: tuple[str, MessageKind],
    plan: WorkPlan | None = None,
    visit: Visit | None = None,
    **context: Any,
) -> Notice:
    """A notice for `recipient`, and the email `email` = (template, outbox kind).

    `key` names the event (e.g. "plan_review:12"); the outbox key adds the recipient.
    No email for a deactivated user or one without an address: the notice waits in the
    app for them.
    """
    notice = Notice(
        user_id=recipient.id,
        kind=kind,
        actor_id=actor.id,
        plan_id=plan.id if plan is not None else None,
        visit_id=visit.id if visit is not None else None,
    )
    db.session.add(notice)
    if recipient.active and recipient.email:
        template, message_kind = email
        subject, text, html = emails.render(
            template, recipient, actor=actor, plan=plan, visit=visit, **context
        )
        outbox.enqueue(
            [
                outbox.message_row(
                    key=f"{key}:{recipient.id}",
                    kind=message_kind,
                    recipient=recipient,
                    subject=subject,
                    text=text,
                    html=html,
                )
            ]
        )
    return notice
