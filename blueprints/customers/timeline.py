"""The customer timeline on a page: the service's items in words, each with its link."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from blueprints.customers import history
from crm.labels import label
from crm.services.activity import timeline as timeline_service
from crm.services.activity.timeline import TimelinePage
from crm.services.activity.timeline_item import TimelineItem
from crm.templating import money, url_shape
from models import Customer, Stage

# The page about an item's record (its link_id), by kind of item.
LINKS = {
    "visit": ("visits.show", "visit_id"),
    "stage": ("opportunities.show", "opportunity_id"),
    "reminder": ("reminders.show", "reminder_id"),
    "handover": ("handovers.show", "handover_id"),
    "document": ("documents.show", "document_id"),
    "service": ("service.show", "ticket_id"),
}
STAGE_FIELDS = {
    "stage_id": _l("Stage"),
    "status": _l("Status"),
    "amount": _l("Amount"),
    "probability": _l("Probability"),
    "expected_close": _l("Expected close"),
}


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def timeline_page(customer: Customer, *, limit: int) -> TimelinePage:
    """The customer's timeline page chosen in the URL (?kinds=...&before=ISO), in words."""
    page = timeline_service.customer_timeline(
        customer,
        kinds=request.args.getlist("kinds"),
        before=timeline_service.parse_before(request.args.get("before")),
        limit=limit,
    )
    locale = _locale()
    archive = [item for item in page.items if item.kind == "archive"]
    stage = [item for item in page.items if item.kind == "stage"]
    # The names of every id the archive changes and the opportunity changes refer to (owners,
    # contacts, stages...): one statement for the page.
    names = history.referenced_names(
        [item.record.changes or {} for item in archive + stage], locale
    )
    # Archive changes in words, as the History section showed them.
    rows = history.describe([item.record for item in archive], locale, names)
    for item, row in zip(archive, rows, strict=True):
        item.title = f"{label(row.entry.action)} {row.entity} {row.entry.entity_label}"
        item.detail = [(change.field, change.old, change.new) for change in row.changes]
    for item in stage:
        item.detail = _stage_detail(item, locale, names["stage_id"])
    return page


def _stage_detail(
    item: TimelineItem, locale: str, stages: dict[int, str]
) -> list[tuple[str, str | None, str]]:
    """An opportunity change's (field, old, new) values in words; an opening shows no old.
    `stages` names the stage ids of changes (an opening carries its Stage)."""
    opened = not item.record.changes
    return [
        (
            str(STAGE_FIELDS.get(name, name)),
            None if opened else _stage_value(name, old, locale, stages),
            _stage_value(name, new, locale, stages),
        )
        for name, old, new in item.detail
    ]


def _stage_value(name: str, value: Any, locale: str, stages: dict[int, str]) -> str:
    if value is None:
        return "—"
    if isinstance(value, Stage):
        return value.name_for(locale)
    if name == "stage_id":
        return stages.get(value, f"#{value}")
    if name == "amount":
        return money(value)
    if name == "probability":
        return f"{value}%"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(label(value)) if hasattr(value, "value") else str(value)


def timeline_url(item: TimelineItem) -> str | None:
    """The page about the item, or None; each route is looked up once per page view."""
    if item.link_id is None or item.kind not in LINKS:
        return None
    return url_shape(*LINKS[item.kind]).format(item.link_id)
