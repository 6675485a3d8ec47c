"""The customer list's search, filters and sort, shared by the list page and the export."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select

from crm.extensions import db
from crm.permissions import customer_scope, visible_customers
from crm.services.activity.cadence import silent_rule
from crm.services.archive import search_index
from crm.services.archive.identity import is_record_id, normalise_credit_code, normalise_name
from crm.services.figures.trend import BANDS_BY_KEY, trend_condition
from crm.services.filters import ListFilters
from crm.services.people.picker import people_shortlist
from crm.services.pickers import Shortlist
from models import (
    BuyingRole,
    Contact,
    Customer,
    CustomerStatus,
    Strategy,
    Tier,
    User,
)

# Tiers sort by value (A+ first), not by their spelling ("A" < "A+").
TIER_RANK = case({tier: rank for rank, tier in enumerate(Tier)}, value=Customer.tier, else_=9)

SORTS = {
    "name": (Customer.name, Customer.id),
    "-name": (Customer.name.desc(), Customer.id.desc()),
    "tier": (TIER_RANK, Customer.name, Customer.id),
    "updated": (Customer.updated_at.desc(), Customer.id.desc()),
    "expiry": (Customer.contract_expiry, Customer.id),
    "spend": (Customer.annual_spend.desc(), Customer.id),
    # The steepest fall first; customers without a trend last.
    "trend": (Customer.revenue_trend.asc().nulls_last(), Customer.id),
}

# The same order by name, spelled so that no index on name can deliver it. A
# supervisor's scope is `owner_id IN (a team)`: PostgreSQL otherwise walks
# ix_customers_name through the whole table, betting that the team's customers
# are spread evenly over the alphabet (34 ms at province scale), instead of
# fetching the team's ~1000 rows by ix_customers_owner_id_name and sorting them (3 ms).
_NAME_UNINDEXED = Customer.name.concat("")
OWNER_LIST_SORTS = {
    **SORTS,
    "name": (_NAME_UNINDEXED, Customer.id),
    "-name": (_NAME_UNINDEXED.desc(), Customer.id.desc()),
}


@dataclass
class CustomerFilters(ListFilters):
    """What the list is narrowed to; read from and written back to the URL's query."""

    q: str = ""
    tier: str = ""
    strategy: str = ""
    industry: str = ""
    region: str = ""
    status: str = ""
    owner: str = ""
    no_decision_maker: str = ""
    silent: str = ""
    trend: str = ""  # a revenue trend band (crm/services/figures/trend.py)
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Any) -> CustomerFilters:
        """Build from request.args; unknown values are dropped, never an error."""
        values = {f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)}
        filters = cls(**values)
        if filters.tier not in {t.value for t in Tier}:
            filters.tier = ""
        if filters.strategy not in {s.value for s in Strategy}:
            filters.strategy = ""
        if filters.status not in {s.value for s in CustomerStatus}:
            filters.status = ""
        if not is_record_id(filters.industry):
            filters.industry = ""
        if not is_record_id(filters.owner):
            filters.owner = ""
        if filters.trend not in BANDS_BY_KEY:
            filters.trend = ""
        if filters.sort not in SORTS:
            filters.sort = "name"
        filters.no_decision_maker = "1" if filters.no_decision_maker in {"1", "on", "y"} else ""
        filters.silent = "1" if filters.silent in {"1", "on", "y"} else ""
        return filters


def has_decision_maker():
    """EXISTS clause: the customer has an active decision-maker contact."""
    return exists().where(
        and_(
            Contact.customer_id == Customer.id,
            Contact.role == BuyingRole.DECISION_MAKER,
            Contact.active.is_(True),
        )
    )


def search_customers(user: User, filters: CustomerFilters) -> Select:
    """The scoped, filtered and sorted SELECT of customers (not yet paginated)."""
    stmt = visible_customers(user)
    if filters.q:
        like = f"%{filters.q}%"
        key = normalise_name(filters.q)
        contact_match = exists().where(
            and_(
                Contact.customer_id == Customer.id,
                or_(Contact.name.like(like), Contact.mobile.like(like)),
            )
        )
        credit_code = normalise_credit_code(filters.q)
        conditions = [Customer.name.like(like), Customer.credit_code == credit_code, contact_match]
        if key:
            conditions.append(Customer.name_key.like(f"%{key}%"))
        # The LIKEs decide; the bigram index picks the customers they need to look at.
        candidates = search_index.narrowing(
            [filters.q, key] if key else [filters.q],
            credit_code,
            narrowed=not user.is_admin
            or bool(filters.tier or filters.region or filters.industry or filters.owner),
        )
        if candidates is not None:
            stmt = stmt.where(candidates)
        stmt = stmt.where(or_(*conditions))
    if filters.tier:
        stmt = stmt.where(Customer.tier == Tier(filters.tier))
    if filters.strategy:
        stmt = stmt.where(Customer.strategy == Strategy(filters.strategy))
    if filters.status:
        stmt = stmt.where(Customer.status == CustomerStatus(filters.status))
    if filters.industry:
        stmt = stmt.where(Customer.industry_id == int(filters.industry))
    if filters.region:
        stmt = stmt.where(Customer.region == filters.region)
    if filters.owner:
        stmt = stmt.where(Customer.owner_id == int(filters.owner))
    if filters.no_decision_maker:
        stmt = stmt.where(~has_decision_maker())
    if filters.silent:
        stmt = stmt.where(silent_rule(user).filter())
    if filters.trend:
        stmt = stmt.where(trend_condition(filters.trend))
    sorts = OWNER_LIST_SORTS if user.is_supervisor and not filters.owner else SORTS
    return stmt.order_by(*sorts[filters.sort])


def count_statement(stmt: Select) -> Select:
    """SELECT count(*) over a customer search, without its ORDER BY."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def with_decision_maker(customer_ids: list[int]) -> set[int]:
    """Which of these customers have an active decision-maker contact."""
    if not customer_ids:
        return set()
    return set(
        db.session.scalars(
            select(Contact.customer_id).where(
                Contact.customer_id.in_(customer_ids),
                Contact.role == BuyingRole.DECISION_MAKER,
                Contact.active.is_(True),
            )
        )
    )


def regions_in_scope(*, viewer: User) -> list[str]:
    """The distinct regions of the customers the viewer sees, for the region filter."""
    if not viewer.is_admin:
        # A portfolio is a few thousand rows at most, read from ix_customers_owner_id_region.
        stmt = (
            select(Customer.region)
            .where(customer_scope(viewer), Customer.region.is_not(None))
            .distinct()
            .order_by(Customer.region)
        )
        return list(db.session.scalars(stmt))
    # Over the whole table PostgreSQL's DISTINCT reads all 100k rows (~30 ms); hop from
    # one region to the next through ix_customers_region instead (one probe per region).
    regions = select(func.min(Customer.region).label("region")).cte("regions", recursive=True)
    following = (
        select(func.min(Customer.region))
        .where(Customer.region > regions.c.region)
        .scalar_subquery()
    )
    regions = regions.union_all(select(following).where(regions.c.region.is_not(None)))
    stmt = select(regions.c.region).where(regions.c.region.is_not(None)).order_by(regions.c.region)
    return list(db.session.scalars(stmt))


def owner_filter_choices(*, viewer: User, chosen: str = "") -> Shortlist:
    """The owners a list's filter offers, as its picker shows them: the first by name and the
    chosen one; an admin's list has every user (~1,100 at province scale) to type for."""
    return people_shortlist(viewer, chosen=int(chosen) if is_record_id(chosen) else None)
