"""In-app notices (站内通知): what happened that a user should know, read or not.

A notice stores what happened and to which record, never its sentence: the text is
written when the notice is shown, in the reader's language.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.activity import Visit
    from models.plan import WorkPlan
    from models.user import User


class NoticeKind(enum.StrEnum):
    PLAN_REVIEWED = "plan_reviewed"
    PLAN_RETURNED = "plan_returned"
    VISIT_COMMENT = "visit_comment"


class Notice(db.Model):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind, 30))
    # Who caused it (the reviewer, the commenter).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("work_plans.id", ondelete="CASCADE"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    plan: Mapped[WorkPlan | None] = relationship()
    visit: Mapped[Visit | None] = relationship()

    # The bell's unread count and the newest-first list of one user.
    __table_args__ = (Index("ix_notices_user_id_read_at_id", "user_id", "read_at", "id"),)
