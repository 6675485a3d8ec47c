"""The webhook sender: the outbox's loop (crm/delivery.py drain) over the webhook calls.

Claims, leases and their renewal, and the commit after each call are the emails'
own; what differs is the call (crm/webhook_http.py) and when to give up: after
WEBHOOK_MAX_ATTEMPTS attempts rather than after an age. Each call is signed when it
is made, with the subscription's secret of that moment (a rotated secret signs the
retries too), and goes to the subscription's URL of that moment (a corrected URL
serves the calls still queued).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.delivery import DeliveryReport, drain
from crm.extensions import db
from crm.services.followups import outbox
from crm.services.webhooks.catalog import ROBOT_FORMATS
from crm.services.webhooks.outgoing import call_headers, retry_or_give_up
from crm.webhook_http import Caller, CallFailed, caller_from_config
from models import MessageStatus, WebhookDelivery


@dataclass(frozen=True)
class _Call:
    """What a call needs, read once: the commits after each call expire ORM objects."""

    id: int
    key: str
    event: str
    event_id: str
    body: bytes
    url: str
    secret: str
    active: bool
    robot: bool
    attempts: int


def deliver_due_webhooks(
    caller: Caller | None = None, *, worker: str | None = None, now: datetime | None = None
) -> DeliveryReport:
    """Make every webhook call that is due; `now` fixes the clock as in deliver_due."""
    caller = caller or caller_from_config(current_app.config)
    return drain(WebhookDelivery, _load, partial(_call_one, caller=caller), worker=worker, now=now)


def _load(ids: list[int]) -> list[_Call]:
    deliveries = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .options(joinedload(WebhookDelivery.subscription))
        .order_by(WebhookDelivery.id)
    )
    return [
        _Call(
            id=d.id,
            key=d.key,
            event=d.event.value,
            event_id=d.event_id,
            body=d.body.encode("utf-8"),
            url=d.subscription.url,
            secret=d.subscription.secret,
            active=d.subscription.active,
            robot=d.subscription.payload_format in ROBOT_FORMATS,
            attempts=d.attempts,
        )
        for d in deliveries
    ]


def _call_one(call: _Call, worker: str, report: DeliveryReport, clock, *, caller: Caller) -> None:
    now = clock()
    attempted = call.active
    if not call.active:
        # Switched off after the event: kept as failed, for an admin to retry once it is on.
        outcome = outbox.failed_values("the subscription is switched off")
    else:
        headers = call_headers(
            secret=call.secret,
            body=call.body,
            event=call.event,
            event_id=call.event_id,
            key=call.key,
            now=now,
        )
        try:
            status = caller.post(call.url, call.body, headers, robot=call.robot)
        except CallFailed as error:
            if error.transient:
                outcome = retry_or_give_up(call.attempts + 1, error.reason, now)
            else:
                outcome = outbox.failed_values(error.reason)
            outcome["response_code"] = error.status
            if outcome["status"] is MessageStatus.PENDING:
                report.retried += 1
            report.errors.append(error.reason)
        else:
            outcome = {**outbox.sent_values(now), "response_code": status}
            report.sent += 1
    outbox.record_outcome(call.id, worker, outcome, attempted=attempted, queue=WebhookDelivery)
    if outcome["status"] is MessageStatus.FAILED:
        report.failed += 1
        current_app.logger.warning(
            "webhook failed: id=%s event=%s reason=%s", call.id, call.event, outcome["last_error"]
        )
    db.session.commit()
