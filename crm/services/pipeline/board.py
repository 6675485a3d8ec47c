"""The board: a column per stage, its first cards and its totals over every match.

A column shows the `per_column` most recently changed opportunities the filters match and
the count, total and weighted amount of all of them. What is read grows with the cards
shown, not with the organisation: an admin's columns come from an index per stage and
status, their totals from what the database keeps (crm/services/pipeline/totals.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, Subquery, func, select, type_coerce, union_all

from crm.extensions import db
from crm.services.pipeline import totals
from crm.services.pipeline.search import (
    OpportunityFilters,
    board_matches,
    missing_decision_maker,
)
from crm.services.pipeline.stages import all_stages
from models import Customer, Opportunity, OpportunityStatus, Phase, Stage, User
from models.base import UTCDateTime

CENT = Decimal("0.01")
CARDS_PER_COLUMN = 50


def weighted(amount_times_probability: Decimal | None) -> Decimal:
    """Σ(amount × probability) / 100, to the cent."""
    if amount_times_probability is None:
        return Decimal("0.00")
    raw = Decimal(str(amount_times_probability)).quantize(CENT, ROUND_HALF_UP)
    return (raw / 100).quantize(CENT, ROUND_HALF_UP)


@dataclass(slots=True)
class BoardCard:
    """What a card shows: a few columns, not whole opportunity, customer and owner rows."""

    id: int
    title: str
    stage_id: int
    status: OpportunityStatus
    amount: Decimal | None
    expected_close: date | None
    customer_name: str
    owner_name: str
    flagged: bool


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    cards: list[BoardCard] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class BoardPhase:
    phase: Phase
    columns: list[BoardColumn]

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((column.total for column in self.columns), Decimal("0.00"))

    @property
    def weighted(self) -> Decimal:
        return sum((column.weighted for column in self.columns), Decimal("0.00"))


def _statuses(filters: OpportunityFilters) -> tuple[OpportunityStatus, ...]:
    """The statuses the status filter lets through."""
    if filters.status == "all":
        return tuple(OpportunityStatus)
    if filters.status:
        return (OpportunityStatus(filters.status),)
    return (OpportunityStatus.OPEN, OpportunityStatus.WON)  # the default: not lost


def _stage_ids(filters: OpportunityFilters) -> list[int]:
    """The board's columns: every stage, or the phase's."""
    return [s.id for s in all_stages() if not filters.phase or s.phase.value == filters.phase]


def _ranked_in_scope(user: User, filters: OpportunityFilters) -> Subquery:
    """Every match's place in its column (most recently changed first): one pass over
    the matches of a scope that is a set of customers (a manager's, a team's)."""
    return board_matches(
        select(
            Opportunity.id,
            func.row_number()
            .over(
                partition_by=Opportunity.stage_id,
                order_by=(Opportunity.updated_at.desc(), Opportunity.id.desc()),
            )
            .label("rank"),
        ),
        user,
        filters,
    ).subquery()


def _first_of_columns(
    user: User, filters: OpportunityFilters, stage_ids: list[int], per_column: int
) -> Subquery:
    """Each column's first `per_column` matches (most recently changed first), ranked.

    One branch per stage and status reads its first entries from the index on (stage,
    status, updated_at, id), however many the column holds: ranking every match of an
    admin's board read all 150,000 opportunities to show 20 cards a column. A column's
    statuses are then merged and ranked again: a few dozen rows.
    """
    matches = (
        board_matches(
            # Plain values, not the mapped columns: each of the 32 subqueries would copy
            # them (the stage id with its foreign key), which cost more than the query.
            select(
                type_coerce(Opportunity.id, Integer).label("id"),
                type_coerce(Opportunity.stage_id, Integer).label("stage_id"),
                type_coerce(Opportunity.updated_at, UTCDateTime()).label("updated_at"),
            ),
            user,
            filters,
        )
        .order_by(Opportunity.updated_at.desc(), Opportunity.id.desc())
        .limit(per_column)
    )
    # Each a subquery: a LIMIT inside UNION ALL needs its own SELECT on SQLite.
    branches = [
        matches.where(Opportunity.stage_id == stage_id, Opportunity.status == status).subquery()
        for stage_id in stage_ids
        for status in _statuses(filters)
    ]
    candidates = union_all(*(select(branch) for branch in branches)).subquery()
    return select(
        candidates.c.id,
        func.row_number()
        .over(
            partition_by=candidates.c.stage_id,
            order_by=(candidates.c.updated_at.desc(), candidates.c.id.desc()),
        )
        .label("rank"),
    ).subquery()


def column_totals(
    user: User, filters: OpportunityFilters
) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Every column's (count, total amount, weighted amount) over all matches."""
    if user.is_admin and filters.keeps_whole_stages:
        # Every opportunity of the stages and statuses shown (an admin's scope is every
        # customer): the totals the database keeps, not a sum over the organisation.
        return totals.stage_totals(_statuses(filters), _stage_ids(filters))
    stmt = board_matches(
        select(
            Opportunity.stage_id,
            func.count().label("count"),
            func.sum(Opportunity.amount).label("total"),
            func.sum(Opportunity.amount * Opportunity.probability).label("product"),
        ),
        user,
        filters,
    ).group_by(Opportunity.stage_id)
    return {
        row.stage_id: (
            row.count,
            Decimal(str(row.total or 0)).quantize(CENT, ROUND_HALF_UP),
            weighted(row.product),
        )
        for row in db.session.execute(stmt)
    }


def board_cards(
    user: User, filters: OpportunityFilters, per_column: int = CARDS_PER_COLUMN
) -> tuple[list[BoardCard], dict[int, tuple[int, Decimal, Decimal]]]:
    """The most recently changed `per_column` cards of every column, and every column's
    (count, total amount, weighted amount) over all matches.

    Only the columns a card shows are read: loading whole opportunity, customer and
    owner rows for hundreds of cards cost more than the query itself.
    """
    if per_column < 1:
        raise ValueError("a board column shows at least one card")
    if user.is_admin:
        # Every customer is in an admin's scope (crm/permissions.py): ranking all the
        # matches grows with the organisation, reading each column's first entries does
        # not. A narrower scope is enumerated once instead: reading its customers again
        # for every column would cost a team's board a dozen passes.
        stage_ids = _stage_ids(filters)
        if not stage_ids:  # a phase whose stages were all deleted
            return [], {}
        ranked = _first_of_columns(user, filters, stage_ids, per_column)
    else:
        ranked = _ranked_in_scope(user, filters)
    stmt = (
        select(  # labelled as BoardCard's fields
            Opportunity.id.label("id"),
            Opportunity.title.label("title"),
            Opportunity.stage_id.label("stage_id"),
            Opportunity.status.label("status"),
            Opportunity.amount.label("amount"),
            Opportunity.expected_close.label("expected_close"),
            Customer.name.label("customer_name"),
            User.display_name.label("owner_name"),
            missing_decision_maker().label("flagged"),
        )
        .select_from(ranked)
        .join(Opportunity, Opportunity.id == ranked.c.id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .join(User, User.id == Opportunity.owner_id)
        .where(ranked.c.rank <= per_column)
        .order_by(Opportunity.stage_id, ranked.c.rank)
    )
    cards = [
        BoardCard(
            id=row.id,
            title=row.title,
            stage_id=row.stage_id,
            status=row.status,
            amount=row.amount,
            expected_close=row.expected_close,
            customer_name=row.customer_name,
            owner_name=row.owner_name,
            flagged=bool(row.flagged),
        )
        for row in db.session.execute(stmt)
    ]
    return cards, column_totals(user, filters)


def board(
    user: User, filters: OpportunityFilters, per_column: int = CARDS_PER_COLUMN
) -> list[BoardPhase]:
    """The board: a column per active stage (and per retired stage still holding cards),
    grouped by phase, with counts and totals over everything the filters match."""
    cards, totals = board_cards(user, filters, per_column)
    columns: dict[int, BoardColumn] = {}
    for stage in all_stages():
        if filters.phase and stage.phase.value != filters.phase:
            continue
        if stage.active or stage.id in totals:
            count, total, weighted_total = totals.get(
                stage.id, (0, Decimal("0.00"), Decimal("0.00"))
            )
            columns[stage.id] = BoardColumn(stage, count, total, weighted_total)
    for card in cards:
        column = columns.get(card.stage_id)
        if column is not None:
            column.cards.append(card)
    phases = []
    for phase in Phase:
        in_phase = [column for column in columns.values() if column.stage.phase is phase]
        if in_phase:
            phases.append(BoardPhase(phase, in_phase))
    return phases
