"""Customers lost in a period, with the warning signals they showed in the six months before.

The supervisor's home lists them each quarter so that the next one is seen in time. The
signals are the health history's (HealthSnapshot.signals, written each day a customer's
health changed): every signal of a snapshot in the six months before the loss, and of the
last snapshot before those six months (still standing when they began), with the day
each was first seen. One statement: the customers, their owner and competitor, and their
health history.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.i18n import user_zone
from crm.permissions import customer_scope
from crm.services.health.signals import BY_CODE
from crm.services.reporting.metrics import Period
from models import Competitor, Customer, CustomerStatus, HealthSnapshot, LossReason, User

SIGNAL_MONTHS = 6
SHOWN = 20  # the home lists this many; the customer list has them all


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it has fewer)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class SignalSeen:
    code: str
    since: date  # the first day a snapshot in the window (or standing at its start) had it

    @property
    def label(self) -> Any:
        signal = BY_CODE.get(self.code)
        return signal.label if signal else self.code


@dataclass
class LostCustomer:
    customer_id: int
    name: str
    owner: str
    lost_on: date  # in the viewer's time zone
    reason: LossReason | None
    competitor: str | None
    signals: list[SignalSeen] = field(default_factory=list)


@dataclass(frozen=True)
class LostInPeriod:
    customers: list[LostCustomer]
    more: bool  # more were lost than the list shows


def lost_ids_query(period: Period, *, viewer: User, owner_ids: list[int] | None = None) -> Select:
    """The ids of the customers `lost_in` shows, and one more (there are more)."""
    chosen = (
        select(Customer.id)
        .where(
            customer_scope(viewer),
            Customer.status == CustomerStatus.LOST,
            period.contains(Customer.lost_at),
        )
        .order_by(Customer.lost_at.desc(), Customer.id.desc())
        .limit(SHOWN + 1)
    )
    if owner_ids is not None:
        chosen = chosen.where(Customer.owner_id.in_(owner_ids))
    return chosen


def lost_in(period: Period, *, viewer: User, owner_ids: list[int] | None = None) -> LostInPeriod:
    """The customers in the viewer's scope (of these owners) lost in `period`, newest first."""
    zone = user_zone(viewer)
    chosen = lost_ids_query(period, viewer=viewer, owner_ids=owner_ids)
    owner = aliased(User)
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.lost_at,
            Customer.lost_reason,
            owner.display_name.label("owner"),
            Competitor.name.label("competitor"),
            HealthSnapshot.day,
            HealthSnapshot.signals,
        )
        .join(owner, owner.id == Customer.owner_id)
        .outerjoin(Competitor, Competitor.id == Customer.lost_to_id)
        # Every change of health up to the end of the period: a signal standing since
        # before the six months shows in the last change before them.
        .outerjoin(
            HealthSnapshot,
            and_(HealthSnapshot.customer_id == Customer.id, HealthSnapshot.day <= period.last),
        )
        .where(Customer.id.in_(chosen))
        .order_by(Customer.lost_at.desc(), Customer.id.desc(), HealthSnapshot.day)
    )
    lost: dict[int, LostCustomer] = {}
    history: dict[int, list[tuple[date, list[str]]]] = {}
    for row in db.session.execute(stmt):
        if row.id not in lost:
            lost[row.id] = LostCustomer(
                row.id,
                row.name,
                row.owner,
                row.lost_at.astimezone(zone).date(),
                row.lost_reason,
                row.competitor,
            )
            history[row.id] = []
        if row.day is not None:
            history[row.id].append((row.day, list(row.signals or ())))
    customers = list(lost.values())
    for customer in customers:
        customer.signals = signals_before(history[customer.customer_id], customer.lost_on)
    return LostInPeriod(customers[:SHOWN], more=len(customers) > SHOWN)


def signals_before(snapshots: list[tuple[date, list[str]]], lost_on: date) -> list[SignalSeen]:
    """The signals of the six months before `lost_on`, in the order they were first seen.

    `snapshots`: (day, signal codes), oldest first.
    """
    start = months_before(lost_on, SIGNAL_MONTHS)
    standing = [snapshot for snapshot in snapshots if snapshot[0] < start][-1:]
    window = [snapshot for snapshot in snapshots if start <= snapshot[0] <= lost_on]
    first_seen: dict[str, date] = {}
    for day, codes in standing + window:
        for code in codes:
            first_seen.setdefault(code, day)
    return [SignalSeen(code, since) for code, since in first_seen.items()]
