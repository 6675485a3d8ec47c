"""The customer timeline: visits, stage changes, archive changes and follow-ups, newest first.

Each kind of event comes from one source: a function (customer, limit, before) that
returns at most `limit` TimelineItems older than `before`, newest first, with ONE
query (relations eager-loaded), so a page's statements do not grow with its rows.
Another kind (handovers) is added by appending a TimelineSource to SOURCES.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm.extensions import db
from crm.labels import label
from crm.services.activity.check_in import check_in_of
from crm.services.activity.timeline_item import (
    CUSTOMER,
    LIMIT,
    Source,
    TimelineItem,
    bound,
    older_than,
)
from crm.services.documents.timeline import document_items
from crm.services.handover.timeline import handover_items
from crm.services.pipeline.stage_history import (
    customer_stage_history,
    history_changes,
)
from crm.services.tickets.timeline import ticket_items
from models import AuditEntry, Customer, OpportunityHistory, Reminder, ReminderStatus, Visit

# Newest items per page of the full timeline; "older" pages go on from the oldest one shown.
PAGE_SIZE = 50
# The customer page shows only the newest few (about two phone screens: the page above them
# grew with the health, service and figures panels); "more" opens the rest.
LATEST = 12
# The audit entries that are archive changes (visits, opportunities and reminders have their
# own sources, so their audit entries would show the same thing twice).
ARCHIVE_ENTITIES = ("customers", "contacts", "competitor_profiles")


@dataclass
class TimelineSource:
    kind: str
    label: Any  # shown beside the filter checkbox
    fetch: Source


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    kinds: list[str]
    # Where the next page starts (the oldest instant shown), or None on the last page.
    older: datetime | None


# Sources ----------------------------------------------------------------------


@functools.cache
def _visits(paged: bool) -> Select:
    # The contacts met come in a second statement: joined to the limited visits, SQLite
    # scans every contact (the LEFT JOIN of visit_contacts and contacts is materialised).
    return (
        select(Visit)
        .options(
            joinedload(Visit.user), joinedload(Visit.opportunity), selectinload(Visit.contacts)
        )
        .where(Visit.customer_id == CUSTOMER, older_than(Visit.occurred_at, paged))
        .order_by(Visit.occurred_at.desc(), Visit.id.desc())
        .limit(LIMIT)
    )


def visit_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """The customer's visits: when, who, kind, purpose and outcome, contacts met, check-in."""
    visits = db.session.scalars(_visits(before is not None), bound(customer, limit, before))
    items = []
    for visit in visits:
        detail = []
        if visit.contacts:
            met = ", ".join(contact.name for contact in visit.contacts)
            detail.append((str(_l("Contacts met")), None, met))
        if visit.opportunity is not None:
            detail.append((str(_l("Opportunity")), None, visit.opportunity.title))
        for name, text in (
            (_l("Purpose"), visit.purpose),
            (_l("Outcome"), visit.outcome),
            (_l("Next step"), visit.next_step),
        ):
            if text:
                detail.append((str(name), None, text))
        if visit.follow_up_on is not None:
            detail.append((str(_l("Next follow-up")), None, visit.follow_up_on.isoformat()))
        # The check-in rides on the title line ("On-site visit · On site"): a line of its
        # own made the customer page on a phone a screen longer.
        check_in = check_in_of(visit)
        title = str(label(visit.kind))
        if check_in is not None:
            title = f"{title} · {check_in.text}"
        items.append(
            TimelineItem(
                at=visit.occurred_at,
                kind="visit",
                actor=visit.user,
                title=title,
                detail=detail,
                link_id=visit.id,
                record=visit,
            )
        )
    return items


@functools.cache
def _stages(paged: bool) -> Select:
    return (
        customer_stage_history(CUSTOMER)
        .where(older_than(OpportunityHistory.at, paged))
        .limit(LIMIT)
    )


def stage_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """Changes of the customer's opportunities: stage, status, amount, probability, close date.

    Detail rows name the field and carry typed values (a Stage, a status, a Decimal, a
    date); an opened opportunity's rows are its stage and amount, with no old value.
    """
    rows = list(db.session.scalars(_stages(before is not None), bound(customer, limit, before)))
    if not rows:
        return []
    items = []
    for row in rows:
        opportunity = row.opportunity
        if not row.changes:
            title = _l("Opportunity opened: %(title)s", title=opportunity.title)
            detail: list[tuple[str, Any, Any]] = [("stage_id", None, row.stage)]
            if row.amount is not None:
                detail.append(("amount", None, row.amount))
        else:
            title = _l("Opportunity changed: %(title)s", title=opportunity.title)
            # Stages stay ids: the page names them with the archive's references, in one
            # statement (the customer page is at the statement ceiling).
            detail = history_changes(row, None)
        items.append(
            TimelineItem(
                at=row.at,
                kind="stage",
                actor=row.actor,
                title=str(title),
                detail=detail,
                link_id=opportunity.id,
                record=row,
            )
        )
    return items


@functools.cache
def _archive_entries(paged: bool) -> Select:
    return (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(
            AuditEntry.customer_id == CUSTOMER,
            AuditEntry.entity_type.in_(ARCHIVE_ENTITIES),
            older_than(AuditEntry.created_at, paged),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(LIMIT)
    )


def archive_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """Changes to the customer, its contacts and competitor profiles (the audit log)."""
    entries = db.session.scalars(
        _archive_entries(before is not None), bound(customer, limit, before)
    )
    return [
        TimelineItem(
            at=entry.created_at,
            kind="archive",
            actor=entry.actor,
            title=f"{label(entry.action)} {entry.entity_label}",
            record=entry,
        )
        for entry in entries
    ]


def _reminder_item(reminder: Reminder, at: datetime, title: Any) -> TimelineItem:
    detail = [
        (str(_l("Due")), None, reminder.due_on.isoformat()),
        (str(_l("Owner")), None, reminder.owner.display_name),
        (str(_l("Status")), None, str(label(reminder.status))),
    ]
    if reminder.note:
        detail.append((str(_l("Note")), None, reminder.note))
    return TimelineItem(
        at=at,
        kind="reminder",
        actor=reminder.owner,
        title=str(title),
        detail=detail,
        link_id=reminder.id,
        record=reminder,
    )


@functools.cache
def _reminders(paged: bool) -> Select:
    """The rows whose newest event (before BEFORE) is among the newest: a row's closing
    comes after its scheduling, so that event is the closing when it counts, else the
    scheduling; LIMIT rows by it hold at least the newest LIMIT events."""
    closed = and_(
        Reminder.status != ReminderStatus.PENDING,
        Reminder.completed_at.is_not(None),
        older_than(Reminder.completed_at, paged),
    )
    newest = case((closed, Reminder.completed_at), else_=Reminder.created_at)
    return (
        select(Reminder)
        .options(joinedload(Reminder.owner))
        .where(
            Reminder.customer_id == CUSTOMER,
            or_(older_than(Reminder.created_at, paged), closed),
        )
        .order_by(newest.desc(), Reminder.id.desc())
        .limit(LIMIT)
    )


def reminder_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """Follow-ups scheduled, and follow-ups done or dismissed (two events of one row), from
    one query."""
    rows = db.session.scalars(_reminders(before is not None), bound(customer, limit, before))
    items = []
    for reminder in rows:
        if before is None or reminder.created_at < before:
            items.append(_reminder_item(reminder, reminder.created_at, _l("Follow-up scheduled")))
        if (
            reminder.status is not ReminderStatus.PENDING
            and reminder.completed_at is not None
            and (before is None or reminder.completed_at < before)
        ):
            title = (
                _l("Follow-up done")
                if reminder.status is ReminderStatus.DONE
                else _l("Follow-up dismissed")
            )
            items.append(_reminder_item(reminder, reminder.completed_at, title))
    items.sort(key=lambda item: item.at, reverse=True)
    return items


SOURCES: list[TimelineSource] = [
    TimelineSource("visit", _l("Visits"), visit_items),
    TimelineSource("stage", _l("Opportunities"), stage_items),
    TimelineSource("archive", _l("Archive changes"), archive_items),
    TimelineSource("reminder", _l("Follow-ups"), reminder_items),
    TimelineSource("handover", _l("Handovers"), handover_items),
    TimelineSource("document", _l("Documents"), document_items),
    TimelineSource("service", _l("Service tickets"), ticket_items),
]


# The merged page -----------------------------------------------------------------


def kinds_from(values: Iterable[str]) -> list[str]:
    """The known kinds among `values` (repeated or comma-separated); all kinds when none."""
    known = [source.kind for source in SOURCES]
    wanted = {part.strip() for value in values for part in (value or "").split(",")}
    chosen = [kind for kind in known if kind in wanted]
    return chosen or known


def parse_before(value: str | None) -> datetime | None:
    """An ISO instant from the URL (naive means UTC); None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def customer_timeline(
    customer: Customer,
    *,
    kinds: Iterable[str] | None = None,
    before: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """The newest `limit` events of the chosen kinds older than `before`, newest first.

    The caller has checked that the customer is in scope (get_customer_or_404).
    """
    chosen = kinds_from(kinds or ())
    merged: list[TimelineItem] = []
    more = False
    for source in SOURCES:
        if source.kind in chosen:
            # One more than a page: a source that fills it has older items left.
            items = source.fetch(customer, limit + 1, before)
            more = more or len(items) > limit
            merged.extend(items)
    merged.sort(key=lambda item: item.at, reverse=True)
    shown = merged[:limit]
    if not shown:
        return TimelinePage(items=[], kinds=chosen, older=None)
    # Items sharing the oldest shown instant all go on this page: "older" pages use "<".
    while len(shown) < len(merged) and merged[len(shown)].at == shown[-1].at:
        shown.append(merged[len(shown)])
    more = more or len(merged) > len(shown)
    return TimelinePage(items=shown, kinds=chosen, older=shown[-1].at if more else None)
