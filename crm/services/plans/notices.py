"""Telling a manager about their plan's review or return: in the app and by email.

One notice and one email (outbox key `plan_review:<verdict id>:<recipient id>`) per
verdict, in the manager's language; the email carries the rating and the comment or
the reason, and links to the plan.
"""

from __future__ import annotations

from crm import emails
from crm.services.notices import delivery
from crm.services.plans import periods
from models import MessageKind, Notice, NoticeKind, PlanReview


def plan_reviewed(review: PlanReview) -> Notice:
    return _tell(review, NoticeKind.PLAN_REVIEWED)


def plan_returned(review: PlanReview) -> Notice:
    return _tell(review, NoticeKind.PLAN_RETURNED)


def _tell(review: PlanReview, kind: NoticeKind) -> Notice:
    plan = review.plan
    return delivery.tell(
        plan.owner,
        kind,
        actor=review.reviewer,
        key=f"plan_review:{review.id}",
        email=("plan_verdict", MessageKind.PLAN_REVIEW),
        plan=plan,
        review=review,
        period_key=periods.key_of(plan),
        plan_link=emails.external_url("plans.show", plan_id=plan.id),
    )
