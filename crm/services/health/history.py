"""The trend: a customer's score and band on each day they changed, and who worsened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import scoped
from crm.services.health.signals import BY_CODE
from models import Customer, CustomerHealth, CustomerStatus, HealthBand, HealthSnapshot, User

# Worse is further down this list.
BAND_ORDER = {HealthBand.HEALTHY: 0, HealthBand.WATCH: 1, HealthBand.AT_RISK: 2}
HISTORY_DAYS_SHOWN = 100  # rows of one customer's history page (a change a day at most)


def customer_history(customer: Customer, *, viewer: User) -> list[HealthSnapshot]:
    """The customer's recorded changes, newest first (none out of the viewer's scope)."""
    return list(
        db.session.scalars(
            scoped(HealthSnapshot, viewer)
            .where(HealthSnapshot.customer_id == customer.id)
            .order_by(HealthSnapshot.day.desc())
            .limit(HISTORY_DAYS_SHOWN)
        )
    )


def current_health(customer: Customer, *, viewer: User) -> CustomerHealth | None:
    """The customer's health as the last pass left it.

    The customer page loads it with the customer (in scope, so its health is too): no
    statement then; otherwise one.
    """
    if "health" in customer.__dict__:
        return customer.health
    return db.session.scalar(
        scoped(CustomerHealth, viewer).where(CustomerHealth.customer_id == customer.id)
    )


@dataclass(frozen=True)
class Worsened:
    """A customer whose health is worse now than on a given day, and what is new."""

    customer: Customer
    health: CustomerHealth
    before_score: int
    before_band: HealthBand
    new_signals: list[str]

    @property
    def band_fell(self) -> bool:
        return BAND_ORDER[self.health.band] > BAND_ORDER[self.before_band]

    @property
    def new_signal_labels(self) -> list[Any]:
        return [BY_CODE[code].label for code in self.new_signals if code in BY_CODE]


def worsened_since(owners: Select | Iterable[int], since: date, limit: int = 50) -> list[Worsened]:
    """Customers of these owners scoring lower now than on `since` (band falls first).

    Only customers with a change recorded since that day can have worsened, so the
    history's day index finds the candidates; the state on the day is each one's last
    row before it. A customer first assessed since then has nothing to compare with.
    """
    if not isinstance(owners, Select):
        owners = list(owners)
    changed = (
        select(HealthSnapshot.customer_id)
        .join(Customer, Customer.id == HealthSnapshot.customer_id)
        .where(
            HealthSnapshot.day >= since,
            Customer.owner_id.in_(owners),
            Customer.status != CustomerStatus.LOST,
        )
        .distinct()
    )
    last_before = (
        select(HealthSnapshot.customer_id, func.max(HealthSnapshot.day).label("day"))
        .where(HealthSnapshot.day < since, HealthSnapshot.customer_id.in_(changed))
        .group_by(HealthSnapshot.customer_id)
        .subquery()
    )
    rows = db.session.execute(
        select(HealthSnapshot, CustomerHealth)
        .join(
            last_before,
            (last_before.c.customer_id == HealthSnapshot.customer_id)
            & (last_before.c.day == HealthSnapshot.day),
        )
        .join(CustomerHealth, CustomerHealth.customer_id == HealthSnapshot.customer_id)
        .where(CustomerHealth.score < HealthSnapshot.score)
        .options(joinedload(CustomerHealth.customer).joinedload(Customer.owner))
    ).all()
    found = [
        Worsened(
            customer=health.customer,
            health=health,
            before_score=before.score,
            before_band=before.band,
            new_signals=[
                factor["signal"]
                for factor in health.factors
                if factor["signal"] not in (before.signals or [])
            ],
        )
        for before, health in rows
    ]
    found.sort(
        key=lambda w: (
            -(BAND_ORDER[w.health.band] - BAND_ORDER[w.before_band]),
            w.health.score - w.before_score,
            w.customer.name,
        )
    )
    return found[:limit]
