"""The customer page's History section: audit entries in words a manager reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from crm.labels import label
from crm.services import audit
from crm.templating import local_datetime, money
from models import (
    Attitude,
    AuditAction,
    AuditEntry,
    BuyingRole,
    Competitor,
    Contact,
    Customer,
    CustomerStatus,
    Industry,
    InfoSource,
    LossReason,
    Stage,
    Strategy,
    ThreatLevel,
    Tier,
    User,
)

# Customer, contact and competitor-profile fields; others show their column name.
FIELD_LABELS: dict[str, object] = {
    "name": _l("Name"),
    "credit_code": _l("Unified social credit code"),
    "parent_id": _l("Parent customer"),
    "industry_id": _l("Industry"),
    "region": _l("Region / city"),
    "address": _l("Address"),
    "employees": _l("Employees"),
    "annual_revenue": _l("Annual revenue"),
    "annual_spend": _l("Estimated annual spend"),
    "tier": _l("Value tier"),
    "strategy": _l("Strategy class"),
    "status": _l("Status"),
    "products_in_use": _l("Products and services in use"),
    "contract_expiry": _l("Main contract expiry"),
    "owner_id": _l("Owner"),
    "notes": _l("Notes"),
    "title": lazy_pgettext("job", "Title"),  # a contact's
    "department": _l("Department"),
    "mobile": _l("Mobile"),
    "office_phone": _l("Office phone"),
    "email": _l("Email"),
    "role": _l("Buying role"),
    "attitude": _l("Attitude"),
    "strength": _l("Relationship strength"),
    "reports_to_id": _l("Reports to"),
    "active": _l("Active"),
    "competitor_id": _l("Competitor"),
    "products": _l("Products"),
    "offer": _l("Offer"),
    "discount_percent": _l("Discount (%)"),
    "strengths": _l("Strengths"),
    "weaknesses": _l("Weaknesses"),
    "threat": _l("Threat level"),
    "source": _l("Source"),
    "confirmed_on": _l("Last confirmed"),
    # Marking a customer lost (crm/services/archive/loss.py).
    "lost_reason": _l("Why was the customer lost?"),
    "lost_to_id": _l("Went to competitor"),
    "lost_note": _l("What happened"),
    "lost_at": _l("Lost on"),
}
ENTITY_LABELS: dict[str, object] = {
    "customers": _l("Customer"),
    "contacts": _l("Contact"),
    "competitor_profiles": _l("Competitor profile"),
}
_ENUM_FIELDS: dict[str, type[enum.Enum]] = {
    "tier": Tier,
    "strategy": Strategy,
    "status": CustomerStatus,
    "role": BuyingRole,
    "attitude": Attitude,
    "threat": ThreatLevel,
    "source": InfoSource,
    "lost_reason": LossReason,
}
_MONEY_FIELDS = {"annual_revenue", "annual_spend"}
# field -> (model, column shown instead of the id)
_REFERENCES: dict[str, tuple[Any, Any]] = {
    "owner_id": (User, User.display_name),
    "parent_id": (Customer, Customer.name),
    "industry_id": (Industry, Industry.name_zh),
    "reports_to_id": (Contact, Contact.name),
    "competitor_id": (Competitor, Competitor.name),
    "lost_to_id": (Competitor, Competitor.name),
    "stage_id": (Stage, Stage.name_zh),  # an opportunity's, on the customer timeline
}
# What the references show in English.
_ENGLISH = {Industry: Industry.name_en, Stage: Stage.name_en}


@dataclass
class Change:
    field: str
    old: str | None
    new: str


@dataclass
class HistoryRow:
    entry: AuditEntry
    entity: str
    changes: list[Change]


@dataclass
class Comparison:
    field: str
    stored: str
    submitted: str
    differs: bool


def describe(
    entries: list[AuditEntry], locale: str, names: dict[str, dict[int, str]] | None = None
) -> list[HistoryRow]:
    """Entries with field names and values in words; the names of the ids they refer to
    come from `names` (referenced_names) or are looked up now, in one statement."""
    if names is None:
        names = referenced_names([entry.changes for entry in entries], locale)
    rows = []
    for entry in entries:
        changes = []
        for name, value in entry.changes.items():
            if entry.action is AuditAction.UPDATE and isinstance(value, list) and len(value) == 2:
                old, new = value
                changes.append(
                    Change(_field(name), _value(name, old, names), _value(name, new, names))
                )
            else:
                if value in (None, ""):
                    continue  # a create lists every field; the empty ones say nothing
                changes.append(Change(_field(name), None, _value(name, value, names)))
        rows.append(HistoryRow(entry, str(ENTITY_LABELS.get(entry.entity_type, "")), changes))
    return rows


def side_by_side(
    stored: dict[str, Any], submitted: dict[str, Any], locale: str
) -> list[Comparison]:
    """Two snapshots of a record (what is saved, what the user sent), field by field."""
    names = referenced_names(
        [{name: [value, submitted.get(name)] for name, value in stored.items()}], locale
    )
    return [
        Comparison(
            _field(name),
            _value(name, value, names),
            _value(name, submitted.get(name), names),
            value != submitted.get(name),
        )
        for name, value in stored.items()
    ]


def _field(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _value(name: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    if value is None or value == "":
        return "—"
    if name in names and isinstance(value, int):
        return names[name].get(value, f"#{value}")
    if name in _ENUM_FIELDS:
        try:
            return label(_ENUM_FIELDS[name](value))
        except ValueError:
            return str(value)
    if name == "lost_at" and isinstance(value, str):
        return local_datetime(datetime.fromisoformat(value))
    if name in _MONEY_FIELDS:
        try:
            return money(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    return str(value)


def referenced_names(change_sets: list[dict[str, Any]], locale: str) -> dict[str, dict[int, str]]:
    """{field: {id: name}} for every id the change sets ({field: value or [old, new]}) refer
    to, in one statement."""
    wanted: dict[str, set[int]] = {name: set() for name in _REFERENCES}
    for changes in change_sets:
        for name, value in changes.items():
            if name in wanted:
                values = value if isinstance(value, list) else [value]
                wanted[name].update(v for v in values if isinstance(v, int))
    english = not locale.startswith("zh")
    columns = {}
    for name, ids in wanted.items():
        model, column = _REFERENCES[name]
        columns[name] = (_ENGLISH.get(model, column) if english else column, ids)
    return audit.names_by_id(columns)
