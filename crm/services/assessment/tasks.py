"""Temporary tasks (临时任务): set by the supervisor during the period, scored with a comment.

Their points are the task weight of the period's set (20 of a quarter's 100) times the
scores' weighted average. A period cannot be published while a task is unscored.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.errors import DomainError, NotAllowed, check_version
from crm.services.reporting.targets import may_set_targets
from models import TemporaryTask, User
from models.base import utcnow

MAX_TASK_WEIGHT = 10
TITLE_LIMIT = 200


def tasks_for(
    period: AssessmentPeriod, user_ids: list[int] | None
) -> dict[int, list[TemporaryTask]]:
    """The period's tasks per manager, oldest first (None: every manager's)."""
    stmt = select(TemporaryTask).where(TemporaryTask.period == period.key)
    if user_ids is not None:
        if not user_ids:
            return {}
        stmt = stmt.where(TemporaryTask.user_id.in_(user_ids))
    found: dict[int, list[TemporaryTask]] = defaultdict(list)
    for task in db.session.scalars(stmt.order_by(TemporaryTask.id)):
        found[task.user_id].append(task)
    return found


def _may_assess(actor: User, manager: User) -> None:
    if not may_set_targets(actor, manager):
        raise NotAllowed(
            _l("Only the manager's supervisor or an administrator sets and scores tasks.")
        )


def add_task(
    manager: User,
    period: AssessmentPeriod,
    *,
    title: str,
    description: str | None,
    weight: int,
    actor: User,
) -> TemporaryTask:
    _may_assess(actor, manager)
    title = (title or "").strip()
    if not title:
        raise DomainError(_l("Name the task."), field="title")
    if len(title) > TITLE_LIMIT:
        raise DomainError(_l("At most %(n)d characters.", n=TITLE_LIMIT), field="title")
    if not 1 <= weight <= MAX_TASK_WEIGHT:
        raise DomainError(_l("From 1 to %(high)d.", high=MAX_TASK_WEIGHT), field="weight")
    task = TemporaryTask(
        user_id=manager.id,
        period=period.key,
        title=title,
        description=(description or "").strip() or None,
        weight=weight,
        set_by_id=actor.id,
    )
    db.session.add(task)
    db.session.flush()
    return task


def score_task(
    task: TemporaryTask, *, score: Decimal, comment: str, version: int | None, actor: User
) -> TemporaryTask:
    """The supervisor's score (0–100) and the comment that explains it."""
    _may_assess(actor, task.user)
    check_version(task, version)
    if not Decimal(0) <= score <= Decimal(100):
        raise DomainError(_l("A score is from 0 to 100."), field="score")
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_l("Say why: the score needs a comment."), field="comment")
    task.score = score
    task.comment = comment
    task.scored_by_id = actor.id
    task.scored_at = utcnow()
    db.session.flush()
    return task


def remove_task(task: TemporaryTask, *, actor: User) -> None:
    _may_assess(actor, task.user)
    db.session.delete(task)
    db.session.flush()
