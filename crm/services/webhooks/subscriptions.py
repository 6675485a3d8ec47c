"""Subscriptions for administrators: subscribe a URL, change it, rotate its secret, read its log.

The secret is made here (never typed in) and shown to the admin on the subscription's
page, to be given to the receiver; rotating it signs every call from then on,
including the retries of calls queued before, with the new one.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update

from crm.extensions import db
from crm.i18n import LANGUAGE_NAMES
from crm.services import audit
from crm.services.errors import DomainError, NotAllowed, check_version
from crm.services.followups import outbox
from crm.services.webhooks.addresses import url_problem
from models import (
    AuditAction,
    MessageStatus,
    PayloadFormat,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from models.base import utcnow

NAME_LENGTH = 100
# What the audit log records of a subscription (never its secret).
FIELDS = ("name", "url", "events", "payload_format", "language", "active")


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may manage webhooks."))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def all_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def delivery_counts() -> dict[int, dict[MessageStatus, int]]:
    """{subscription id: {status: deliveries}} in one grouped query."""
    counts: dict[int, dict[MessageStatus, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count()).group_by(
            WebhookDelivery.subscription_id, WebhookDelivery.status
        )
    )
    for subscription_id, status, count in rows:
        counts[subscription_id][status] = count
    return counts


def _clean(
    *, name: str, url: str, events: Iterable[str], payload_format: str, language: str
) -> dict[str, Any]:
    """The fields as stored; a refused one raises its message on its field."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Give the subscription a name."), field="name")
    if len(name) > NAME_LENGTH:
        raise DomainError(
            _l("The name is too long (at most %(num)d characters).", num=NAME_LENGTH),
            field="name",
        )
    url = (url or "").strip()
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        raise DomainError(problem, field="url")
    wanted = set(events or ())
    chosen = [event for event in WebhookEvent if event.value in wanted]
    if not chosen or len(chosen) != len(wanted):
        raise DomainError(_l("Choose at least one event."), field="events")
    try:
        payload_format = PayloadFormat(payload_format)
    except ValueError:
        raise DomainError(_l("Choose the format of the body."), field="payload_format") from None
    if language not in LANGUAGE_NAMES:
        raise DomainError(_l("Choose the language of the robot's text."), field="language")
    return {
        "name": name,
        "url": url,
        "events": [event.value for event in chosen],
        "payload_format": payload_format,
        "language": language,
    }


def create_subscription(
    *,
    actor: User,
    name: str,
    url: str,
    events: Iterable[str],
    payload_format: str = PayloadFormat.JSON,
    language: str = "zh_CN",
    active: bool = True,
) -> WebhookSubscription:
    require_admin(actor)
    values = _clean(
        name=name, url=url, events=events, payload_format=payload_format, language=language
    )
    subscription = WebhookSubscription(
        **values, active=bool(active), secret=new_secret(), created_by_id=actor.id
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        subscription,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(subscription, FIELDS),
    )
    return subscription


def update_subscription(
    subscription: WebhookSubscription,
    *,
    actor: User,
    version: int | str | None,
    name: str,
    url: str,
    events: Iterable[str],
    payload_format: str,
    language: str,
    active: bool,
) -> WebhookSubscription:
    """Change what a subscription receives and where; queued calls go to the new URL."""
    require_admin(actor)
    check_version(subscription, version)
    values = _clean(
        name=name, url=url, events=events, payload_format=payload_format, language=language
    )
    before = audit.snapshot(subscription, FIELDS)
    for field, value in {**values, "active": bool(active)}.items():
        setattr(subscription, field, value)
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(subscription, FIELDS))
    audit.record(AuditAction.UPDATE, subscription, actor=actor, customer_id=None, changes=changes)
    return subscription


def rotate_secret(subscription: WebhookSubscription, *, actor: User) -> WebhookSubscription:
    require_admin(actor)
    before = audit.snapshot(subscription, ("secret_rotated_at",))
    subscription.secret = new_secret()
    subscription.secret_rotated_at = utcnow()
    db.session.flush()
    # The audit entry says when, never what: the secret stays on the subscription.
    changes = audit.diff(before, audit.snapshot(subscription, ("secret_rotated_at",)))
    audit.record(AuditAction.UPDATE, subscription, actor=actor, customer_id=None, changes=changes)
    return subscription


def delete_subscription(subscription: WebhookSubscription, *, actor: User) -> None:
    """Remove it with its delivery log; calls still queued are not made."""
    require_admin(actor)
    audit.record(
        AuditAction.DELETE,
        subscription,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(subscription, FIELDS),
    )
    db.session.delete(subscription)
    db.session.flush()


def delivery_log(subscription: WebhookSubscription, status: MessageStatus | None) -> Select:
    """The subscription's deliveries, newest first, optionally of one status."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())


def retry_delivery(delivery: WebhookDelivery, *, actor: User) -> None:
    """A failed call made again at the sender's next run, its attempts counted afresh."""
    require_admin(actor)
    outbox.retry_message(delivery, actor=actor)


def retry_failed(subscription: WebhookSubscription, *, actor: User) -> int:
    """Every failed call of the subscription queued again (after the receiver is fixed)."""
    require_admin(actor)
    result = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == MessageStatus.FAILED,
        )
        .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
