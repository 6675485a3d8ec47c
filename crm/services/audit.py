"""Recording who changed what: the audit log every archive service writes to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import InstrumentedAttribute

from crm.extensions import db
from models import AuditAction, AuditEntry, User


def _plain(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The current values of `fields`, JSON-safe (take one before changing a record)."""
    return {name: _plain(getattr(record, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def record(
    action: AuditAction,
    entity: Any,
    *,
    actor: User | None,
    customer_id: int | None,
    changes: dict[str, Any] | None = None,
    label: str | None = None,
) -> AuditEntry | None:
    """Append an audit entry for `entity`; an update that changed nothing writes none."""
    if action is AuditAction.UPDATE and not changes:
        return None
    mapper = inspect(entity).mapper
    entry = AuditEntry(
        customer_id=customer_id,
        entity_type=mapper.local_table.name,
        entity_id=entity.id,
        entity_label=(label if label is not None else str(getattr(entity, "name", "")))[:200],
        action=action,
        changes=changes or {},
        actor_id=actor.id if actor is not None else None,
    )
    db.session.add(entry)
    return entry


def names_by_id(name: InstrumentedAttribute, ids: set[int]) -> dict[int, str]:
    """{id: name} of the rows an audit entry refers to by id (`name` is a model's column)."""
    if not ids:
        return {}
    model = name.class_
    rows = db.session.execute(select(model.id, name.label("shown")).where(model.id.in_(ids)))
    return {row.id: row.shown for row in rows}
