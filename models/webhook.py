"""Outgoing webhooks: who is told about which events, and each call queued to tell them.

A subscription names a URL, the events it wants, the shape of the body and the secret
that signs it. Each event becomes one WebhookDelivery per subscription, written in the
same transaction as the change it reports and sent later by the outbox's sender, with
its claims, retries and outcome (models/outbox.py Deliverable).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum
from models.outbox import Deliverable


class WebhookEvent(enum.StrEnum):
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_HANDED_OVER = "customer.handed_over"
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed"
    OPPORTUNITY_WON = "opportunity.won"
    OPPORTUNITY_LOST = "opportunity.lost"
    FOLLOW_UP_OVERDUE = "follow_up.overdue"
    CUSTOMER_AT_RISK = "customer.at_risk"  # emitted by the customer-health checks


class PayloadFormat(enum.StrEnum):
    JSON = "json"  # the event as JSON: {"id", "event", "occurred_at", "data"}
    WECOM_MARKDOWN = "wecom_markdown"  # 企业微信 group robot: {"msgtype": "markdown", ...}
    DINGTALK_MARKDOWN = "dingtalk_markdown"  # 钉钉 group robot: markdown with a title


class WebhookSubscription(TimestampMixin, db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    # WebhookEvent values; a handful of subscriptions, so senders filter them in Python.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload_format: Mapped[PayloadFormat] = mapped_column(
        str_enum(PayloadFormat), default=PayloadFormat.JSON
    )
    # The language of a robot's text (a JSON body has codes, not words).
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # Signs each body (HMAC-SHA256); kept as it is, because signing needs it.
    secret: Mapped[str] = mapped_column(String(64))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column()

    __mapper_args__ = {"version_id_col": version}


class WebhookDelivery(Deliverable, db.Model):
    """One event to one subscription: the exact body, and how sending it went."""

    __tablename__ = "webhook_deliveries"

    # key: "webhook:<subscription id>:<event id>".
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event: Mapped[WebhookEvent] = mapped_column(str_enum(WebhookEvent, 40))
    # The same for every subscription told about one event: receivers dedupe by it.
    event_id: Mapped[str] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)  # signed and sent byte for byte (UTF-8)
    response_code: Mapped[int | None]  # the receiver's last HTTP status

    subscription: Mapped[WebhookSubscription] = relationship()

    __table_args__ = (
        # The senders' claim, as for emails.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # A subscription's delivery log, newest first.
        Index("ix_webhook_deliveries_subscription_id_created_at", "subscription_id", "created_at"),
    )
