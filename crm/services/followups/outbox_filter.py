"""The admin outbox's filter: one definition for the list and for "Retry all failed"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import contains_eager

from crm.extensions import db
from crm.i18n import local_midnight_utc
from crm.services.people.users import require_admin
from models import MessageKind, MessageStatus, OutboxMessage, User
from models.base import utcnow


@dataclass
class OutboxFilter:
    zone: ZoneInfo  # the days an admin types are days in their own zone
    status: MessageStatus | None = None
    kind: MessageKind | None = None
    recipient: str = ""  # part of a name, username or address
    since: date | None = None  # written on or after this local day
    until: date | None = None  # written on or before this local day

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.recipient or self.since or self.until)

    def apply(self, stmt: Select) -> Select:
        """Narrow a select over the outbox, outer-joined to its recipient (User)."""
        if self.status:
            stmt = stmt.where(OutboxMessage.status == self.status)
        if self.kind:
            stmt = stmt.where(OutboxMessage.kind == self.kind)
        if self.recipient:
            columns = (User.username, User.display_name, User.email, OutboxMessage.to_address)
            stmt = stmt.where(
                or_(*(column.contains(self.recipient, autoescape=True) for column in columns))
            )
        if self.since:
            stmt = stmt.where(OutboxMessage.created_at >= local_midnight_utc(self.since, self.zone))
        if self.until:
            end = local_midnight_utc(self.until + timedelta(days=1), self.zone)
            stmt = stmt.where(OutboxMessage.created_at < end)
        return stmt

    @property
    def retries_failed(self) -> bool:
        """Whether failed messages can match at all (no other status is chosen)."""
        return self.status in (None, MessageStatus.FAILED)


def _with_recipient(stmt: Select) -> Select:
    return stmt.outerjoin(User, OutboxMessage.recipient_id == User.id)


def listing(filters: OutboxFilter) -> Select:
    """The outbox page's rows, newest first, with their recipients."""
    return filters.apply(
        _with_recipient(select(OutboxMessage))
        .options(contains_eager(OutboxMessage.recipient))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )


def _failed_ids(filters: OutboxFilter) -> Select:
    return filters.apply(
        _with_recipient(select(OutboxMessage.id)).where(
            OutboxMessage.status == MessageStatus.FAILED
        )
    )


def count_failed(filters: OutboxFilter) -> int:
    """How many failed messages match: what "Retry all failed" would queue again."""
    return db.session.scalar(select(func.count()).select_from(_failed_ids(filters).subquery()))


def retry_failed(filters: OutboxFilter, *, actor: User, now: datetime | None = None) -> int:
    """Queue every failed message that matches again, at once; returns how many."""
    require_admin(actor)
    if not filters.retries_failed:
        return 0
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(_failed_ids(filters).scalar_subquery()),
            OutboxMessage.status == MessageStatus.FAILED,
        )
        .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def backlog(*, viewer: User) -> dict[MessageStatus, int]:
    """How many messages the outbox holds in each status (every status, zero included)."""
    require_admin(viewer)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in MessageStatus}
