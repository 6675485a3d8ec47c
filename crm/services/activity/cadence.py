"""Visit cadences per tier and the silent-customer rule (沉默客户).

The rule, in the viewing user's time zone: a customer's quiet days are
today − the local date of its last visit (of its creation when never visited).
It is silent when its quiet days EXCEED its tier's cadence: on the day the
cadence is reached (quiet days == cadence) it is not yet silent; the day after,
it is. With a 14-day cadence and a visit on 1 November, it is silent from
16 November. Lost customers are never silent: nobody is expected to visit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, func, or_, select

from crm.extensions import db
from crm.i18n import local_midnight_utc, today_in, user_zone
from crm.permissions import customer_scope
from crm.request_cache import per_request
from crm.services.errors import DomainError, NotAllowed
from crm.services.seed import DEFAULT_CADENCE_DAYS
from models import Customer, CustomerStatus, Tier, TierCadence, User

MIN_DAYS, MAX_DAYS = 1, 365


def cadence_days() -> dict[Tier, int]:
    """Days between visits per tier (the defaults fill a tier missing from the table)."""
    query = select(TierCadence.tier, TierCadence.days)
    stored = per_request("cadences", lambda: dict(db.session.execute(query).all()))
    return {tier: stored.get(tier, DEFAULT_CADENCE_DAYS[tier]) for tier in Tier}


def set_cadences(days: dict[Tier, int], *, actor: User) -> dict[Tier, int]:
    """Replace the cadence of each given tier (admins only; 1–365 days)."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only administrators may change visit cadences."))
    for tier, value in days.items():
        if not isinstance(value, int) or not MIN_DAYS <= value <= MAX_DAYS:
            raise DomainError(
                _l("A cadence is from %(low)d to %(high)d days.", low=MIN_DAYS, high=MAX_DAYS),
                field=f"tier_{Tier(tier).name.lower()}",
            )
    rows = {row.tier: row for row in db.session.scalars(select(TierCadence))}
    for tier, value in days.items():
        tier = Tier(tier)
        if tier in rows:
            rows[tier].days = value
        else:
            db.session.add(TierCadence(tier=tier, days=value))
    db.session.flush()
    return cadence_days()


@dataclass(frozen=True)
class SilentRule:
    """The silent-customer rule for one user's today; build it with `silent_rule(user)`."""

    today: date
    zone: ZoneInfo
    cadences: dict[Tier, int]

    def cutoff(self, tier: Tier) -> datetime:
        """Customers of `tier` last visited (or created) before this UTC instant are silent."""
        # quiet days > cadence  <=>  local last day < today - cadence  <=>  before its midnight
        return local_midnight_utc(self.today - timedelta(days=self.cadences[tier]), self.zone)

    def quiet_days(self, customer: Customer) -> int:
        """Days since the last visit (or since the customer was created), in the user's zone."""
        since = customer.last_visit_at or customer.created_at
        return (self.today - since.astimezone(self.zone).date()).days

    def is_silent(self, customer: Customer) -> bool:
        if customer.status is CustomerStatus.LOST:
            return False
        return self.quiet_days(customer) > self.cadences[customer.tier]

    def filter(self) -> ColumnElement[bool]:
        """WHERE clause: the customer is silent (an OR of one range test per tier)."""
        return silent_condition({tier: self.cutoff(tier) for tier in Tier})


def silent_condition(cutoffs: Mapping[Tier, Any]) -> ColumnElement[bool]:
    """WHERE clause: not lost, and last visited (or created, never visited) before its
    tier's cutoff: an instant, or a bound parameter for a statement built once."""
    per_tier = [
        and_(
            Customer.tier == tier,
            or_(
                Customer.last_visit_at < cutoff,
                and_(Customer.last_visit_at.is_(None), Customer.created_at < cutoff),
            ),
        )
        for tier, cutoff in cutoffs.items()
    ]
    return and_(Customer.status != CustomerStatus.LOST, or_(false(), *per_tier))


def silent_rule(user: User, *, now: datetime | None = None) -> SilentRule:
    """The rule as it applies today in the user's time zone (one query for the cadences)."""
    zone = user_zone(user)
    return SilentRule(today=today_in(zone, now), zone=zone, cadences=cadence_days())


def silent_filter(zone: ZoneInfo, today: date) -> ColumnElement[bool]:
    """WHERE clause for customer queries: silent as seen on `today` in `zone`."""
    return SilentRule(today=today, zone=zone, cadences=cadence_days()).filter()


def count_silent_by_tier(user: User, *, now: datetime | None = None) -> dict[Tier, int]:
    """Silent customers in the user's scope per tier, every tier present (one grouped query)."""
    rule = silent_rule(user, now=now)
    rows = db.session.execute(
        select(Customer.tier, func.count())
        .where(customer_scope(user), rule.filter())
        .group_by(Customer.tier)
    )
    counts = dict.fromkeys(Tier, 0)
    counts.update(dict(rows.all()))
    return counts
