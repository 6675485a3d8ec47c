"""The events a subscription may choose and the body formats, with their display names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import PayloadFormat, WebhookEvent

EVENT_LABELS = {
    WebhookEvent.CUSTOMER_CREATED: _l("Customer created"),
    WebhookEvent.CUSTOMER_HANDED_OVER: _l("Customers handed over"),
    WebhookEvent.OPPORTUNITY_STAGE_CHANGED: _l("Opportunity moved to another stage"),
    WebhookEvent.OPPORTUNITY_WON: _l("Opportunity won"),
    WebhookEvent.OPPORTUNITY_LOST: _l("Opportunity lost"),
    WebhookEvent.FOLLOW_UP_OVERDUE: _l("Follow-up overdue"),
    WebhookEvent.CUSTOMER_AT_RISK: _l("Customer entered at risk"),
}
FORMAT_LABELS = {
    PayloadFormat.JSON: _l("JSON (for systems)"),
    PayloadFormat.WECOM_MARKDOWN: _l("WeCom group robot (markdown text)"),
    PayloadFormat.DINGTALK_MARKDOWN: _l("DingTalk group robot (markdown text)"),
}
ROBOT_FORMATS = frozenset({PayloadFormat.WECOM_MARKDOWN, PayloadFormat.DINGTALK_MARKDOWN})
