"""Comments on a visit (点评): the supervisor's word on one visit of the work log, and replies.

Who writes: the supervisor of the visit's manager (who leads their team), an admin, and
the visit's manager replying to a comment already there. The visit must be in the
writer's scope. Each comment tells the others of the thread (the visit's manager
first) in the app and by email.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import in_scope, led_team_ids, scoped
from crm.services.errors import DomainError, NotAllowed, NotFound
from crm.services.notices import delivery
from models import MessageKind, NoticeKind, User, Visit, VisitComment

BODY_LIMIT = 2000


def comments_of(visit: Visit, *, viewer: User) -> list[VisitComment]:
    """The visit's thread, oldest first, with its authors."""
    return list(
        db.session.scalars(
            scoped(VisitComment, viewer)
            .where(VisitComment.visit_id == visit.id)
            .options(joinedload(VisitComment.author))
            .order_by(VisitComment.id)
        )
    )


def comment_counts(visit_ids: Iterable[int], *, viewer: User) -> dict[int, int]:
    """How many comments each of these visits has (one statement, for a work-log page)."""
    ids = list(visit_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        scoped(VisitComment, viewer)
        .with_only_columns(VisitComment.visit_id, func.count(VisitComment.id))
        .where(VisitComment.visit_id.in_(ids))
        .group_by(VisitComment.visit_id)
    )
    return {visit_id: count for visit_id, count in rows}


def _leads(actor: User, manager: User) -> bool:
    """Whether the actor supervises the team the manager is in."""
    if not actor.is_supervisor or manager.team_id is None:
        return False
    return manager.team_id in db.session.scalars(led_team_ids(actor)).all()


def may_comment(visit: Visit, actor: User, thread: list[VisitComment]) -> bool:
    """The manager's supervisor or an admin; the visit's manager once someone else wrote."""
    if not actor.is_active:
        return False
    if actor.id == visit.user_id:
        return any(comment.author_id != actor.id for comment in thread)
    return actor.is_admin or _leads(actor, visit.user)


def add_comment(
    visit: Visit, *, actor: User, body: str | None, now: datetime | None = None
) -> VisitComment:
    """Add the actor's comment to the visit's thread and tell the others of it."""
    if not in_scope(Visit, visit.id, actor):
        raise NotFound(_l("This visit is not in your scope."))
    text = (body or "").strip()
    if not text:
        raise DomainError(_l("Write the comment first."), field="body")
    if len(text) > BODY_LIMIT:
        raise DomainError(_l("At most %(limit)s characters.", limit=BODY_LIMIT), field="body")
    thread = comments_of(visit, viewer=actor)
    if not may_comment(visit, actor, thread):
        raise NotAllowed(
            _l(
                "Only the manager's supervisor or an administrator comments on a visit; "
                "its manager replies."
            )
        )
    comment = VisitComment(
        visit=visit,
        author_id=actor.id,
        author=actor,
        body=text,
        created_at=now or datetime.now(UTC),
    )
    db.session.add(comment)
    db.session.flush()
    for recipient, reply in _recipients(visit, actor, thread):
        delivery.tell(
            recipient,
            NoticeKind.VISIT_COMMENT,
            actor=actor,
            key=f"visit_comment:{comment.id}",
            email=("visit_comment", MessageKind.VISIT_COMMENT),
            visit=visit,
            comment=comment,
            reply=reply,
        )
    return comment


def _recipients(visit: Visit, actor: User, thread: list[VisitComment]) -> list[tuple[User, bool]]:
    """The visit's manager (a comment on their visit), then the thread's other writers (a
    reply): each once, never the actor, and only those who still see the visit."""
    people: dict[int, tuple[User, bool]] = {visit.user_id: (visit.user, False)}
    for earlier in thread:
        people.setdefault(earlier.author_id, (earlier.author, True))
    people.pop(actor.id, None)
    return [
        (user, reply)
        for user, reply in people.values()
        if user.is_active and in_scope(Visit, visit.id, user)
    ]
