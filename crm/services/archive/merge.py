"""Merging a duplicate customer into the one that survives (administrators only).

Everything that hangs off the duplicate moves to the survivor with set-based
UPDATEs in the caller's transaction; the survivor's empty fields are filled from
the duplicate; the merge is recorded on the survivor; the duplicate is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.services import audit
from crm.services.archive.search import CustomerFilters, search_customers
from crm.services.errors import DomainError, NotAllowed
from crm.services.figures import merge as figures_merge
from models import (
    AuditAction,
    AuditEntry,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerHealth,
    Document,
    HandoverCustomer,
    HandoverRequest,
    HealthSnapshot,
    MonthlyFigure,
    Opportunity,
    PlanKeyCustomer,
    PlannedVisit,
    Reminder,
    ServiceTicket,
    User,
    Visit,
)

# Every table that hangs off a customer by one column, moved as it is to the survivor.
# A NEW TABLE WITH A CUSTOMER COLUMN (handovers, ...) MUST BE ADDED HERE, or merging
# would fail on its foreign key; tests/test_merge.py checks that every foreign key to
# customers.id is listed here or in SPECIAL_LINKS.
CUSTOMER_LINKS: tuple[tuple[type, Any], ...] = (
    (Contact, Contact.customer_id),
    (Opportunity, Opportunity.customer_id),
    (Visit, Visit.customer_id),
    (Reminder, Reminder.customer_id),
    (Customer, Customer.parent_id),  # subsidiaries
    (AuditEntry, AuditEntry.customer_id),  # history follows the survivor
    (HandoverRequest, HandoverRequest.customer_id),
    (HandoverCustomer, HandoverCustomer.customer_id),  # ownership history follows it too
    (Document, Document.customer_id),  # its proposals and photos too
    (PlannedVisit, PlannedVisit.customer_id),  # plans name the survivor from now on
    (PlanKeyCustomer, PlanKeyCustomer.customer_id),
    (ServiceTicket, ServiceTicket.customer_id),  # complaints and requests, their history too
)
# Moved by their own rule: one profile per competitor and customer; one month of business
# figures per customer (months both have are added up first: crm/services/figures/merge.py).
SPECIAL_LINKS: tuple[tuple[type, Any], ...] = (
    (CompetitorProfile, CompetitorProfile.customer_id),
    (MonthlyFigure, MonthlyFigure.customer_id),
)
# Go with the duplicate: its health is derived from its records, which move, so the next
# health pass scores the survivor with them; the survivor's own history stands.
DROPPED_LINKS: tuple[tuple[type, Any], ...] = (
    (CustomerHealth, CustomerHealth.customer_id),
    (HealthSnapshot, HealthSnapshot.customer_id),
)
# Filled on the survivor from the duplicate when the survivor's is empty.
FILLED_FIELDS = (
    "credit_code",
    "industry_id",
    "region",
    "address",
    "employees",
    "annual_revenue",
    "annual_spend",
    "strategy",
    "contract_expiry",
)
# Text both may hold: the duplicate's is appended, so nothing is lost.
APPENDED_FIELDS = ("products_in_use", "notes")
PROFILE_TEXTS = ("products", "offer", "strengths", "weaknesses")
PROFILE_FILLED = ("discount_percent", "contract_expiry", "source", "confirmed_on")
PROFILE_FIELDS = (*PROFILE_TEXTS, *PROFILE_FILLED, "threat")


@dataclass
class MergePreview:
    """What a merge would move and change; `problem` says why it is refused, if it is."""

    survivor: Customer
    duplicate: Customer
    problem: object | None = None
    counts: dict[str, int] = field(default_factory=dict)
    folded_profiles: list[CompetitorProfile] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)


def link_name(model: type, column: Any) -> str:
    return "subsidiaries" if model is Customer else model.__table__.name


def ancestor_ids(customer_id: int | None) -> list[int]:
    """The ids above a customer in its group, nearest first (stops on a loop in bad data)."""
    chain: list[int] = []
    parent_id = customer_id
    while True:
        parent_id = db.session.scalar(select(Customer.parent_id).where(Customer.id == parent_id))
        if parent_id is None or parent_id in chain or parent_id == customer_id:
            return chain
        chain.append(parent_id)


def merge_problem(survivor: Customer, duplicate: Customer) -> object | None:
    """Why these two cannot be merged, or None."""
    if survivor.id == duplicate.id:
        return _l("A customer cannot be merged into itself. Choose two different customers.")
    if duplicate.id in ancestor_ids(survivor.id):
        return _l(
            "%(survivor)s belongs to the group of %(duplicate)s: merging the group into its own "
            "subsidiary would make the group a loop. Merge the other way round.",
            survivor=survivor.name,
            duplicate=duplicate.name,
        )
    return None


def _profiles(customer_id: int) -> dict[int, CompetitorProfile]:
    stmt = select(CompetitorProfile).where(CompetitorProfile.customer_id == customer_id)
    return {p.competitor_id: p for p in db.session.scalars(stmt)}


def _parent_to_take(survivor: Customer, duplicate: Customer) -> int | None:
    """The duplicate's parent, if the survivor has none and taking it makes no loop."""
    parent_id = duplicate.parent_id
    if survivor.parent_id is not None or parent_id is None or parent_id == survivor.id:
        return None
    if survivor.id in ancestor_ids(parent_id):
        return None
    return parent_id


def preview_merge(survivor: Customer, duplicate: Customer) -> MergePreview:
    """Count what would move; nothing is changed."""
    preview = MergePreview(survivor, duplicate, problem=merge_problem(survivor, duplicate))
    if preview.problem is not None:
        return preview
    for model, column in (*CUSTOMER_LINKS, *SPECIAL_LINKS):
        preview.counts[link_name(model, column)] = db.session.scalar(
            select(func.count()).select_from(model).where(column == duplicate.id)
        )
    kept = _profiles(survivor.id)
    preview.folded_profiles = [
        p for competitor_id, p in _profiles(duplicate.id).items() if competitor_id in kept
    ]
    preview.filled = [
        name
        for name in FILLED_FIELDS
        if getattr(survivor, name) in (None, "") and getattr(duplicate, name) not in (None, "")
    ]
    if _parent_to_take(survivor, duplicate) is not None:
        preview.filled.append("parent_id")
    preview.appended = [
        name
        for name in APPENDED_FIELDS
        if getattr(duplicate, name) and getattr(duplicate, name) != getattr(survivor, name)
    ]
    return preview


def _appended(mine: str | None, theirs: str | None, source: str) -> str | None:
    if not theirs or theirs == mine:
        return mine
    if not mine:
        return theirs
    return f"{mine}\n\n[{source}]\n{theirs}"


def _fold_profile(kept: CompetitorProfile, folded: CompetitorProfile, source: str, actor: User):
    """Keep the survivor's profile, completed with what only the duplicate's knew."""
    before = audit.snapshot(kept, PROFILE_FIELDS)
    for name in PROFILE_TEXTS:
        setattr(kept, name, _appended(getattr(kept, name), getattr(folded, name), source))
    for name in PROFILE_FILLED:
        if getattr(kept, name) is None:
            setattr(kept, name, getattr(folded, name))
    audit.record(
        AuditAction.UPDATE,
        kept,
        actor=actor,
        customer_id=kept.customer_id,
        changes=audit.diff(before, audit.snapshot(kept, PROFILE_FIELDS)),
        label=kept.competitor.name,
    )
    db.session.delete(folded)


def _move(model: type, column: Any, from_id: int, to_id: int) -> int:
    """Re-point every row of `model` from one customer to another; bump their versions."""
    values: dict[Any, Any] = {column: to_id}
    version = inspect(model).version_id_col
    if version is not None:
        # A form opened before the merge must not write the old customer back.
        values[version] = version + 1
    stmt = (
        update(model)
        .where(column == from_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount


def merge_customers(survivor: Customer, duplicate: Customer, *, actor: User) -> dict[str, Any]:
    """Fold `duplicate` into `survivor` and delete it; returns what the merge record says."""
    if actor is None or not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may merge customers."))
    problem = merge_problem(survivor, duplicate)
    if problem is not None:
        raise DomainError(problem)
    source = str(_l("from merged customer %(name)s", name=duplicate.name))
    gone = {name: getattr(duplicate, name) for name in (*FILLED_FIELDS, *APPENDED_FIELDS)}
    gone_id, gone_name = duplicate.id, duplicate.name
    parent_id = _parent_to_take(survivor, duplicate)

    # A handover that moved both keeps one row for the survivor (one row per customer).
    db.session.execute(
        delete(HandoverCustomer)
        .where(
            HandoverCustomer.customer_id == duplicate.id,
            HandoverCustomer.handover_id.in_(
                select(HandoverCustomer.handover_id).where(
                    HandoverCustomer.customer_id == survivor.id
                )
            ),
        )
        .execution_options(synchronize_session=False)
    )
    kept = _profiles(survivor.id)
    folded = []
    for competitor_id, profile in _profiles(duplicate.id).items():
        if competitor_id in kept:
            folded.append(audit.snapshot(profile, ("competitor_id", *PROFILE_FIELDS)))
            _fold_profile(kept[competitor_id], profile, source, actor)
    db.session.flush()
    figure_months = figures_merge.fold_shared_months(survivor.id, duplicate.id)

    moved = {
        link_name(model, column): _move(model, column, duplicate.id, survivor.id)
        for model, column in (*CUSTOMER_LINKS, *SPECIAL_LINKS)
    }
    for model, column in DROPPED_LINKS:
        db.session.execute(
            delete(model).where(column == gone_id).execution_options(synchronize_session=False)
        )
    db.session.execute(
        delete(Customer).where(Customer.id == gone_id).execution_options(synchronize_session=False)
    )
    db.session.expunge(duplicate)
    # Loaded contacts, profiles and subsidiaries still name the duplicate: reload them.
    db.session.expire_all()
    figures_merge.refresh_survivor_trend(survivor.id)

    before = audit.snapshot(survivor, (*FILLED_FIELDS, *APPENDED_FIELDS, "parent_id"))
    for name in FILLED_FIELDS:
        if getattr(survivor, name) in (None, "") and gone[name] not in (None, ""):
            setattr(survivor, name, gone[name])
    if parent_id is not None:
        survivor.parent_id = parent_id
    for name in APPENDED_FIELDS:
        setattr(survivor, name, _appended(getattr(survivor, name), gone[name], source))
    survivor.updated_by_id = actor.id
    record = {
        "duplicate_id": gone_id,
        "duplicate_name": gone_name,
        "duplicate_credit_code": gone["credit_code"],
        "moved": moved,
        "changed": audit.diff(before, audit.snapshot(survivor, tuple(before))),
        "folded_profiles": folded,
        "figure_months_added_up": figure_months,
    }
    audit.record(AuditAction.MERGE, survivor, actor=actor, customer_id=survivor.id, changes=record)
    db.session.flush()
    return record


def customer_to_merge(customer_id: int | None, *, viewer: User) -> Customer | None:
    """The customer an administrator named by id for a merge, or None when there is none."""
    if viewer is None or not viewer.is_admin:
        raise NotAllowed(_l("Only an administrator may merge customers."))
    return db.session.get(Customer, customer_id) if customer_id else None


def merge_candidates(text: str, *, viewer: User) -> list[Customer]:
    """Customers matching a search, with their owners, to pick the two to merge (20 at most)."""
    stmt = search_customers(viewer, CustomerFilters(q=text.strip()[:100]))
    return list(db.session.scalars(stmt.options(joinedload(Customer.owner)).limit(20)))
