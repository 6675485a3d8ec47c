"""An event as a group robot's markdown message (企业微信 / 钉钉), in the subscription's language.

Both robots take {"msgtype": "markdown", ...}: WeCom wants the text as "content",
DingTalk as "text" with a "title" for the notification. WeCom cuts a message at
4,096 bytes, so the text is kept under that. Names are shown as entered, except that
square brackets are made full-width so that a name cannot break a link.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import force_locale, format_currency, ngettext
from flask_babel import gettext as _

from crm.labels import label
from crm.services.webhooks.catalog import EVENT_LABELS
from models import LostReason, PayloadFormat, WebhookEvent

MAX_BYTES = 4000
LISTED_IN_TEXT = 10  # customers of a handover named in the message


def robot_body(
    event: WebhookEvent, data: dict[str, Any], fmt: PayloadFormat, language: str
) -> dict[str, Any]:
    with force_locale(language):
        title = str(EVENT_LABELS[event])
        lines = [f"**{title}**", *RENDERERS[event](data, language)]
    text = _fit("\n".join(line for line in lines if line))
    if fmt is PayloadFormat.DINGTALK_MARKDOWN:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def _fit(text: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_BYTES:
        return text
    return encoded[: MAX_BYTES - 3].decode("utf-8", errors="ignore") + "…"


def _plain(value: Any) -> str:
    """One line of user text, with no bracket that would end a markdown link early."""
    return " ".join(str(value or "").split()).replace("[", "［").replace("]", "］")


def _link(record: dict[str, Any] | None, name_key: str = "name") -> str:
    if not record:
        return "—"
    name = _plain(record.get(name_key))
    return f"[{name}]({record['url']})" if record.get("url") else name


def _person(user: dict[str, Any] | None) -> str:
    return _plain(user.get("name")) if user else "—"


def _line(name: str, value: str) -> str:
    return _("%(label)s: %(value)s", label=name, value=value)


def _money(amount: Any) -> str:
    return format_currency(Decimal(str(amount)), "CNY") if amount not in (None, "") else "—"


def _stage(stage: dict[str, Any] | None, language: str) -> str:
    if not stage:
        return "—"
    return _plain(stage["name_zh"] if language.startswith("zh") else stage["name_en"])


def _customer_created(data: dict[str, Any], language: str) -> list[str]:
    customer = data["customer"]
    return [
        _line(_("Customer"), _link(customer)),
        _line(_("Tier"), _plain(customer.get("tier"))),
        _line(_("Account manager"), _person(customer.get("owner"))),
        _line(_("Created by"), _person(data.get("actor"))),
    ]


def _handed_over(data: dict[str, Any], language: str) -> list[str]:
    customers = data.get("customers", [])
    count = data.get("customer_count", len(customers))
    to_owner = _person(data.get("to_owner"))
    lines = [
        ngettext(
            "%(num)d customer handed over to %(name)s.",
            "%(num)d customers handed over to %(name)s.",
            count,
            name=to_owner,
        )
    ]
    for customer in customers[:LISTED_IN_TEXT]:
        previous = _person(customer["from_owner"])
        entry = _("%(customer)s (from %(name)s)", customer=_link(customer), name=previous)
        lines.append(f"- {entry}")
    if count > LISTED_IN_TEXT:
        lines.append(_("… and %(num)d more.", num=count - LISTED_IN_TEXT))
    handover = data.get("handover") or {}
    if handover.get("url"):
        lines.append(f"[{_('Open the handover')}]({handover['url']})")
    return lines


def _opportunity_lines(data: dict[str, Any]) -> list[str]:
    opportunity = data["opportunity"]
    return [
        _line(_("Opportunity"), _link(opportunity, "title")),
        _line(_("Customer"), _plain(opportunity["customer"]["name"])),
    ]


def _stage_changed(data: dict[str, Any], language: str) -> list[str]:
    opportunity = data["opportunity"]
    moved = f"{_stage(data.get('from_stage'), language)} → {_stage(data.get('to_stage'), language)}"
    return [
        *_opportunity_lines(data),
        _line(_("Stage"), moved),
        _line(_("Amount"), _money(opportunity.get("amount"))),
        _line(_("Account manager"), _person(opportunity.get("owner"))),
    ]


def _won(data: dict[str, Any], language: str) -> list[str]:
    opportunity = data["opportunity"]
    return [
        *_opportunity_lines(data),
        _line(_("Contract amount"), _money(opportunity.get("amount"))),
        _line(_("Contract date"), _plain(data.get("contract_date"))),
        _line(_("Account manager"), _person(opportunity.get("owner"))),
    ]


def _lost(data: dict[str, Any], language: str) -> list[str]:
    opportunity = data["opportunity"]
    try:
        reason = label(LostReason(data.get("reason")))
    except ValueError:
        reason = _plain(data.get("reason"))
    competitor = data.get("competitor")
    return [
        *_opportunity_lines(data),
        _line(_("Reason"), reason),
        _line(_("Lost to"), _plain(competitor["name"])) if competitor else "",
        _line(_("Account manager"), _person(opportunity.get("owner"))),
    ]


def _overdue(data: dict[str, Any], language: str) -> list[str]:
    follow_up = data["follow_up"]
    opportunity = follow_up.get("opportunity")
    return [
        _line(_("Customer"), _link(follow_up["customer"])),
        _line(_("Due on"), _plain(follow_up.get("due_on"))),
        _line(_("Opportunity"), _plain(opportunity["title"])) if opportunity else "",
        _line(_("Account manager"), _person(follow_up.get("owner"))),
        f"[{_('Open the follow-up')}]({follow_up['url']})" if follow_up.get("url") else "",
    ]


def _at_risk(data: dict[str, Any], language: str) -> list[str]:
    customer = data["customer"]
    reasons = [_plain(reason) for reason in data.get("reasons") or []]
    return [
        _line(_("Customer"), _link(customer)),
        _line(_("Account manager"), _person(customer.get("owner"))),
        *(f"- {reason}" for reason in reasons),
    ]


RENDERERS: dict[WebhookEvent, Callable[[dict[str, Any], str], list[str]]] = {
    WebhookEvent.CUSTOMER_CREATED: _customer_created,
    WebhookEvent.CUSTOMER_HANDED_OVER: _handed_over,
    WebhookEvent.OPPORTUNITY_STAGE_CHANGED: _stage_changed,
    WebhookEvent.OPPORTUNITY_WON: _won,
    WebhookEvent.OPPORTUNITY_LOST: _lost,
    WebhookEvent.FOLLOW_UP_OVERDUE: _overdue,
    WebhookEvent.CUSTOMER_AT_RISK: _at_risk,
}
