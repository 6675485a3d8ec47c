"""Home-page figures: a manager's day and a team table, one grouped query per figure.

Every figure is an SQL aggregate over the managers in view (GROUP BY owner), so
a page runs the same number of statements for 2 managers or 200 and for 5
customers or 5,000. Periods are the viewer's local week, month and quarter.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, literal, select, union_all
from sqlalchemy.orm import joinedload, load_only

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import customer_scope, owner_scope
from crm.request_cache import per_request
from crm.services.activity.cadence import silent_rule
from crm.services.archive.search import CustomerFilters, count_statement, search_customers
from crm.services.followups.scheduler_state import last_tick
from crm.services.health.at_risk import in_band
from crm.services.reporting import metrics
from crm.services.tickets import summary as ticket_summary
from models import (
    Customer,
    CustomerHealth,
    HealthBand,
    MessageStatus,
    Opportunity,
    OpportunityStatus,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Role,
    Stage,
    Team,
    Tier,
    User,
    Visit,
)
from models.base import utcnow

KEY_TIERS = (Tier.A_PLUS, Tier.A)
TIERS = tuple(Tier)  # iterating the Enum class per row costs more than the row itself
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
class Figures:
    """One line of the team table: a manager's figures, or the sum of a team's."""

    _: KW_ONLY
    tiers: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
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
    overdue_tickets: int = 0  # service tickets of the manager's customers past their due time
    visit_target: int = 0
    won_target: Decimal = Decimal(0)

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

    def add(self, other: Figures) -> None:
        for name in FIGURE_FIELDS:
            mine = getattr(self, name)
            if isinstance(mine, dict):
                for key, value in getattr(other, name).items():
                    mine[key] += value
            else:
                setattr(self, name, mine + getattr(other, name))


FIGURE_FIELDS = tuple(f.name for f in fields(Figures))


def figures_json(line: Figures) -> dict:
    """A line's figures as JSON values (the scheduler keeps the all-teams lines)."""
    data: dict = {}
    for name in FIGURE_FIELDS:
        value = getattr(line, name)
        if isinstance(value, dict):
            data[name] = {tier.value: n for tier, n in value.items()}
        else:
            data[name] = str(value) if isinstance(value, Decimal) else value
    return data


def load_figures(line: Figures, data: dict) -> Figures:
    """Fill `line` from `figures_json`'s values; a figure missing there stays 0."""
    for name in FIGURE_FIELDS:
        if name not in data:
            continue
        mine = getattr(line, name)
        if isinstance(mine, dict):
            mine.update({Tier(tier): int(n) for tier, n in data[name].items()})
        elif isinstance(mine, Decimal):
            setattr(line, name, Decimal(data[name]))
        else:
            setattr(line, name, int(data[name]))
    return line


@dataclass
class ManagerRow(Figures):
    manager: User


@dataclass
class TeamRow(Figures):
    """An admin's all-teams view: one line per team, its managers' figures summed."""

    team: Team | None  # None: managers in no team
    managers: int = 0


def team_rows(rows: list[ManagerRow], *, sort: str = "name") -> list[TeamRow]:
    """Sum manager rows by team, sorted as the table asks."""
    teams: dict[int | None, TeamRow] = {}
    for row in rows:
        team = row.manager.team
        line = teams.setdefault(team.id if team else None, TeamRow(team=team))
        line.add(row)
        line.managers += 1
    return sort_team_lines(list(teams.values()), sort)


def sort_team_lines(lines: list[TeamRow], sort: str = "name") -> list[TeamRow]:
    """As the table asks; by name, managers in no team last (a team has no sign-in)."""
    by_name = sorted(lines, key=lambda t: (t.team is None, t.team.name if t.team else ""))
    key = sort.lstrip("-")
    if key in ("name", "last_login"):  # a team has no sign-in of its own
        return by_name[::-1] if sort.startswith("-") else by_name
    return sorted(by_name, key=SORT_KEYS[key], reverse=sort.startswith("-"))


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
    """The active managers whose figures the viewer sees (themselves, their team, everyone),
    with their targets joined for the team table (the reports read `managers_named`)."""
    stmt = (
        select(User)
        .options(
            # What the team table shows of a manager; an admin's view holds a thousand.
            # timezone: the plan columns cut each manager's own week.
            load_only(
                User.display_name,
                User.role,
                User.active,
                User.team_id,
                User.last_login_at,
                User.timezone,
            ),
            joinedload(User.team).load_only(Team.name, Team.supervisor_id),
            joinedload(User.target),
        )
        .where(*_in_view(viewer, team_id))
        .order_by(User.display_name, User.id)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class ManagerInView:
    """What the reports read of each manager in view: no User row (an admin's are a
    thousand, and loading them as rows cost a quarter of the reports' time)."""

    id: int
    display_name: str
    team_id: int | None
    timezone: str


def managers_named(viewer: User, team_id: int | None = None) -> list[ManagerInView]:
    """`managers_in_view`'s managers, in its order, as the reports need them."""
    stmt = (
        select(User.id, User.display_name, User.team_id, User.timezone)
        .where(*_in_view(viewer, team_id))
        .order_by(User.display_name, User.id)
    )
    return [ManagerInView(*row) for row in db.session.execute(stmt)]


def _in_view(viewer: User, team_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [User.active.is_(True), owner_scope(viewer, User.id)]
    if not viewer.is_manager:
        conditions.append(User.role == Role.MANAGER)
    if team_id:
        conditions.append(User.team_id == team_id)
    return conditions


@dataclass(frozen=True)
class Headline:
    """The home's cards over the viewer's scope: customers, at risk, silent per tier."""

    customers: int
    at_risk: int
    silent_by_tier: dict[Tier, int]


@dataclass
class CustomerFigures:
    """Customers per owner and tier over the viewer's whole scope, with the silent ones."""

    by_owner: dict[int, dict[Tier, tuple[int, int]]]  # owner -> tier -> (customers, silent)
    at_risk: int = 0  # customers whose health band is "at risk" (the homes link the list)

    @property
    def total(self) -> int:
        return sum(n for tiers in self.by_owner.values() for n, _ in tiers.values())

    def headline(self) -> Headline:
        return Headline(self.total, self.at_risk, self.silent_by_tier)

    @property
    def silent_by_tier(self) -> dict[Tier, int]:
        counts = dict.fromkeys(TIERS, 0)
        for tiers in self.by_owner.values():
            for tier, (_, silent) in tiers.items():
                counts[tier] += silent
        return counts


def customer_figures(viewer: User, *, now: datetime | None = None) -> CustomerFigures:
    """One grouped pass over the scope's customers: the home's count, silent tiers and
    every manager's customers by tier come from the same rows."""
    rule = silent_rule(viewer, now=now)
    by_owner: dict[int, dict[Tier, tuple[int, int]]] = {}
    at_risk = 0
    for row in db.session.execute(
        select(
            Customer.owner_id,
            Customer.tier,
            func.count().label("customers"),
            metrics.count_where(rule.filter()).label("silent"),
            metrics.count_where(in_band(HealthBand.AT_RISK)).label("at_risk"),
        )
        # The health row rides along on its primary key: no statement of its own.
        .outerjoin(CustomerHealth, CustomerHealth.customer_id == Customer.id)
        .where(customer_scope(viewer))
        .group_by(Customer.owner_id, Customer.tier)
    ):
        by_owner.setdefault(row.owner_id, {})[row.tier] = (row.customers, int(row.silent))
        at_risk += int(row.at_risk)
    return CustomerFigures(by_owner, at_risk)


def team_table(
    viewer: User,
    managers: list[User],
    *,
    now: datetime | None = None,
    sort: str = "name",
    customers: CustomerFigures | None = None,
) -> list[ManagerRow]:
    """One row per manager, filled by five grouped queries (fewer when `customers` is given)."""
    p = periods_for(viewer, now)
    rows = {m.id: ManagerRow(m) for m in managers}
    ids = list(rows)
    if not ids:
        return []
    customers = customers or customer_figures(viewer, now=now)
    for owner_id, row in rows.items():
        for tier, (count, silent) in customers.by_owner.get(owner_id, {}).items():
            row.tiers[tier] = count
            if tier in KEY_TIERS:
                row.silent[tier] = silent

    # Visits this week, this month, and overdue follow-ups per owner: three plain
    # counts over index ranges, in one round trip (UNION ALL). Counting the week and
    # the month as CASE sums over one wider range would cost twice as much.
    overdue = (
        select(
            literal("overdue").label("kind"),
            Reminder.owner_id.label("owner_id"),
            func.count().label("count"),
        )
        .where(
            metrics.among_owners(Reminder.owner_id, ids),
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on < p.today,
        )
        .group_by(Reminder.owner_id)
    )
    counts = union_all(
        visits_logged("week", ids, p.week),
        visits_logged("month", ids, p.month),
        overdue,
        # Overdue service tickets per customer owner ride in the same round trip.
        ticket_summary.overdue_per_owner(viewer, ids, now or utcnow()),
    )
    for figure in db.session.execute(counts):
        row = rows.get(figure.owner_id)
        if row is None:
            continue
        if figure.kind == "week":
            row.visits_week = figure.count
        elif figure.kind == "month":
            row.visits_month = figure.count
        elif figure.kind == "tickets":
            row.overdue_tickets = figure.count
        else:
            row.overdue = figure.count
    _opportunity_figures(rows, p)
    for row in rows.values():
        if row.manager.target:  # joined by managers_in_view
            row.visit_target = row.manager.target.weekly_visits
            row.won_target = row.manager.target.quarterly_won
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["name"])
    return sorted(rows.values(), key=key, reverse=sort.startswith("-"))


# The home's counting rules. The monthly plan's actual figures use them too
# (crm/services/plans/month_actuals.py), so a plan and the home never disagree.


def visits_logged(kind: str, owner_ids: list[int], period: metrics.Period) -> Select:
    """Visits per user who logged them, in the period (their local days): (kind, owner_id,
    count), `kind` naming the part of a UNION."""
    return (
        select(
            literal(kind).label("kind"),
            Visit.user_id.label("owner_id"),
            func.count().label("count"),
        )
        .where(metrics.among_owners(Visit.user_id, owner_ids), period.contains(Visit.occurred_at))
        .group_by(Visit.user_id)
    )


def created_in(period: metrics.Period) -> ColumnElement[bool]:
    """A new opportunity, counted for its owner in the period it was created in."""
    return period.contains(Opportunity.created_at)


def won_in(period: metrics.Period) -> ColumnElement[bool]:
    """A won opportunity (count and amount), counted for its owner in the period it closed."""
    return (Opportunity.status == WON) & period.contains(Opportunity.closed_at)


def _opportunity_figures(rows: dict[int, ManagerRow], p: Periods) -> None:
    """Open pipeline, this quarter's closes and this month's new opportunities per owner.

    Three parts in one UNION ALL, each read through its own index (status, closed_at,
    created_at) rather than one pass over every opportunity the owners ever had. Every
    part has the same labelled columns (a UNION's columns are its first part's); each
    fills its own figures and 0 for the others'.
    """
    owned = metrics.among_owners(Opportunity.owner_id, list(rows))
    won_month = won_in(p.month)
    won_quarter = Opportunity.status == WON
    lost_quarter = Opportunity.status == LOST

    def part(kind: str, where: ColumnElement[bool], **figures) -> Select:
        return (
            select(
                literal(kind).label("kind"),
                Opportunity.owner_id.label("owner_id"),
                *(figures.get(name, literal(0)).label(name) for name in OPPORTUNITY_FIGURES),
            )
            .where(owned, where)
            .group_by(Opportunity.owner_id)
        )

    open_part = part(
        "open",
        Opportunity.status == OPEN,
        open_count=func.count(),
        open_amount=metrics.amount_sum(),
        open_weighted=metrics.weighted_sum(),
    )
    closed_part = part(  # the month lies within its quarter
        "closed",
        p.quarter.contains(Opportunity.closed_at),
        won_month_count=metrics.count_where(won_month),
        won_month=metrics.amount_sum(won_month),
        won_quarter_count=metrics.count_where(won_quarter),
        won_quarter=metrics.amount_sum(won_quarter),
        lost_quarter_count=metrics.count_where(lost_quarter),
    )
    new_part = part("new", created_in(p.month), new_month=func.count())
    for figures in db.session.execute(union_all(open_part, closed_part, new_part)):
        row = rows.get(figures.owner_id)
        if row is None:
            continue
        if figures.kind == "open":
            row.open_count = int(figures.open_count)
            row.open_amount = metrics.money(figures.open_amount)
            row.open_weighted = metrics.weighted(figures.open_weighted)
        elif figures.kind == "closed":
            row.won_month_count = int(figures.won_month_count)
            row.won_month = metrics.money(figures.won_month)
            row.won_quarter_count = int(figures.won_quarter_count)
            row.won_quarter = metrics.money(figures.won_quarter)
            row.lost_quarter_count = int(figures.lost_quarter_count)
        else:
            row.new_month = int(figures.new_month)


# The columns of _opportunity_figures' union, named as the ManagerRow fields they fill.
OPPORTUNITY_FIGURES = (
    "open_count",
    "open_amount",
    "open_weighted",
    "won_month_count",
    "won_month",
    "won_quarter_count",
    "won_quarter",
    "lost_quarter_count",
    "new_month",
)


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
        row.stage_id: row
        for row in db.session.execute(
            select(
                Opportunity.stage_id,
                func.count().label("count"),
                metrics.amount_sum().label("amount"),
                metrics.weighted_sum().label("weighted"),
            )
            .join(Opportunity.customer)
            .where(Opportunity.owner_id.in_(owner_ids), Opportunity.status == OPEN)
            .where(customer_scope(viewer))
            .group_by(Opportunity.stage_id)
        )
    }
    return [
        StageLine(
            stage,
            totals[sid].count,
            metrics.money(totals[sid].amount),
            metrics.weighted(totals[sid].weighted),
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
    """Every team by name, read once a request (the admin's home asks twice)."""
    return per_request("teams", lambda: list(db.session.scalars(select(Team).order_by(Team.name))))


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
