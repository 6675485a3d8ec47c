"""Cursor pagination in a stable order: a page starts right after the last row of the one before.

An offset shifts when rows are added or removed between two pages (a row is seen twice
or never); a cursor holding the last row's sort values does not. Every order ends with
the id, so no two rows tie. Nullable sort columns sort their empty rows last, on every
database (a boolean "is empty" key first, then the value with a stand-in).
The cursor is signed: a client cannot forge one, only pass it back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_

from blueprints.api.auth import api_user
from blueprints.api.problems import Problem, problem
from crm.extensions import db
from crm.services.ordering import sorted_whole


@dataclass(frozen=True)
class Key:
    """One sort key: its SQL expression, how to read it from a row, and its direction."""

    expression: Any
    value: Callable[[Any], Any]
    descending: bool = False
    boolean: bool = False  # a true/false column: compared by IS, not > (see `flag`)

    def same(self, value: Any) -> ColumnElement[bool]:
        """The rows whose key equals `value` (a flag by IS: a cursor may hold 0 or 1)."""
        return self.expression.is_(bool(value)) if self.boolean else self.expression == value

    def beyond(self, value: Any) -> ColumnElement[bool]:
        """The rows whose key comes after `value` in this key's direction."""
        if self.boolean:
            # SQLAlchemy compares a boolean by IS only: after true (descending) come the
            # false ones, after false nothing; ascending the other way round.
            later = not value if self.descending else value
            return false() if later else self.expression.is_(not self.descending)
        return self.expression < value if self.descending else self.expression > value


def nullable(expression: Any, value: Callable[[Any], Any], stand_in: Any, *, descending=False):
    """Two keys for a nullable column: empty ones last, then the value (stand_in for empty).

    Written as an index on them can be: `expression IS NULL` as a flag, and the stand-in
    in the statement's text rather than a parameter, so that PostgreSQL matches
    `COALESCE(column, '9999-12-31')` to an index on that expression (migration 0031)."""
    return (
        flag(expression.is_(None), lambda row: value(row) is None),
        Key(
            func.coalesce(expression, literal(stand_in, literal_execute=True)),
            lambda row: stand_in if value(row) is None else value(row),
            descending,
        ),
    )


def flag(expression: Any, value: Callable[[Any], bool], *, descending=False) -> Key:
    """A boolean column as a sort key: ordered by the column itself, so that an index on it
    serves the order (a CASE of it would not), and compared by IS (`Key.beyond`)."""
    return Key(expression, lambda row: bool(value(row)), descending, boolean=True)


@dataclass(frozen=True)
class Order:
    """A named order of a list; the last key must be unique (the id)."""

    name: str
    keys: tuple[Key, ...]

    def clauses(self) -> list:
        return [k.expression.desc() if k.descending else k.expression for k in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows after the one whose sort values are `values` (a lexicographic comparison)."""
        alternatives = []
        for position, key in enumerate(self.keys):
            equal = [k.same(v) for k, v in zip(self.keys[:position], values, strict=False)]
            alternatives.append(and_(*equal, key.beyond(values[position])))
        return or_(*alternatives) if alternatives else false()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="api-cursor")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if hasattr(value, "value") and not isinstance(value, bool | int | str):
        return value.value  # an enum
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        kind, text = next(iter(value.items()))
        return {"t": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal}[kind](text)
    return value


def make_cursor(order: Order, row: Any) -> str:
    return _serializer().dumps([order.name, [_encode(k.value(row)) for k in order.keys]])


def read_cursor(order: Order, cursor: str) -> list[Any]:
    """The sort values a cursor holds; a cursor forged, garbled or of another order is refused."""
    try:
        name, values = _serializer().loads(cursor)
        values = [_decode(v) for v in values]
        if name != order.name or len(values) != len(order.keys):
            raise ValueError(name)
        return values
    except (BadSignature, ValueError, TypeError, KeyError, StopIteration, AttributeError):
        raise Problem(
            problem(
                422,
                _("This cursor is not valid for this list: start again without one."),
                kind="validation",
                errors=[
                    {"field": "cursor", "location": "query", "message": _("Not a valid cursor.")}
                ],
            )
        )


def paginate(stmt: Select, order: Order, *, limit: int, cursor: str | None) -> dict:
    """One page of `stmt` in `order`: {"items": [...], "next_cursor": str | None}.

    An administrator's list is everyone's, found in order through the order's index; any
    other user's is their own or their team's: its rows are sorted whole
    (crm/services/ordering.py), as the web lists' are."""
    stmt = stmt.order_by(None).order_by(*sorted_whole(order.clauses(), viewer=api_user()))
    if cursor:
        stmt = stmt.where(order.after(read_cursor(order, cursor)))
    rows = list(db.session.scalars(stmt.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": make_cursor(order, rows[-1]) if more else None}
