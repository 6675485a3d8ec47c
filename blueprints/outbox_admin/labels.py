"""Display names of the outbox's kinds and statuses (also shown on a reminder's page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from crm.labels import options
from models import MessageKind, MessageStatus

STATUS_LABELS = {
    MessageStatus.PENDING: _l("Queued"),
    MessageStatus.SENDING: _l("Sending"),
    MessageStatus.SENT: _l("Sent"),
    MessageStatus.FAILED: _l("Failed"),
    MessageStatus.CANCELLED: _l("Cancelled"),
}
KIND_LABELS = {
    MessageKind.REMINDER: _l("Reminder"),
    MessageKind.DAILY_DIGEST: _l("Daily digest"),
    MessageKind.WEEKLY_DIGEST: _l("Weekly digest"),
    MessageKind.HANDOVER: _l("Handover"),
    MessageKind.PLAN_REVIEW: _l("Plan review"),
    MessageKind.VISIT_COMMENT: _l("Comment on a visit"),
    MessageKind.HEALTH_AT_RISK: _l("Customer at risk"),
}
STATUS_BADGES = {
    MessageStatus.PENDING: "text-bg-info",
    MessageStatus.SENDING: "text-bg-primary",
    MessageStatus.SENT: "text-bg-success",
    MessageStatus.FAILED: "text-bg-danger",
    MessageStatus.CANCELLED: "text-bg-secondary",
}


def status_options(blank: object) -> list:
    return options([("", blank), *((s.value, text) for s, text in STATUS_LABELS.items())])


def kind_options(blank: object) -> list:
    return options([("", blank), *((k.value, text) for k, text in KIND_LABELS.items())])
