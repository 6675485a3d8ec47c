"""Queueing an event for its subscribers, and what each call carries: body, signature, headers.

`emit` writes one WebhookDelivery per active subscription to the event, in the
caller's transaction: a change that rolls back sends nothing, and a committed one is
sent by the outbox's sender (crm/webhook_delivery.py) even if the web process dies
right after. The key "webhook:<subscription>:<event id>" is unique, so the same event
is never queued twice for one subscription; an event emitted with a `key` (the fact
it reports, e.g. "reminder:12:2026-12-01") gets an event id derived from it, so a
scheduler that reports the same fact twice writes nothing the second time.

Delivery is at least once: a sender killed after the receiver answered and before
the outcome was committed leaves the call to be made again once its claim expires.
Each call carries the event id (X-CRM-Event-Id) and the delivery key (X-CRM-Delivery)
so that a receiver can drop the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app
from sqlalchemy import select

from crm.extensions import db
from crm.services.followups import outbox
from crm.services.webhooks.catalog import ROBOT_FORMATS
from crm.services.webhooks.robot import robot_body
from models import WebhookDelivery, WebhookEvent, WebhookSubscription
from models.base import utcnow

SIGNATURE_HEADER = "X-CRM-Signature"
# Event ids derived from a fact's key: uuid5 in a namespace of this app's own.
EVENT_NAMESPACE = uuid.UUID("5b0f5d1e-8a63-4c39-9b52-2f1f8e6c7a41")

Data = dict[str, Any] | Callable[[], dict[str, Any]]


def listeners(event: WebhookEvent) -> list[WebhookSubscription]:
    """Active subscriptions to `event` (a handful of rows: filtered here, not in SQL)."""
    active = db.session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.id)
    )
    return [subscription for subscription in active if event.value in subscription.events]


def emit(
    event: WebhookEvent | str,
    data: Data,
    *,
    key: str | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Queue `event` for every active subscription to it; returns the deliveries written.

    `data` is the event's JSON object (dates, decimals and enums are converted), or a
    function that builds it: it is called only when someone subscribes. `key` names
    the fact, when the same fact may be reported again (see the module docstring).
    Call it inside the service that makes the change, before the caller commits.
    """
    return emit_each(event, [(data, key)], occurred_at=occurred_at)


def emit_each(
    event: WebhookEvent | str,
    items: Iterable[tuple[Data, str | None]],
    *,
    occurred_at: datetime | None = None,
) -> int:
    """`emit` for several events of one kind, (data, key) each: the subscribers read once."""
    event = WebhookEvent(event)
    subscriptions = listeners(event)
    if not subscriptions:
        return 0
    rows = []
    keyed = False
    # One time for the lot, as JSON text once (an import emits 100,000 of them).
    occurred = _plain_value(occurred_at or utcnow())
    for data, key in items:
        keyed = keyed or key is not None
        event_id = str(uuid.uuid5(EVENT_NAMESPACE, f"{event}:{key}") if key else uuid.uuid4())
        envelope = {
            "id": event_id,
            "event": event.value,
            "occurred_at": occurred,
            "data": data() if callable(data) else data,
        }
        rows += [
            {
                "key": delivery_key(subscription.id, event_id),
                "subscription_id": subscription.id,
                "event": event,
                "event_id": event_id,
                "body": body_for(subscription, event, envelope),
            }
            for subscription in subscriptions
        ]
    if keyed:  # a fact reported again is written once
        return outbox.enqueue(rows, queue=WebhookDelivery)
    return outbox.enqueue_new(rows, queue=WebhookDelivery)  # random event ids: new keys


def delivery_key(subscription_id: int, event_id: str) -> str:
    return f"webhook:{subscription_id}:{event_id}"


def body_for(subscription: WebhookSubscription, event: WebhookEvent, envelope: dict) -> str:
    """The exact text sent to this subscription (signed as UTF-8 bytes)."""
    if subscription.payload_format in ROBOT_FORMATS:
        message = robot_body(
            event, envelope["data"], subscription.payload_format, subscription.language
        )
        return to_json(message)
    return to_json(envelope)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain_value)


def _plain_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # money as a decimal string, never a float
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def signature(secret: str, body: bytes) -> str:
    """X-CRM-Signature: "sha256=" and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def call_headers(
    *, secret: str, body: bytes, event: str, event_id: str, key: str, now: datetime
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "KeyAccountCRM-Webhooks/1",
        "X-CRM-Event": event,
        "X-CRM-Event-Id": event_id,
        "X-CRM-Delivery": key,
        "X-CRM-Timestamp": str(int(now.timestamp())),
        SIGNATURE_HEADER: signature(secret, body),
    }


def retry_or_give_up(attempts: int, reason: str, now: datetime) -> dict[str, Any]:
    """After failed attempt number `attempts`: the pause the emails use, or failed at the limit."""
    limit = current_app.config["WEBHOOK_MAX_ATTEMPTS"]
    if attempts >= limit:
        return outbox.failed_values(f"gave up after {outbox.tries(attempts)}: {reason}")
    return outbox.later_values(attempts, reason, now)
