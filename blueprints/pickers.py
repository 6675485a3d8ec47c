"""The searchable pickers' web side (crm/services/pickers.py says why they exist).

A picker is a select that renders a short list; `picker_attrs` marks it for
static/js/picker.js when more choices exist than it holds, and the type-ahead asks the
kind's JSON list (`customers.pick`, `people.pick`), read here by `picker_query` and
answered by `picker_answer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, jsonify, make_response, request
from flask_babel import gettext as _

from crm.services.pickers import FOUND, LONGEST_TERM, MOST, Shortlist


@dataclass(frozen=True)
class PickerQuery:
    """What the type-ahead asks: the typed term (may be empty) and how many answers."""

    term: str
    limit: int


def refuse_query(message: str) -> None:
    """Answer a malformed picker query with 400 and why, as JSON (the script shows nothing)."""
    abort(make_response(jsonify(error=message), 400))


def picker_query() -> PickerQuery:
    """?q= (at most LONGEST_TERM characters) and ?limit= (1 to MOST, FOUND when absent)."""
    term = (request.args.get("q") or "").strip()
    if len(term) > LONGEST_TERM:
        refuse_query(_("Search for at most %(num)d characters.", num=LONGEST_TERM))
    raw = request.args.get("limit", "")
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else None
    if not raw:
        limit = FOUND
    if limit is None or not 1 <= limit <= MOST:
        refuse_query(_("The limit must be a number from 1 to %(num)d.", num=MOST))
    return PickerQuery(term, limit)


def picker_answer(results: list[dict], limit: int):
    """The JSON the script reads: up to `limit` results, and whether typing more finds others.

    `results` holds one more than `limit` when more match (the services ask for limit + 1).
    """
    return jsonify(results=results[:limit], more=len(results) > limit)


def picker_attrs(url: str, shortlist: Shortlist) -> dict[str, str]:
    """The select's attributes that make it a type-ahead over `url`, when the shortlist is cut.

    The texts go with each select, in the page's language: the script has none of its own.
    """
    if not shortlist.more:
        return {}
    return {
        "data-picker": url,
        "data-picker-hint": _("Type a name to search"),
        "data-picker-none": _("No match."),
        "data-picker-more": _("More match: type more of the name."),
        "data-picker-failed": _("The search failed; try again."),
    }
