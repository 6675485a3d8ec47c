"""Reports over a period: visits and won amount over time, pipeline movement, win rate,
tier coverage. Each is one grouped query over the managers in view, summed into the
report's lines (a manager's, or a team's: `lines_for`), and each turns into CSV rows
(`*_rows`) with the same numbers the page shows.

Pipeline movement per manager: entered = opportunities created in the period;
advanced = history rows in the period that moved to a later stage than the row
before (LAG over the history); won / lost = closed in the period with that result.
Tier coverage: of a manager's A+ and A customers (not lost), the share with a
visit within their tier's cadence before the period ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, union_all

from crm.extensions import db
from crm.i18n import local_midnight_utc
from crm.services.activity import visits
from crm.services.activity.cadence import cadence_days
from crm.services.reporting import metrics
from models import (
    Customer,
    CustomerStatus,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Stage,
    Team,
    Tier,
    Visit,
)
from models.base import utcnow

KEY_TIERS = (Tier.A_PLUS, Tier.A)


def bucket_label(bucket: metrics.Period) -> str:
    if bucket.kind == "month":
        return format_date(bucket.first, "yyyy-MM")
    if bucket.first == bucket.last:
        return format_date(bucket.first, "MM-dd")
    return f"{format_date(bucket.first, 'MM-dd')}–{format_date(bucket.last, 'MM-dd')}"


@dataclass(frozen=True)
class Line:
    """A report's line: one manager's figures, or a team's managers' summed."""

    id: int | None  # the manager's or the team's (None: the managers in no team)
    name: str
    is_team: bool = False

    @property
    def filters(self) -> dict[str, int]:
        """The opportunity list's filter for the line's figures (none: no team)."""
        if self.id is None:
            return {}
        return {"team" if self.is_team else "owner": self.id}


@dataclass(frozen=True)
class Lines:
    """The lines of a report, and the line each manager's figures count in."""

    lines: list[Line]
    of_manager: dict[int, Line]
    by_team: bool = False

    @property
    def manager_ids(self) -> list[int]:
        return list(self.of_manager)


class InView(Protocol):
    """A manager as the reports read one: a User, or dashboards.ManagerInView."""

    id: int
    display_name: str
    team_id: int | None
    timezone: str  # the plans report's deadlines are in the manager's own time


def lines_for(
    managers: Sequence[InView], *, by_team: bool = False, teams: Sequence[Team] = ()
) -> Lines:
    """A line per manager, in their order; or per team by name (`teams`: their names),
    managers in no team last.

    An admin who chose no team sees the teams: a thousand managers' lines made a table
    nobody reads, and a page whose cost grew with the organisation.
    """
    if not by_team:
        of_manager = {m.id: Line(m.id, m.display_name) for m in managers}
        return Lines(list(of_manager.values()), of_manager)
    names = {team.id: team.name for team in teams}
    lines: dict[int | None, Line] = {}
    of_manager = {}
    for m in managers:
        if m.team_id not in lines:
            name = names[m.team_id] if m.team_id is not None else _("No team")
            lines[m.team_id] = Line(m.team_id, name, is_team=True)
        of_manager[m.id] = lines[m.team_id]
    ordered = sorted(lines.values(), key=lambda line: (line.id is None, line.name))
    return Lines(ordered, of_manager, by_team=True)


@dataclass
class Series:
    """Figures per line per time bucket, with totals both ways."""

    buckets: list[metrics.Period]
    lines: list[Line]
    values: dict[tuple[Line, int], Decimal | int] = field(default_factory=dict)

    def add_for(self, lines: Lines, manager_id: int, index: int, value: Decimal | int) -> None:
        """Count a manager's figure in their line (none: an owner outside the view)."""
        line = lines.of_manager.get(manager_id)
        if line is not None:
            self.values[(line, index)] = self.get(line, index) + value

    def get(self, line: Line, index: int):
        return self.values.get((line, index), 0)

    def bucket_total(self, index: int):
        return sum(self.get(line, index) for line in self.lines)

    def line_total(self, line: Line):
        return sum(self.get(line, i) for i in range(len(self.buckets)))


def visits_over_time(lines: Lines, period: metrics.Period) -> Series:
    """Visits per line per bucket (day, week or month), in the viewer's zone."""
    buckets = period.buckets()
    slot = metrics.bucket_index(Visit.occurred_at, buckets)
    series = Series(buckets, lines.lines)
    for row in db.session.execute(
        select(Visit.user_id, slot.label("bucket"), func.count().label("visits"))
        .where(
            metrics.among_owners(Visit.user_id, lines.manager_ids),
            period.contains(Visit.occurred_at),
        )
        .group_by(Visit.user_id, slot)
    ):
        series.add_for(lines, row.user_id, row.bucket, row.visits)
    return series


def won_over_time(lines: Lines, period: metrics.Period) -> Series:
    """Won amount per line per bucket (closed in the bucket)."""
    buckets = period.buckets()
    slot = metrics.bucket_index(Opportunity.closed_at, buckets)
    series = Series(buckets, lines.lines)
    for row in db.session.execute(
        select(Opportunity.owner_id, slot.label("bucket"), metrics.amount_sum().label("won"))
        .where(
            metrics.among_owners(Opportunity.owner_id, lines.manager_ids),
            Opportunity.status == OpportunityStatus.WON,
            period.contains(Opportunity.closed_at),
        )
        .group_by(Opportunity.owner_id, slot)
    ):
        series.add_for(lines, row.owner_id, row.bucket, metrics.money(row.won))
    return series


@dataclass
class Movement:
    line: Line
    entered: int = 0
    advanced: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)

    @property
    def win_rate(self) -> Decimal | None:
        return metrics.win_rate(self.won, self.lost)


# The columns of pipeline_movement's union (a UNION's columns are its first part's).
MOVEMENT_FIGURES = ("entered", "won", "lost", "won_amount")


def pipeline_movement(lines: Lines, period: metrics.Period) -> list[Movement]:
    """Entered, advanced, won and lost per line in the period (two statements).

    Entered and closed are two parts of one UNION ALL, each read through its date's
    index: over every team, one pass over every opportunity the owners ever had took
    about 200 ms at province.
    """
    rows = {line: Movement(line) for line in lines.lines}
    owned = metrics.among_owners(Opportunity.owner_id, lines.manager_ids)
    won = Opportunity.status == OpportunityStatus.WON
    lost = Opportunity.status == OpportunityStatus.LOST

    def part(where: ColumnElement[bool], **figures: ColumnElement) -> Select:
        columns = dict.fromkeys(MOVEMENT_FIGURES, literal(0)) | figures
        return (
            select(
                Opportunity.owner_id.label("owner_id"),
                *(columns[name].label(name) for name in MOVEMENT_FIGURES),
            )
            .where(owned, where)
            .group_by(Opportunity.owner_id)
        )

    entered = part(period.contains(Opportunity.created_at), entered=func.count())
    closed = part(
        period.contains(Opportunity.closed_at),
        won=metrics.count_where(won),
        lost=metrics.count_where(lost),
        won_amount=metrics.amount_sum(won),
    )
    for figures in db.session.execute(union_all(entered, closed)):
        row = rows.get(lines.of_manager.get(figures.owner_id))
        if row is None:  # an owner outside the view (see among_owners)
            continue
        row.entered += int(figures.entered)
        row.won += int(figures.won)
        row.lost += int(figures.lost)
        row.won_amount += metrics.money(figures.won_amount)
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
        .where(owned, H.opportunity_id.in_(moved), H.at < period.end)
        .subquery()
    )
    for owner_id, count in db.session.execute(
        select(moves.c.owner_id, func.count())
        .where(moves.c.position > moves.c.previous, period.contains(moves.c.at))
        .group_by(moves.c.owner_id)
    ):
        row = rows.get(lines.of_manager.get(owner_id))
        if row is not None:
            row.advanced += count
    return list(rows.values())


@dataclass
class Coverage:
    line: Line
    key_customers: int = 0
    covered: int = 0

    @property
    def share(self) -> Decimal | None:
        if not self.key_customers:
            return None
        return (Decimal(self.covered * 100) / self.key_customers).quantize(Decimal("0.1"))


def tier_coverage(
    lines: Lines, period: metrics.Period, now: datetime | None = None
) -> list[Coverage]:
    """Per line: A+/A customers, and those visited within cadence before the period ends."""
    rows = {line: Coverage(line) for line in lines.lines}
    cadences = cadence_days()
    cutoffs = {
        tier: local_midnight_utc(period.last - timedelta(days=cadences[tier]), period.zone)
        for tier in KEY_TIERS
    }
    if period.end > (now or utcnow()) + visits.FUTURE_SLACK:
        # No visit lies after a period that has not ended (none is logged in the future):
        # a visit within cadence is the customer's last visit on or after the cutoff, which
        # the customers' owner index holds. Over every team, looking for a visit per
        # customer took about 75 ms at province.
        visited = or_(
            *(
                and_(Customer.tier == tier, Customer.last_visit_at >= cutoff)
                for tier, cutoff in cutoffs.items()
            )
        )
    else:
        visited = exists().where(
            Visit.customer_id == Customer.id,
            Visit.occurred_at < period.end,
            or_(
                *(
                    and_(Customer.tier == tier, Visit.occurred_at >= cutoff)
                    for tier, cutoff in cutoffs.items()
                )
            ),
        )
    for row in db.session.execute(
        select(
            Customer.owner_id,
            func.count().label("key_customers"),
            metrics.count_where(visited).label("covered"),
        )
        .where(
            metrics.among_owners(Customer.owner_id, lines.manager_ids),
            Customer.tier.in_(KEY_TIERS),
            Customer.status != CustomerStatus.LOST,
        )
        .group_by(Customer.owner_id)
    ):
        line = rows.get(lines.of_manager.get(row.owner_id))
        if line is None:  # an owner outside the view (see among_owners)
            continue
        line.key_customers += row.key_customers
        line.covered += int(row.covered)
    return list(rows.values())


# CSV rows ----------------------------------------------------------------------


def line_heading(lines: list[Line]) -> str:
    """The first column's heading: whose lines these are."""
    return _("Team") if any(line.is_team for line in lines) else _("Manager")


def series_rows(series: Series, what: str) -> list[list]:
    head = [line_heading(series.lines), *[bucket_label(b) for b in series.buckets], _("Total")]
    body = [
        [
            line.name,
            *[series.get(line, i) for i in range(len(series.buckets))],
            series.line_total(line),
        ]
        for line in series.lines
    ]
    total = [
        _("Total"),
        *[series.bucket_total(i) for i in range(len(series.buckets))],
        sum(series.line_total(line) for line in series.lines),
    ]
    return [head, *body, total]


def movement_rows(rows: list[Movement]) -> list[list]:
    head = [
        line_heading([r.line for r in rows]),
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
                r.line.name,
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
    head = [
        line_heading([r.line for r in rows]),
        _("A+ and A customers"),
        _("Visited within cadence"),
        _("Coverage (%)"),
    ]
    return [
        head,
        *[
            [r.line.name, r.key_customers, r.covered, "" if r.share is None else r.share]
            for r in rows
        ],
    ]
