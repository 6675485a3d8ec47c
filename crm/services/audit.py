"""Recording who changed what: the audit log every archive service writes to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, literal, select, union_all
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


def names_by_id(wanted: dict[str, tuple[InstrumentedAttribute, set[int]]]) -> dict[str, dict]:
    """{key: {id: name}} of the rows audit entries refer to by id, for each key's (a model's
    name column, ids): one statement for every kind (a UNION ALL), none when no id is wanted
    — the customer page's timeline is at the statement ceiling whatever its entries name."""
    parts = [
        select(literal(key).label("key"), name.class_.id.label("id"), name.label("shown")).where(
            name.class_.id.in_(ids)
        )
        for key, (name, ids) in wanted.items()
        if ids
    ]
    names: dict[str, dict] = {key: {} for key in wanted}
    if parts:
        for row in db.session.execute(union_all(*parts)):
            names[row.key][row.id] = row.shown
    return names
