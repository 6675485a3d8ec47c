"""What the filters of a list share: the query-string arguments that say them again."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import ColumnElement


class ListFilters:
    """A list's filters, a dataclass of strings (empty when unset), read from a query string."""

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for building URLs (pagination, sort links, exports)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def contains_any_case(column: ColumnElement[str], q: str) -> ColumnElement[bool]:
    """The column holds `q`, case aside: ILIKE, or LIKE when `q` has no letter with a case
    (Chinese, digits), for which both mean the same. PostgreSQL folds each row's text for
    ILIKE: a team's contact search for 精密 took 16 ms with it, 6 with LIKE."""
    like = f"%{q}%"
    return column.like(like) if q.lower() == q.upper() else column.ilike(like)
