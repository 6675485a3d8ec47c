"""One event on the customer timeline, as every source of events returns it.

Its own module: the timeline (crm/services/activity/timeline.py) imports its sources, and the
sources that live elsewhere (crm/services/handover/timeline.py) build items from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, true

from models import Customer, User
from models.base import UTCDateTime


@dataclass
class TimelineItem:
    """One event on the customer's timeline: data only, the page puts it in words and links.

    `detail` holds (what, old value or None, new value) rows. Visits, follow-ups and
    handovers give them in words; an opportunity change ("stage") gives the changed fields
    by name with their values typed (see stage_history.history_changes), and an archive
    change gives none: the page words those from `record`.
    """

    at: datetime
    kind: str
    actor: User | None
    title: str
    detail: list[tuple[Any, Any, Any]] = field(default_factory=list)
    # The id of the record whose page tells more, by kind: a visit, an opportunity,
    # a follow-up, a handover. None when no page does (archive changes).
    link_id: int | None = None
    # The row the item was made from, for pages that describe it further.
    record: Any = None


# A source of one kind of event: (customer, limit, before) -> at most `limit` items older
# than `before`, newest first.
Source = Callable[[Customer, int, datetime | None], list[TimelineItem]]


# Each source's statement is built once per process (one with `before`, one without) and
# bound when it runs: building them cost the customer page more than SQLite took to run
# them (about a millisecond each, seven sources on every customer page).
CUSTOMER = bindparam("timeline_customer", type_=Integer)
LIMIT = bindparam("timeline_limit", type_=Integer)
BEFORE = bindparam("timeline_before", type_=UTCDateTime())


def bound(customer: Customer, limit: int, before: datetime | None) -> dict[str, Any]:
    """The values of CUSTOMER, LIMIT and BEFORE for one source's statement."""
    return {"timeline_customer": customer.id, "timeline_limit": limit, "timeline_before": before}


def older_than(column: Any, paged: bool) -> ColumnElement[bool]:
    """The column is before BEFORE, on a page that has one (`paged`)."""
    return column < BEFORE if paged else true()
