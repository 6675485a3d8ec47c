"""Home-page figures: a manager's day and a team table, one grouped query per figure.

Every figure is an SQL aggregate over the managers in view (GROUP BY owner), so
a page runs the same number of statements for 2 managers or 200 and for 5
customers or 5,000. Periods are the viewer's local week, month and quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import customer_scope, owner_scope
from crm.scheduler import last_tick
from crm.services import metrics
from crm.services.cadence import silent_rule
from crm.services.customer_search import CustomerFilters, count_statement, search_customers
from models import (
    Customer,
    MessageStatus,
    Opportunity,
    OpportunityStatus,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Role,
    Stage,
    Target,
    Team,
    Tier,
    User,
    Visit,
)
from models.base import utcnow

KEY_TIERS = (Tier.A_PLUS, Tier.A)
OPEN, WON, LOST = OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST


@dataclass
class Periods:
    """The viewer's current week, month and quarter."""

    today: date
    week: metrics.Period
    month: metrics.Period
    quarter: metrics.Period


def periods_for(viewer: User, now: datetime | None = None) -> Periods:
    zone = user_zone(viewer)
    today = today_in(zone, now)
    return Periods(
        today,
        metrics.week_of(today, zone),
        metrics.month_of(today, zone),
        metrics.quarter_of(today, zone),
    )


@dataclass
class ManagerRow:
    """One manager's line in the team table."""

    manager: User
    tiers: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(Tier, 0))
    silent: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(KEY_TIERS, 0))
    visits_week: int = 0
    visits_month: int = 0
    new_month: int = 0
    open_count: int = 0
    open_amount: Decimal = Decimal(0)
    open_weighted: Decimal = Decimal(0)
    won_month_count: int = 0
    won_month: Decimal = Decimal(0)
    won_quarter_count: int = 0
    won_quarter: Decimal = Decimal(0)
    lost_quarter_count: int = 0
    overdue: int = 0
    target: Target | None = None

    @property
    def customers(self) -> int:
        return sum(self.tiers.values())

    @property
    def silent_key(self) -> int:
        return sum(self.silent.values())

    @property
    def win_rate(self) -> Decimal | None:
        """Won ÷ (won + lost) of the opportunities closed this quarter."""
        return metrics.win_rate(self.won_quarter_count, self.lost_quarter_count)

    @property
    def visit_target(self) -> int:
        return self.target.weekly_visits if self.target else 0

    @property
    def won_target(self) -> Decimal:
        return self.target.quarterly_won if self.target else Decimal(0)


SORT_KEYS = {
    "name": lambda r: r.manager.display_name,
    "customers": lambda r: r.customers,
    "visits_week": lambda r: r.visits_week,
    "visits_month": lambda r: r.visits_month,
    "new": lambda r: r.new_month,
    "pipeline": lambda r: r.open_amount,
    "weighted": lambda r: r.open_weighted,
    "won_month": lambda r: r.won_month,
    "won_quarter": lambda r: r.won_quarter,
    "win_rate": lambda r: r.win_rate if r.win_rate is not None else Decimal(-1),
    "overdue": lambda r: r.overdue,
    "silent": lambda r: r.silent_key,
    "last_login": lambda r: r.manager.last_login_at.timestamp() if r.manager.last_login_at else 0,
}


def managers_in_view(viewer: User, team_id: int | None = None) -> list[User]:
    """The active managers whose figures the viewer sees (themselves, their team, everyone)."""
    stmt = (
        select(User)
        .options(joinedload(User.team))
        .where(User.active.is_(True), owner_scope(viewer, User.id))
        .order_by(User.display_name, User.id)
    )
    if viewer.role is not Role.MANAGER:
        stmt = stmt.where(User.role == Role.MANAGER)
    if team_id:
        stmt = stmt.where(User.team_id == team_id)
    return list(db.session.scalars(stmt))


def team_table(
    viewer: User, managers: list[User], *, now: datetime | None = None, sort: str = "name"
) -> list[ManagerRow]:
    """One row per manager, filled by six grouped queries (plus the cadences)."""
    p = periods_for(viewer, now)
    rows = {m.id: ManagerRow(m) for m in managers}
    ids = list(rows)
    if not ids:
        return []
    in_scope = customer_scope(viewer)
    for owner_id, tier, count in db.session.execute(
        select(Customer.owner_id, Customer.tier, func.count())
        .where(Customer.owner_id.in_(ids), in_scope)
        .group_by(Customer.owner_id, Customer.tier)
    ):
        rows[owner_id].tiers[tier] = count
    rule = silent_rule(viewer, now=now)
    for owner_id, tier, count in db.session.execute(
        select(Customer.owner_id, Customer.tier, func.count())
        .where(Customer.owner_id.in_(ids), in_scope, Customer.tier.in_(KEY_TIERS), rule.filter())
        .group_by(Customer.owner_id, Customer.tier)
    ):
        rows[owner_id].silent[tier] = count
    # The week can start in last month or end in the next: read both periods whole.
    since, until = min(p.week.start, p.month.start), max(p.week.end, p.month.end)
    for user_id, week, month in db.session.execute(
        select(
            Visit.user_id,
            metrics.count_where(p.week.contains(Visit.occurred_at)),
            metrics.count_where(p.month.contains(Visit.occurred_at)),
        )
        .where(Visit.user_id.in_(ids), Visit.occurred_at >= since, Visit.occurred_at < until)
        .group_by(Visit.user_id)
    ):
        rows[user_id].visits_week, rows[user_id].visits_month = int(week), int(month)
    _opportunity_figures(rows, p)
    for owner_id, count in db.session.execute(
        select(Reminder.owner_id, func.count())
        .where(
            Reminder.owner_id.in_(ids),
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on < p.today,
        )
        .group_by(Reminder.owner_id)
    ):
        rows[owner_id].overdue = count
    for target in db.session.scalars(select(Target).where(Target.user_id.in_(ids))):
        rows[target.user_id].target = target
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["name"])
    return sorted(rows.values(), key=key, reverse=sort.startswith("-"))


def _opportunity_figures(rows: dict[int, ManagerRow], p: Periods) -> None:
    open_ = Opportunity.status == OPEN
    won_month = (Opportunity.status == WON) & p.month.contains(Opportunity.closed_at)
    won_quarter = (Opportunity.status == WON) & p.quarter.contains(Opportunity.closed_at)
    lost_quarter = (Opportunity.status == LOST) & p.quarter.contains(Opportunity.closed_at)
    stmt = (
        select(
            Opportunity.owner_id,
            metrics.count_where(p.month.contains(Opportunity.created_at)),
            metrics.count_where(open_),
            metrics.amount_sum(open_),
            metrics.weighted_sum(open_),
            metrics.count_where(won_month),
            metrics.amount_sum(won_month),
            metrics.count_where(won_quarter),
            metrics.amount_sum(won_quarter),
            metrics.count_where(lost_quarter),
        )
        .where(Opportunity.owner_id.in_(list(rows)))
        .group_by(Opportunity.owner_id)
    )
    for owner_id, new, n_open, amount, weight, n_wm, wm, n_wq, wq, n_lq in db.session.execute(stmt):
        row = rows[owner_id]
        row.new_month, row.open_count = int(new), int(n_open)
        row.open_amount, row.open_weighted = metrics.money(amount), metrics.weighted(weight)
        row.won_month_count, row.won_month = int(n_wm), metrics.money(wm)
        row.won_quarter_count, row.won_quarter = int(n_wq), metrics.money(wq)
        row.lost_quarter_count = int(n_lq)


# A manager's day -------------------------------------------------------------


@dataclass
class StageLine:
    stage: Stage
    count: int
    amount: Decimal
    weighted: Decimal


def pipeline_by_stage(viewer: User, owner_ids: list[int]) -> list[StageLine]:
    """Open opportunities per stage: count, amount and weighted amount (two queries)."""
    stages = {s.id: s for s in db.session.scalars(select(Stage).order_by(Stage.position))}
    totals = {
        stage_id: (count, amount, weight)
        for stage_id, count, amount, weight in db.session.execute(
            select(Opportunity.stage_id, func.count(), metrics.amount_sum(), metrics.weighted_sum())
            .join(Opportunity.customer)
            .where(Opportunity.owner_id.in_(owner_ids), Opportunity.status == OPEN)
            .where(customer_scope(viewer))
            .group_by(Opportunity.stage_id)
        )
    }
    return [
        StageLine(
            stage, totals[sid][0], metrics.money(totals[sid][1]), metrics.weighted(totals[sid][2])
        )
        for sid, stage in stages.items()
        if sid in totals
    ]


@dataclass
class Closing:
    count: int
    amount: Decimal
    rows: list[Opportunity]


def closing_in(
    viewer: User, owner_ids: list[int], month: metrics.Period, limit: int = 10
) -> Closing:
    """Open opportunities expected to close in the month: totals, and the first few."""
    where = (
        Opportunity.owner_id.in_(owner_ids),
        Opportunity.status == OPEN,
        Opportunity.expected_close.between(month.first, month.last),
        customer_scope(viewer),
    )
    count, amount = db.session.execute(
        select(func.count(), metrics.amount_sum()).join(Opportunity.customer).where(*where)
    ).one()
    rows = db.session.scalars(
        select(Opportunity)
        .join(Opportunity.customer)
        .options(joinedload(Opportunity.customer), joinedload(Opportunity.stage))
        .where(*where)
        .order_by(Opportunity.expected_close, Opportunity.id)
        .limit(limit)
    )
    return Closing(count, metrics.money(amount), list(rows))


def missing_decision_maker_count(viewer: User) -> int:
    """Customers of the viewer's own without an active decision maker (as the list counts)."""
    filters = CustomerFilters(owner=str(viewer.id), no_decision_maker="1")
    return db.session.scalar(count_statement(search_customers(viewer, filters)))


# Admin: teams and system health ---------------------------------------------


def teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


@dataclass
class Health:
    outbox: dict[MessageStatus, int]
    last_tick: datetime | None
    now: datetime

    @property
    def backlog(self) -> int:
        return self.outbox[MessageStatus.PENDING] + self.outbox[MessageStatus.SENDING]

    @property
    def failed(self) -> int:
        return self.outbox[MessageStatus.FAILED]

    @property
    def tick_minutes_ago(self) -> int | None:
        if self.last_tick is None:
            return None
        return int((self.now - self.last_tick).total_seconds() // 60)


def system_health(now: datetime | None = None) -> Health:
    """The outbox by status (one grouped query) and the scheduler's last tick."""
    counts = dict.fromkeys(MessageStatus, 0)
    counts.update(
        dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    )
    return Health(counts, last_tick(), now or utcnow())
