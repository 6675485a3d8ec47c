"""A user's own notices: the list, the unread count of the bell, marking them read.

Notices are the reader's alone (`own_rows` in crm/permissions.py): not even an admin
reads another's. A notice keeps what happened and to which record; its sentence is
written when it is shown, in the reader's language.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import in_scope, scope_path, scoped
from crm.services.errors import NotFound
from models import Customer, Notice, User, Visit, WorkPlan

# The bell counts this many at most ("99+"): a count that stops early stays cheap.
UNREAD_SHOWN = 99


def _unread_ids(user_id: ColumnElement[int] | int) -> Select:
    return (
        select(Notice.id)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .limit(UNREAD_SHOWN + 1)
    )


def unread_count_expression() -> ColumnElement[int]:
    """The unread count of the User row it is loaded with (the sign-in loads it: the bell
    then costs no statement of its own)."""
    return (
        select(func.count())
        .select_from(_unread_ids(User.id).correlate(User).subquery())
        .scalar_subquery()
    )


def unread_count(user: User) -> int:
    """How many of the user's notices are unread, up to UNREAD_SHOWN + 1."""
    if user.unread_notices is not None:
        return user.unread_notices
    return db.session.scalar(select(func.count()).select_from(_unread_ids(user.id).subquery()))


def notices_of(viewer: User) -> Select:
    """The viewer's notices, newest first, with what their sentences and links need."""
    return (
        scoped(Notice, viewer)
        .options(
            joinedload(Notice.actor).load_only(User.display_name),
            joinedload(Notice.plan).load_only(WorkPlan.kind, WorkPlan.starts_on),
            joinedload(Notice.visit)
            .load_only(Visit.occurred_at, Visit.user_id)
            .joinedload(Visit.customer)
            .load_only(Customer.name),
        )
        .order_by(Notice.id.desc())
    )


def visible_visits(notices: list[Notice], *, viewer: User) -> set[int]:
    """Which of these notices' visits the viewer still sees (one statement): a visit whose
    customer was handed over since is named no more, and its notice leads nowhere."""
    ids = {notice.visit_id for notice in notices if notice.visit_id is not None}
    if not ids:
        return set()
    return set(
        db.session.scalars(
            scoped(Visit, viewer).with_only_columns(Visit.id).where(Visit.id.in_(ids))
        )
    )


def mark_read(notice: Notice, *, actor: User, now: datetime | None = None) -> Notice:
    """Mark one of the actor's notices read (reading it again changes nothing)."""
    if not in_scope(Notice, notice.id, actor):
        raise NotFound(_l("This notice is not yours."))
    if notice.read_at is None:
        notice.read_at = now or datetime.now(UTC)
        db.session.flush()
    return notice


def mark_all_read(*, actor: User, now: datetime | None = None) -> int:
    """Mark every unread notice of the actor read; returns how many there were."""
    result = db.session.execute(
        update(Notice)
        .where(scope_path(Notice).condition(actor), Notice.read_at.is_(None))
        .values(read_at=now or datetime.now(UTC)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
