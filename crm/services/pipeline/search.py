"""Finding opportunities: the missing-decision-maker flag, the list's filters and sorts.

Everything here starts from the user's scope (the opportunity's customer is in it),
so counts and totals never include what the user may not see.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only
from sqlalchemy.sql.util import find_tables

from crm.extensions import db
from crm.i18n import local_midnight_utc, user_zone
from crm.permissions import customer_scope, led_team_ids, visible_customers
from crm.services.archive.identity import is_record_id
from crm.services.ordering import sorted_whole
from crm.services.people.picker import people_shortlist
from crm.services.pickers import Shortlist
from crm.services.pipeline.stages import needs_discovery_position
from models import (
    BuyingRole,
    Contact,
    Customer,
    LostReason,
    Opportunity,
    OpportunityContact,
    OpportunityHistory,
    OpportunityStatus,
    Phase,
    Stage,
    Team,
    Tier,
    User,
)

# "" is the default: the live pipeline, open ones and won ones in delivery (not lost).
STATUS_FILTERS = ("", "open", "won", "lost", "all")
SORTS = {
    "updated": (Opportunity.updated_at.desc(), Opportunity.id.desc()),
    "amount": (Opportunity.amount.is_(None), Opportunity.amount.desc(), Opportunity.id.desc()),
    "close": (Opportunity.expected_close.is_(None), Opportunity.expected_close, Opportunity.id),
    "stage": (Stage.position, Opportunity.updated_at.desc(), Opportunity.id.desc()),
}
# What the list shows of each opportunity (not its solution, notes and loss details).
LIST_COLUMNS = (
    Opportunity.title,
    Opportunity.customer_id,
    Opportunity.stage_id,
    Opportunity.owner_id,
    Opportunity.status,
    Opportunity.amount,
    Opportunity.probability,
    Opportunity.expected_close,
    Opportunity.updated_at,
)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Local-day bounds on timestamps (the viewer's zone), e.g. what a home-page figure counted.
DATE_RANGES = ("closed_from", "closed_to", "created_from", "created_to")
NO_REASON = "none"  # lost without a reason given


# The missing-decision-maker flag ---------------------------------------------------


# Built once: the expression holds no values of its own (it reads the stages at query
# time), and building it anew cost milliseconds per page that shows the flag.
@cache
def missing_decision_maker() -> ColumnElement[bool]:
    """SQL: an open pre-sale opportunity past needs discovery with no active decision maker."""
    later = aliased(Stage)
    past_discovery = select(later.id).where(
        later.phase == Phase.PRE_SALE, later.position > needs_discovery_position()
    )
    has_decision_maker = exists().where(
        OpportunityContact.opportunity_id == Opportunity.id,
        OpportunityContact.role == BuyingRole.DECISION_MAKER,
        OpportunityContact.contact_id == Contact.id,
        Contact.active.is_(True),
    )
    return and_(
        Opportunity.status == OpportunityStatus.OPEN,
        Opportunity.stage_id.in_(past_discovery),
        ~has_decision_maker,
    )


def opportunities_missing_decision_maker(stmt: Select) -> Select:
    """Narrow a SELECT over Opportunity to the flagged ones."""
    return stmt.where(missing_decision_maker())


def customer_has_flagged_opportunity() -> ColumnElement[bool]:
    """SQL over Customer: one of its opportunities is flagged (for customer lists)."""
    return exists(
        select(Opportunity.id).where(
            Opportunity.customer_id == Customer.id, missing_decision_maker()
        )
    )


def flagged_ids(opportunity_ids: list[int]) -> set[int]:
    """Which of these opportunities are flagged (one query for a page of rows)."""
    if not opportunity_ids:
        return set()
    return set(
        db.session.scalars(
            select(Opportunity.id).where(
                Opportunity.id.in_(opportunity_ids), missing_decision_maker()
            )
        )
    )


# Filters -----------------------------------------------------------------------


@dataclass
class OpportunityFilters:
    """What the list or board is narrowed to; read from and written back to the URL."""

    q: str = ""
    owner: str = ""
    team: str = ""
    tier: str = ""
    status: str = ""
    phase: str = ""
    stage: str = ""
    close: str = ""
    customer: str = ""
    flagged: str = ""
    closed_from: str = ""
    closed_to: str = ""
    created_from: str = ""
    created_to: str = ""
    lost_reason: str = ""
    lost_to: str = ""
    been_in: str = ""  # a stage id: opportunities that spent time in it (not while lost)
    sort: str = "updated"

    @classmethod
    def from_args(cls, args: Any, user: User) -> OpportunityFilters:
        """Build from request.args; unknown values are dropped, never an error."""
        filters = cls(**{f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)})
        for name in ("owner", "team", "stage", "customer", "lost_to", "been_in"):
            if not is_record_id(getattr(filters, name)):
                setattr(filters, name, "")
        if not user.is_admin:
            filters.team = ""
        if filters.tier not in {t.value for t in Tier}:
            filters.tier = ""
        if filters.status not in STATUS_FILTERS:
            filters.status = ""
        if filters.phase not in {p.value for p in Phase}:
            filters.phase = ""
        if not MONTH.match(filters.close):
            filters.close = ""
        for name in DATE_RANGES:
            if _day(getattr(filters, name)) is None:
                setattr(filters, name, "")
        if filters.lost_reason not in {r.value for r in LostReason} | {NO_REASON}:
            filters.lost_reason = ""
        if filters.sort not in SORTS:
            filters.sort = "updated"
        filters.flagged = "1" if filters.flagged in {"1", "on", "y"} else ""
        return filters

    def as_args(self, **changes: str) -> dict[str, str]:
        """The non-empty filters (with `changes`), for building URLs."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return {name: value for name, value in values.items() if value}

    @property
    def keeps_whole_stages(self) -> bool:
        """Whether the board's matches are whole stages and statuses: nothing narrows them
        but the status and the phase (the board ignores the stage and the sort)."""
        ignored = {"status", "phase", "stage", "sort"}
        return not any(getattr(self, f.name) for f in fields(self) if f.name not in ignored)

    @property
    def ranges(self) -> dict[str, str]:
        """The set filters shown as removable chips (not in the form's fields)."""
        names = (*DATE_RANGES, "lost_reason", "lost_to", "been_in")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day and 1900 <= day.year <= 2999 else None


def _local_days(column, first: str, last: str, user: User) -> list:
    """A UTC timestamp column within whole local days [first, last] in the user's zone."""
    zone, conditions = user_zone(user), []
    if first:
        conditions.append(column >= local_midnight_utc(_day(first), zone))
    if last:
        conditions.append(column < local_midnight_utc(_day(last) + timedelta(days=1), zone))
    return conditions


def _conditions(filters: OpportunityFilters, user: User, *, with_stage: bool = True) -> list:
    conditions: list = _local_days(
        Opportunity.closed_at, filters.closed_from, filters.closed_to, user
    ) + _local_days(Opportunity.created_at, filters.created_from, filters.created_to, user)
    if filters.lost_reason == NO_REASON:
        conditions.append(Opportunity.lost_reason.is_(None))
    elif filters.lost_reason:
        conditions.append(Opportunity.lost_reason == LostReason(filters.lost_reason))
    if filters.lost_to:
        conditions.append(Opportunity.lost_to_id == int(filters.lost_to))
    if filters.been_in:
        # What "average days in each stage" counts: a stretch in the stage, not while lost.
        conditions.append(
            exists().where(
                OpportunityHistory.opportunity_id == Opportunity.id,
                OpportunityHistory.stage_id == int(filters.been_in),
                OpportunityHistory.status != OpportunityStatus.LOST,
            )
        )
    if filters.q:
        like = f"%{filters.q}%"
        conditions.append(or_(Opportunity.title.like(like), Customer.name.like(like)))
    if filters.owner:
        conditions.append(Opportunity.owner_id == int(filters.owner))
    if filters.team:
        conditions.append(
            Opportunity.owner_id.in_(select(User.id).where(User.team_id == int(filters.team)))
        )
    if filters.tier:
        conditions.append(Customer.tier == Tier(filters.tier))
    if filters.status == "":
        conditions.append(Opportunity.status != OpportunityStatus.LOST)
    elif filters.status != "all":
        conditions.append(Opportunity.status == OpportunityStatus(filters.status))
    if filters.phase:
        in_phase = select(Stage.id).where(Stage.phase == Phase(filters.phase))
        conditions.append(Opportunity.stage_id.in_(in_phase))
    if filters.stage and with_stage:
        conditions.append(Opportunity.stage_id == int(filters.stage))
    if filters.close:
        year, month = (int(part) for part in filters.close.split("-"))
        first = date(year, month, 1)
        last = date(year, month, monthrange(year, month)[1])
        conditions.append(Opportunity.expected_close.between(first, last))
    if filters.customer:
        conditions.append(Opportunity.customer_id == int(filters.customer))
    if filters.flagged:
        conditions.append(missing_decision_maker())
    return conditions


def _scoped(
    stmt: Select,
    user: User,
    conditions: list,
    *,
    join_stage: bool = True,
    join_customer: bool = True,
) -> Select:
    """`stmt` over the opportunities in the user's scope that meet the conditions.

    `join_customer=False`: join the customer only if the scope or a condition reads it (a
    scope by owner, a tier, a name). An admin's board counts without it: reading 120,000
    customers by key for nothing was most of its totals' time.
    """
    scope = customer_scope(user)
    stmt = stmt.select_from(Opportunity)
    if join_customer or _reads_customer(scope, *conditions):
        stmt = stmt.join(Opportunity.customer)
    if join_stage:  # the list sorts by stage; the board needs no stage columns
        stmt = stmt.join(Opportunity.stage)
    return stmt.where(scope, *conditions)


def _reads_customer(*clauses: ColumnElement) -> bool:
    return any(Customer.__table__ in find_tables(c, check_columns=True) for c in clauses)


def board_matches(stmt: Select, user: User, filters: OpportunityFilters) -> Select:
    """`stmt` over what the board shows: the opportunities in scope that the filters match
    (the board has a column per stage: it ignores the stage filter), joined to their
    customer only if the scope or a filter reads it."""
    conditions = _conditions(filters, user, with_stage=False)
    return _scoped(stmt, user, conditions, join_stage=False, join_customer=False)


def search_opportunities(
    user: User, filters: OpportunityFilters, *, with_relations: bool = True
) -> Select:
    """The scoped, filtered and sorted SELECT of opportunities for the list (not paginated).

    `with_relations`: load the customer, stage and owner the page shows with each row (their
    columns it shows, not the whole archive record); the API shows ids only, and loading
    whole customer and owner rows cost more than its rows.
    """
    stmt = _scoped(select(Opportunity), user, _conditions(filters, user))
    if with_relations:
        stmt = stmt.options(
            load_only(*LIST_COLUMNS),
            contains_eager(Opportunity.customer).load_only(Customer.name, Customer.tier),
            contains_eager(Opportunity.stage),
            joinedload(Opportunity.owner).load_only(User.display_name),
        )
    return stmt.order_by(*sorted_whole(SORTS[filters.sort], viewer=user))


def owner_choices(user: User, *, chosen: str = "") -> Shortlist:
    """Whom the user may filter by (a supervisor their team, an admin everyone), as the
    filter's picker shows them: the first by name and the chosen one. A manager: nobody."""
    if user.is_manager:
        return Shortlist()
    return people_shortlist(user, chosen=int(chosen) if is_record_id(chosen) else None)


def team_choices(user: User) -> list[Team]:
    if user.is_admin:
        return list(db.session.scalars(select(Team).order_by(Team.name)))
    if user.is_supervisor:
        return list(db.session.scalars(select(Team).where(Team.id.in_(led_team_ids(user)))))
    return []


def customers_to_open_for(text: str, *, viewer: User) -> list[Customer]:
    """The viewer's customers in scope whose name contains the text, by name (20 at most)."""
    stmt = visible_customers(viewer).order_by(Customer.name, Customer.id).limit(20)
    if text:
        stmt = stmt.where(Customer.name.like(f"%{text}%"))
    return list(db.session.scalars(stmt))
