"""The early-warning list: customers in scope by health band, worst first, why each is there."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.orm import contains_eager

from crm.extensions import db
from crm.permissions import scoped
from crm.services.archive.identity import is_record_id
from crm.services.health.signals import BY_CODE
from models import Customer, CustomerHealth, CustomerStatus, HealthBand, User

# The list shows those at risk unless asked for the watch band instead.
BANDS = (HealthBand.AT_RISK, HealthBand.WATCH)
SORTS = {
    "score": (CustomerHealth.score, Customer.name),
    "-score": (CustomerHealth.score.desc(), Customer.name),
    "since": (CustomerHealth.at_risk_since, Customer.name),  # longest at risk first
    "-since": (CustomerHealth.at_risk_since.desc(), Customer.name),
    "name": (Customer.name,),
    "tier": (Customer.tier, CustomerHealth.score),
}


@dataclass
class AtRiskFilters:
    """What the list is narrowed to; read from and written back to the URL's query."""

    band: str = HealthBand.AT_RISK.value
    signal: str = ""
    owner: str = ""
    sort: str = "score"

    @classmethod
    def from_args(cls, args: Any) -> AtRiskFilters:
        """Build from request.args; unknown values fall back to the defaults, never an error."""
        values = {f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)}
        filters = cls(**values)
        if filters.band not in {band.value for band in BANDS}:
            filters.band = HealthBand.AT_RISK.value
        if filters.signal not in BY_CODE:
            filters.signal = ""
        if not is_record_id(filters.owner):
            filters.owner = ""
        if filters.sort not in SORTS:
            filters.sort = "score"
        return filters

    def as_args(self) -> dict[str, str]:
        defaults = AtRiskFilters()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) and getattr(self, f.name) != getattr(defaults, f.name)
        }


def has_signal(code: str) -> ColumnElement[bool]:
    """The customer's current health names the signal among its factors (by the codes
    stored beside them, which the band-and-score index holds)."""
    return CustomerHealth.signal_codes.contains(f" {code} ", autoescape=True)


def in_band(band: HealthBand) -> ColumnElement[bool]:
    # Lost customers leave the list at once, not at the next pass.
    return (CustomerHealth.band == band) & (Customer.status != CustomerStatus.LOST)


def at_risk_list(viewer: User, filters: AtRiskFilters) -> Select:
    """SELECT of CustomerHealth rows in the viewer's scope (with what the list shows of
    their customer and its owner), filtered and sorted: paginate it."""
    # Only the columns a line shows: whole customer and owner rows cost more to load than
    # the health rows themselves (an admin's page of 50).
    customer = contains_eager(CustomerHealth.customer)
    stmt = (
        scoped(CustomerHealth, viewer)
        .where(in_band(HealthBand(filters.band)))
        .options(
            customer.load_only(Customer.name, Customer.tier, Customer.owner_id),
            customer.joinedload(Customer.owner).load_only(User.display_name),
        )
    )
    if filters.signal:
        stmt = stmt.where(has_signal(filters.signal))
    if filters.owner:
        stmt = stmt.where(Customer.owner_id == int(filters.owner))
    return stmt.order_by(*SORTS[filters.sort], Customer.id)


def count_at_risk(viewer: User) -> int:
    """How many customers in the viewer's scope are at risk (the homes' link)."""
    stmt = scoped(CustomerHealth, viewer).where(in_band(HealthBand.AT_RISK))
    return db.session.scalar(stmt.with_only_columns(func.count()))
