"""Reports over a period: visits and won amount over time, pipeline movement, win rate,
tier coverage. Each is one grouped query over the managers in view, and each
turns into CSV rows (`*_rows`) with the same numbers the page shows.

Pipeline movement per manager: entered = opportunities created in the period;
advanced = history rows in the period that moved to a later stage than the row
before (LAG over the history); won / lost = closed in the period with that result.
Tier coverage: of a manager's A+ and A customers (not lost), the share with a
visit within their tier's cadence before the period ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select

from crm.extensions import db
from crm.i18n import local_midnight_utc
from crm.services.activity.cadence import cadence_days
from crm.services.reporting import metrics
from models import (
    Customer,
    CustomerStatus,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Stage,
    Tier,
    User,
    Visit,
)

KEY_TIERS = (Tier.A_PLUS, Tier.A)


def bucket_label(bucket: metrics.Period) -> str:
    if bucket.kind == "month":
        return format_date(bucket.first, "yyyy-MM")
    if bucket.first == bucket.last:
        return format_date(bucket.first, "MM-dd")
    return f"{format_date(bucket.first, 'MM-dd')}–{format_date(bucket.last, 'MM-dd')}"


@dataclass
class Series:
    """Figures per manager per time bucket, with totals both ways."""

    buckets: list[metrics.Period]
    managers: list[User]
    values: dict[tuple[int, int], Decimal | int] = field(default_factory=dict)

    def get(self, manager_id: int, index: int):
        return self.values.get((manager_id, index), 0)

    def bucket_total(self, index: int):
        return sum(self.get(m.id, index) for m in self.managers)

    def manager_total(self, manager_id: int):
        return sum(self.get(manager_id, i) for i in range(len(self.buckets)))


def visits_over_time(managers: list[User], period: metrics.Period) -> Series:
    """Visits per manager per bucket (day, week or month), in the viewer's zone."""
    buckets = period.buckets()
    slot = metrics.bucket_index(Visit.occurred_at, buckets)
    series = Series(buckets, managers)
    for row in db.session.execute(
        select(Visit.user_id, slot.label("bucket"), func.count().label("visits"))
        .where(Visit.user_id.in_([m.id for m in managers]), period.contains(Visit.occurred_at))
        .group_by(Visit.user_id, slot)
    ):
        series.values[(row.user_id, row.bucket)] = row.visits
    return series


def won_over_time(managers: list[User], period: metrics.Period) -> Series:
    """Won amount per manager per bucket (closed in the bucket)."""
    buckets = period.buckets()
    slot = metrics.bucket_index(Opportunity.closed_at, buckets)
    series = Series(buckets, managers)
    for row in db.session.execute(
        select(Opportunity.owner_id, slot.label("bucket"), metrics.amount_sum().label("won"))
        .where(
            Opportunity.owner_id.in_([m.id for m in managers]),
            Opportunity.status == OpportunityStatus.WON,
            period.contains(Opportunity.closed_at),
        )
        .group_by(Opportunity.owner_id, slot)
    ):
        series.values[(row.owner_id, row.bucket)] = metrics.money(row.won)
    return series


@dataclass
class Movement:
    manager: User
    entered: int = 0
    advanced: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)

    @property
    def win_rate(self) -> Decimal | None:
        return metrics.win_rate(self.won, self.lost)


def pipeline_movement(managers: list[User], period: metrics.Period) -> list[Movement]:
    """Entered, advanced, won and lost per manager in the period (two grouped queries)."""
    rows = {m.id: Movement(m) for m in managers}
    ids = list(rows)
    won = (Opportunity.status == OpportunityStatus.WON) & period.contains(Opportunity.closed_at)
    lost = (Opportunity.status == OpportunityStatus.LOST) & period.contains(Opportunity.closed_at)
    for figures in db.session.execute(
        select(
            Opportunity.owner_id.label("owner_id"),
            metrics.count_where(period.contains(Opportunity.created_at)).label("entered"),
            metrics.count_where(won).label("won"),
            metrics.count_where(lost).label("lost"),
            metrics.amount_sum(won).label("won_amount"),
        )
        .where(Opportunity.owner_id.in_(ids))
        .group_by(Opportunity.owner_id)
    ):
        row = rows[figures.owner_id]
        row.entered, row.won, row.lost = int(figures.entered), int(figures.won), int(figures.lost)
        row.won_amount = metrics.money(figures.won_amount)
    H = OpportunityHistory
    # Only the opportunities that moved in the period, and their rows up to its end (each
    # row in it needs the one before): over every team the whole history, 600,000 rows at
    # province, took 620 ms to number for a week's moves.
    moved = select(H.opportunity_id).where(period.contains(H.at))
    moves = (
        select(
            Opportunity.owner_id.label("owner_id"),
            H.at.label("at"),
            Stage.position.label("position"),
            func.lag(Stage.position)
            .over(partition_by=H.opportunity_id, order_by=(H.at, H.id))
            .label("previous"),
        )
        .join(Stage, Stage.id == H.stage_id)
        .join(Opportunity, Opportunity.id == H.opportunity_id)
        .where(
            Opportunity.owner_id.in_(ids),
            H.opportunity_id.in_(moved),
            H.at < period.end,
        )
        .subquery()
    )
    for owner_id, count in db.session.execute(
        select(moves.c.owner_id, func.count())
        .where(moves.c.position > moves.c.previous, period.contains(moves.c.at))
        .group_by(moves.c.owner_id)
    ):
        rows[owner_id].advanced = count
    return list(rows.values())


@dataclass
class Coverage:
    manager: User
    key_customers: int = 0
    covered: int = 0

    @property
    def share(self) -> Decimal | None:
        if not self.key_customers:
            return None
        return (Decimal(self.covered * 100) / self.key_customers).quantize(Decimal("0.1"))


def tier_coverage(managers: list[User], period: metrics.Period) -> list[Coverage]:
    """Per manager: A+/A customers, and those visited within cadence before the period ends."""
    rows = {m.id: Coverage(m) for m in managers}
    cadences = cadence_days()
    last_day = period.last
    per_tier = [
        and_(
            Customer.tier == tier,
            Visit.occurred_at
            >= local_midnight_utc(last_day - timedelta(days=cadences[tier]), period.zone),
        )
        for tier in KEY_TIERS
    ]
    visited = exists().where(
        Visit.customer_id == Customer.id, Visit.occurred_at < period.end, or_(*per_tier)
    )
    for row in db.session.execute(
        select(
            Customer.owner_id,
            func.count().label("key_customers"),
            metrics.count_where(visited).label("covered"),
        )
        .where(
            Customer.owner_id.in_(list(rows)),
            Customer.tier.in_(KEY_TIERS),
            Customer.status != CustomerStatus.LOST,
        )
        .group_by(Customer.owner_id)
    ):
        rows[row.owner_id].key_customers = row.key_customers
        rows[row.owner_id].covered = int(row.covered)
    return list(rows.values())


# CSV rows ----------------------------------------------------------------------


def series_rows(series: Series, what: str) -> list[list]:
    head = [_("Manager"), *[bucket_label(b) for b in series.buckets], _("Total")]
    body = [
        [
            m.display_name,
            *[series.get(m.id, i) for i in range(len(series.buckets))],
            series.manager_total(m.id),
        ]
        for m in series.managers
    ]
    total = [
        _("Total"),
        *[series.bucket_total(i) for i in range(len(series.buckets))],
        sum(series.manager_total(m.id) for m in series.managers),
    ]
    return [head, *body, total]


def movement_rows(rows: list[Movement]) -> list[list]:
    head = [
        _("Manager"),
        _("Entered"),
        _("Advanced"),
        _("Won"),
        _("Lost"),
        _("Won amount"),
        _("Win rate (%)"),
    ]
    return [
        head,
        *[
            [
                r.manager.display_name,
                r.entered,
                r.advanced,
                r.won,
                r.lost,
                r.won_amount,
                "" if r.win_rate is None else r.win_rate,
            ]
            for r in rows
        ],
    ]


def coverage_rows(rows: list[Coverage]) -> list[list]:
    head = [_("Manager"), _("A+ and A customers"), _("Visited within cadence"), _("Coverage (%)")]
    return [
        head,
        *[
            [r.manager.display_name, r.key_customers, r.covered, "" if r.share is None else r.share]
            for r in rows
        ],
    ]
