"""Searchable pickers: what a page renders of a long list of choices, and what typing finds.

A select of every visible customer (100,000 for an admin) or of every user (1,100) makes
the page grow with the data. A picker's page renders a short list instead: the first
choices by name and the current one; with more choices than that, static/js/picker.js
turns the select into a type-ahead over a scoped JSON list (`/customers/pick.json`,
`/people/pick.json`). Without JavaScript the short list is the select, and the server
accepts any id in the viewer's scope whatever the page showed.

Search is a LIKE on the name with a LIMIT, ordered by name: the name indexes give the
order, so the database reads rows in name order until it has the few it needs. A rare
term reads further, but a picker answers 20 names, not a page of results; the list
search is another matter (crm/services/archive/search.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select

from crm.extensions import db
from crm.permissions import MAX_RECORD_ID

SHOWN = 50  # choices a page renders in a picker's select (the current one besides)
FOUND = 20  # what the type-ahead asks for when it names no limit
MOST = 50  # the most a picker's JSON answers at once
LONGEST_TERM = 100  # characters of a search term; a name is at most 200


@dataclass(frozen=True)
class Shortlist:
    """A picker's choices as a page renders them: (id, label) pairs by name, at most SHOWN
    (and the current choice), and whether more exist that only typing finds."""

    options: list[tuple[int, str]] = field(default_factory=list)
    more: bool = False

    def __len__(self) -> int:
        return len(self.options)

    def ids(self) -> set[int]:
        return {value for value, _label in self.options}

    def keeping(self, value: int | None, label: str | None) -> Shortlist:
        """This list with a current value the viewer may keep though it lies outside their
        scope (a customer's parent or owner, chosen by someone else)."""
        if value is None or value in self.ids():
            return self
        return Shortlist([(value, label or ""), *self.options], self.more)


def shortlist(stmt: Select, *, chosen: int | None = None) -> Shortlist:
    """The first SHOWN rows of `stmt` (id, label, in order) and the `chosen` id's row
    wherever it stands; a chosen id that `stmt` does not select is left out."""
    id_column = stmt.selected_columns[0]
    rows = [(row[0], row[1]) for row in db.session.execute(stmt.limit(SHOWN + 1))]
    more = len(rows) > SHOWN
    options = rows[:SHOWN]
    if chosen and 0 < chosen <= MAX_RECORD_ID and chosen not in {v for v, _label in options}:
        row = db.session.execute(stmt.where(id_column == chosen).limit(1)).first()
        if row is not None:
            options.insert(0, (row[0], row[1]))
    return Shortlist(options, more)


def shortlist_of(pairs: list[tuple[int, str]], *, chosen: int | None = None) -> Shortlist:
    """The same short list from (id, label) pairs a page has loaded anyway, in order."""
    options = pairs[:SHOWN]
    if chosen and chosen not in {value for value, _label in options}:
        options = [pair for pair in pairs if pair[0] == chosen][:1] + options
    return Shortlist(options, len(pairs) > SHOWN)


def found(stmt: Select, *, limit: int) -> list[dict]:
    """The type-ahead's answer: `stmt`'s first rows as {id, label, detail}."""
    return [
        {"id": row[0], "label": row[1], "detail": row[2] if len(row) > 2 else None}
        for row in db.session.execute(stmt.limit(limit))
    ]
