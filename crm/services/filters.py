"""What the filters of a list share: the query-string arguments that say them again."""

from __future__ import annotations

from dataclasses import fields


class ListFilters:
    """A list's filters, a dataclass of strings (empty when unset), read from a query string."""

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for building URLs (pagination, sort links, exports)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
