"""Handing customer portfolios from one manager to another: preview, commit, undo.

The selection is a filter (or a list of ids), never the ids of the page the user
saw: it is evaluated again inside the commit's transaction, and refused only when what
moves (which customers, from whom) differs from the preview. The commit moves the
customers, their open opportunities and pending follow-ups with a few set-based
UPDATEs driven by the handover's own customer list (handover_customers, filled by
one INSERT ... SELECT), so 10,000 customers cost the same few statements as one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, insert, literal, or_, select, update

from crm.extensions import db
from crm.permissions import owner_scope, scoped
from crm.services.archive.search import CustomerFilters, search_customers
from crm.services.errors import DomainError, NotAllowed
from crm.services.handover.notices import enqueue_handover_notices
from crm.services.webhooks import events as webhooks
from models import (
    Contact,
    Customer,
    Document,
    Handover,
    HandoverCustomer,
    Level,
    Opportunity,
    OpportunityStatus,
    Reminder,
    ReminderStatus,
    Role,
    Tier,
    User,
)
from models.base import utcnow

# The least senior level that may serve a tier (docs/domain.md); other tiers: anyone.
TIER_LEVEL = {Tier.A_PLUS: Level.SENIOR, Tier.A: Level.INTERMEDIATE}


class SelectionChanged(DomainError):
    """The customers or what hangs off them changed since the preview; nothing moved."""


@dataclass
class HandoverOptions:
    open_opportunities: bool = True
    pending_reminders: bool = True
    closed_opportunities: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {
            "open_opportunities": self.open_opportunities,
            "pending_reminders": self.pending_reminders,
            "closed_opportunities": self.closed_opportunities,
        }


@dataclass
class Selection:
    """What to hand over: the customers matching `filters`, narrowed to `ids` when given."""

    filters: CustomerFilters = field(default_factory=CustomerFilters)
    ids: list[int] = field(default_factory=list)


@dataclass
class Preview:
    to_owner: User
    customers: int
    opportunities: int
    closed_opportunities: int
    reminders: int
    contacts: int
    portfolio_before: int
    from_owners: list[tuple[User, int]]
    # (tier, number of customers, level the tier needs) where the new owner is too junior
    tier_warnings: list[tuple[Tier, int, Level]]
    fingerprint: str
    # Documents on these customers: they follow the customers, whatever the options.
    documents: int = 0

    @property
    def portfolio_after(self) -> int:
        return self.portfolio_before + self.customers

    @property
    def needs_reason(self) -> bool:
        return bool(self.tier_warnings)


# Who ------------------------------------------------------------------------


def may_hand_over(user: User) -> bool:
    return user.is_authenticated and user.active and (user.is_supervisor or user.is_admin)


def require_hand_over(actor: User) -> None:
    if not may_hand_over(actor):
        raise NotAllowed(_l("Only a supervisor or an administrator can hand customers over."))


def target_owners(actor: User) -> Select:
    """Active users the actor may hand customers to: the team (and self), or any for admins."""
    stmt = (
        select(User)
        .where(User.active.is_(True), User.role.in_((Role.MANAGER, Role.SUPERVISOR)))
        .order_by(User.display_name)
    )
    if actor.is_admin:
        return stmt
    return stmt.where(owner_scope(actor, User.id))


def check_target(actor: User, to_owner: User | None) -> User:
    """Refuse a missing, deactivated or out-of-scope new owner."""
    if to_owner is None:
        raise DomainError(_l("Choose the new owner."), field="to_owner")
    if not to_owner.active:
        raise DomainError(
            _l(
                "%(name)s is deactivated and cannot take over customers.",
                name=to_owner.display_name,
            ),
            field="to_owner",
        )
    if db.session.scalar(target_owners(actor).where(User.id == to_owner.id)) is None:
        raise DomainError(
            _l("You can hand customers only to members of your own team."), field="to_owner"
        )
    return to_owner


def visible_handovers(user: User) -> Select:
    """Handovers with at least one customer in the user's scope (handover_scope), all for admins.

    A page of one shows only those customers: see handover_scope.visible_customer_rows.
    """
    return scoped(Handover, user)


# What -----------------------------------------------------------------------


def selected_ids(actor: User, selection: Selection, to_owner: User) -> Select:
    """SELECT of the ids to move: in the actor's scope, matching, not yet the new owner's."""
    stmt = search_customers(actor, selection.filters).order_by(None)
    if selection.ids:
        stmt = stmt.where(Customer.id.in_(selection.ids))
    return stmt.where(Customer.owner_id != to_owner.id).with_only_columns(Customer.id)


def _open_opportunities(customer_ids, to_owner: User, options: HandoverOptions):
    """WHERE clause of the opportunities that move with the customers."""
    statuses = []
    if options.open_opportunities:
        statuses.append(Opportunity.status == OpportunityStatus.OPEN)
    if options.closed_opportunities:
        statuses.append(Opportunity.status != OpportunityStatus.OPEN)
    if not statuses:
        return None
    return and_(
        Opportunity.customer_id.in_(customer_ids),
        Opportunity.owner_id != to_owner.id,
        or_(*statuses),
    )


def _pending_reminders(pairs, to_owner: User):
    """WHERE clause: pending follow-ups the previous owner had on the moved customers."""
    return and_(
        Reminder.status == ReminderStatus.PENDING,
        Reminder.owner_id != to_owner.id,
        exists().where(
            pairs.c.customer_id == Reminder.customer_id, pairs.c.from_owner_id == Reminder.owner_id
        ),
    )


def count_of(stmt) -> int:
    return db.session.scalar(stmt) or 0


def _measure(pairs, to_owner: User, options: HandoverOptions) -> dict[str, int]:
    """Counts of everything a customer list (customer_id, from_owner_id) would move."""
    ids = select(pairs.c.customer_id)
    opportunity_filter = _open_opportunities(ids, to_owner, options)
    counts = {
        "customers": count_of(select(func.count()).select_from(pairs)),
        "opportunities": 0,
        "reminders": 0,
        "contacts": count_of(select(func.count(Contact.id)).where(Contact.customer_id.in_(ids))),
    }
    if opportunity_filter is not None:
        counts["opportunities"] = count_of(
            select(func.count(Opportunity.id)).where(opportunity_filter)
        )
    if options.pending_reminders:
        counts["reminders"] = count_of(
            select(func.count(Reminder.id)).where(_pending_reminders(pairs, to_owner))
        )
    return counts


def fingerprint(pairs, to_owner: User, options: HandoverOptions) -> str:
    """What moves: which customers, from whom, to whom, with what.

    Only that: follow-ups, opportunities or edits others add to these customers meanwhile
    move along (the commit counts them again), so they must not refuse the handover;
    under a busy team every preview would otherwise be stale by the time it is confirmed.
    """
    digest = hashlib.sha256(repr((to_owner.id, sorted(options.as_dict().items()))).encode())
    rows = db.session.execute(
        select(pairs.c.customer_id, pairs.c.from_owner_id).order_by(pairs.c.customer_id)
    )
    for customer_id, from_owner_id in rows:
        digest.update(f"{customer_id}:{from_owner_id};".encode())
    return digest.hexdigest()[:32]


def preview(
    *, actor: User, selection: Selection, to_owner: User | None, options: HandoverOptions
) -> Preview:
    """What a handover would move, and what needs attention before it does."""
    require_hand_over(actor)
    to_owner = check_target(actor, to_owner)
    ids = selected_ids(actor, selection, to_owner)
    pairs = select(Customer.id.label("customer_id"), Customer.owner_id.label("from_owner_id"))
    pairs = pairs.where(Customer.id.in_(ids)).subquery()
    counts = _measure(pairs, to_owner, options)
    if not counts["customers"]:
        raise DomainError(_l("No customers match this selection (or they are the new owner's)."))
    closed = count_of(
        select(func.count(Opportunity.id)).where(
            Opportunity.customer_id.in_(ids), Opportunity.status != OpportunityStatus.OPEN
        )
    )
    from_owners = db.session.execute(
        select(User, func.count(Customer.id))
        .join(Customer, Customer.owner_id == User.id)
        .where(Customer.id.in_(ids))
        .group_by(User.id)
        .order_by(User.display_name)
    ).all()
    return Preview(
        to_owner=to_owner,
        customers=counts["customers"],
        opportunities=counts["opportunities"],
        closed_opportunities=0 if options.closed_opportunities else closed,
        reminders=counts["reminders"],
        contacts=counts["contacts"],
        portfolio_before=count_of(select(func.count()).where(Customer.owner_id == to_owner.id)),
        from_owners=[(user, n) for user, n in from_owners],
        tier_warnings=tier_warnings(ids, to_owner),
        fingerprint=fingerprint(pairs, to_owner, options),
        documents=count_of(
            select(func.count(Document.id)).where(
                Document.customer_id.in_(ids), Document.deleted_at.is_(None)
            )
        ),
    )


def tier_warnings(ids, to_owner: User) -> list[tuple[Tier, int, Level]]:
    """Tiers among the customers that need a more senior manager than the new owner."""
    warnings = []
    for tier, level in TIER_LEVEL.items():
        if to_owner.level.rank >= level.rank:
            continue
        n = count_of(select(func.count()).where(Customer.id.in_(ids), Customer.tier == tier))
        if n:
            warnings.append((tier, n, level))
    return warnings


# Commit ---------------------------------------------------------------------


def hand_over(
    *,
    actor: User,
    selection: Selection,
    to_owner: User | None,
    options: HandoverOptions,
    note: str,
    reason: str = "",
    token: str,
    expected_fingerprint: str | None,
) -> Handover:
    """Move the selected customers and what belongs to them, all or nothing; flush, no commit.

    A second call with the same token returns the first handover (a double submit).
    """
    existing = db.session.scalar(select(Handover).where(Handover.token == token))
    if existing is not None:
        return existing
    require_hand_over(actor)
    to_owner = check_target(actor, to_owner)
    note = (note or "").strip()
    reason = (reason or "").strip()
    if not note:
        raise DomainError(_l("Write a handover note for the new owner."), field="note")
    ids = selected_ids(actor, selection, to_owner)
    if tier_warnings(ids, to_owner) and not reason:
        raise DomainError(
            _l("Some customers need a more senior manager: write the reason for this choice."),
            field="reason",
        )
    return move_selection(
        actor=actor,
        ids=ids,
        to_owner=to_owner,
        options=options,
        note=note,
        reason=reason or None,
        token=token,
        expected_fingerprint=expected_fingerprint,
    )


def move_selection(
    *,
    actor: User,
    ids: Select,
    to_owner: User,
    options: HandoverOptions,
    note: str,
    reason: str | None,
    token: str,
    expected_fingerprint: str | None,
    reverses: Handover | None = None,
) -> Handover:
    now = utcnow()
    handover = Handover(
        actor_id=actor.id,
        to_owner_id=to_owner.id,
        created_at=now,
        note=note,
        reason=reason,
        options=options.as_dict(),
        token=token,
        reverses_id=reverses.id if reverses else None,
    )
    db.session.add(handover)
    db.session.flush()  # the token's unique constraint stops a concurrent double submit here
    rows = select(literal(handover.id), Customer.id, Customer.owner_id).where(Customer.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        # Nobody changes these customers (or adds to them) until this transaction ends:
        # writes that take an owner from a customer wait for this lock (customer_lock).
        # In id order, so two handovers of overlapping customers cannot deadlock.
        rows = rows.order_by(Customer.id).with_for_update(of=Customer)
    db.session.execute(
        insert(HandoverCustomer).from_select(["handover_id", "customer_id", "from_owner_id"], rows),
        execution_options={"synchronize_session": False},
    )
    pairs = (
        select(HandoverCustomer.customer_id, HandoverCustomer.from_owner_id)
        .where(HandoverCustomer.handover_id == handover.id)
        .subquery()
    )
    counts = _measure(pairs, to_owner, options)
    if not counts["customers"]:
        raise DomainError(_l("No customers match this selection (or they are the new owner's)."))
    if expected_fingerprint is not None and expected_fingerprint != fingerprint(
        pairs, to_owner, options
    ):
        raise SelectionChanged(
            _l(
                "The selected customers changed since the preview (some were moved, or others "
                "now match the selection). Nothing was handed over: check the new figures and "
                "confirm again."
            ),
            field="fingerprint",
        )
    moved_ids = select(pairs.c.customer_id)
    sync = {"synchronize_session": False}
    opportunity_filter = _open_opportunities(moved_ids, to_owner, options)
    # Reminders first: their filter reads the previous owners from handover_customers.
    if options.pending_reminders:
        result = db.session.execute(
            update(Reminder)
            .where(_pending_reminders(pairs, to_owner))
            .values(owner_id=to_owner.id, version=Reminder.version + 1, updated_at=now),
            execution_options=sync,
        )
        handover.reminders_count = result.rowcount
    if opportunity_filter is not None:
        result = db.session.execute(
            update(Opportunity)
            .where(opportunity_filter)
            .values(owner_id=to_owner.id, version=Opportunity.version + 1, updated_at=now),
            execution_options=sync,
        )
        handover.opportunities_count = result.rowcount
    result = db.session.execute(
        update(Customer)
        .where(Customer.id.in_(moved_ids))
        .values(
            owner_id=to_owner.id,
            version=Customer.version + 1,
            updated_at=now,
            updated_by_id=actor.id,
        ),
        execution_options=sync,
    )
    handover.customers_count = result.rowcount
    handover.contacts_count = counts["contacts"]
    owners = db.session.scalars(select(pairs.c.from_owner_id).distinct().limit(2)).all()
    handover.from_owner_id = owners[0] if len(owners) == 1 else None
    db.session.flush()
    # Objects already in the session must not show their old owners.
    db.session.expire_all()
    enqueue_handover_notices(handover)
    webhooks.customers_handed_over(handover)
    return handover
