"""The team's sheet (ranking, indicator by indicator, with the change against the previous
period), the department's view over every team, and the sheet as CSV rows.

The CSV keeps the layout of the operators' sheet: one line per indicator (code, name, how
it is scored, weight), then each manager's actual and points, then the temporary tasks,
the total and the rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.labels import label
from crm.services.assessment import catalog, store
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.scoring import Card, Line
from crm.services.assessment.store import Stored, StoredTotal
from models import AssessmentPublication, Level, Team, User

TOTAL = "total"


@dataclass
class TeamRow:
    manager: User
    stored: Stored
    previous: StoredTotal | None
    rank: int = 0

    @property
    def card(self) -> Card:
        return self.stored.card

    def points(self, code: str) -> Decimal | None:
        if code == TOTAL:
            return self.card.total
        if code == catalog.TASKS:
            return self.card.task_points
        line = self.card.line(code)
        return line.points if line else None

    def line(self, code: str) -> Line | None:
        return self.card.line(code)

    def change(self, code: str) -> Decimal | None:
        """Points against the previous period's (None: nothing to compare with)."""
        now = self.points(code)
        if now is None or self.previous is None:
            return None
        before = self.previous.total if code == TOTAL else self.previous.points.get(code)
        return None if before is None else now - before


@dataclass
class TeamSheet:
    period: AssessmentPeriod
    team: Team
    rows: list[TeamRow]
    codes: list[str]  # the indicators any of the team's levels assesses, in the sheet's order
    publication: AssessmentPublication | None
    history: list[AssessmentPublication] = field(default_factory=list)
    computed_at: datetime | None = None
    sort: str = TOTAL

    @property
    def live(self) -> bool:
        """Computed for this page: no draft is stored yet."""
        return self.publication is None and self.computed_at is None

    @property
    def has_tasks(self) -> bool:
        return any(row.card.task_weight for row in self.rows)


def sort_keys() -> tuple[str, ...]:
    return (TOTAL, *catalog.CODES, catalog.TASKS)


def team_sheet(period: AssessmentPeriod, team: Team, *, sort: str = TOTAL) -> TeamSheet:
    managers = store.assessed_managers(team.id)
    cards = store.team_cards(period, team, managers)
    previous = store.stored_totals(period.previous(), [m.id for m in managers])
    rows = [
        TeamRow(m, cards.cards[m.id], previous.get(m.id)) for m in managers if m.id in cards.cards
    ]
    key = sort if sort in sort_keys() else TOTAL
    rows.sort(key=lambda r: (-(r.points(key) if r.points(key) is not None else Decimal(-9999)),))
    _rank(rows, key)
    used = {line.code for row in rows for line in row.card.lines}
    codes = [code for code in catalog.CODES if code in used]
    history = store.publications(period, team.id) if cards.publication else []
    return TeamSheet(period, team, rows, codes, cards.publication, history, cards.computed_at, key)


def _rank(rows: list[TeamRow], key: str) -> None:
    """1, 2, 2, 4: equal points share a rank (rows are sorted already)."""
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        value = row.points(key)
        if value != previous:
            rank, previous = position, value
        row.rank = rank


# The department: every team ------------------------------------------------------------


@dataclass
class TeamLine:
    team: Team
    managers: int = 0
    totals: list[Decimal] = field(default_factory=list)
    previous: list[Decimal] = field(default_factory=list)
    publication: AssessmentPublication | None = None

    @property
    def average(self) -> Decimal | None:
        return _average(self.totals)

    @property
    def change(self) -> Decimal | None:
        before = _average(self.previous)
        return None if before is None or self.average is None else self.average - before

    @property
    def highest(self) -> Decimal | None:
        return max(self.totals, default=None)

    @property
    def lowest(self) -> Decimal | None:
        return min(self.totals, default=None)


def _average(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def _latest(rows) -> dict[int, tuple[int | None, Decimal]]:
    """Per manager, the team and total of the latest publication, else of the draft."""
    found: dict[int, tuple[int, int | None, Decimal]] = {}
    for user_id, team_id, publication_id, total in rows:
        rank = publication_id or 0
        if user_id not in found or found[user_id][0] < rank:
            found[user_id] = (rank, team_id, total)
    return {user_id: (team_id, total) for user_id, (_r, team_id, total) in found.items()}


def department(period: AssessmentPeriod, teams: list[Team] | None = None) -> list[TeamLine]:
    """One line per team (of those given, else every team) from the stored cards."""
    if teams is None:
        teams = list(
            db.session.scalars(
                select(Team).options(joinedload(Team.supervisor)).order_by(Team.name)
            )
        )
    lines = {team.id: TeamLine(team) for team in teams}
    # The teams' managers and their cards only: a supervisor's page read the whole
    # department's and grew with the organisation (2.7× from a tenth to a province).
    members = {m.id: m.team_id for m in store.assessed_managers(team_ids=list(lines))}
    user_ids = list(members)
    now = _latest(store.summary_rows(period, user_ids))
    before = _latest(store.summary_rows(period.previous(), user_ids))
    for user_id, team_id in members.items():
        line = lines.get(team_id)
        if line is None:
            continue
        line.managers += 1
        if user_id in now:
            line.totals.append(now[user_id][1])
        if user_id in before:
            line.previous.append(before[user_id][1])
    for team_id, publication in store.latest_publications(period).items():
        if team_id in lines:
            lines[team_id].publication = publication
    return list(lines.values())


# CSV ---------------------------------------------------------------------------------


def _number(value: Decimal | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "percent":
        return f"{value:.2f}%"
    if unit == "money":
        return f"{value:.2f}"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"


def _weights(rows: list[TeamRow], code: str) -> str:
    """The line's weight, or each level's where the team's levels weigh it differently."""
    by_level: dict[Level, Decimal] = {}
    for row in rows:
        if code == catalog.TASKS:
            by_level[row.card.level] = row.card.task_weight
        elif (line := row.line(code)) is not None:
            by_level[row.card.level] = line.weight
    values = set(by_level.values())
    if len(values) <= 1:
        return _number(next(iter(values), None), "count")
    return " / ".join(
        f"{label(level)} {_number(by_level[level], 'count')}"
        for level in Level
        if level in by_level
    )


def csv_rows(sheet: TeamSheet) -> list[list[str]]:
    rows = sheet.rows
    head = [_("Code"), _("Indicator"), _("How it is scored"), _("Weight")]
    for row in rows:
        head += [
            f"{row.manager.display_name} · {_('actual')}",
            f"{row.manager.display_name} · {_('points')}",
        ]
    body = []
    for code in sheet.codes:
        indicator = catalog.INDICATORS[code]
        line = [code, str(indicator.name), str(indicator.how), _weights(rows, code)]
        for row in rows:
            found = row.line(code)
            line += (
                ["", ""]
                if found is None
                else [
                    _number(found.actual, indicator.unit),
                    _number(found.points, "money"),
                ]
            )
        body.append(line)
    if sheet.has_tasks:
        tasks = [
            catalog.TASKS,
            _("Temporary tasks"),
            _("the supervisor's scores × weight"),
            _weights(rows, catalog.TASKS),
        ]
        for row in rows:
            tasks += ["", _number(row.card.task_points, "money")]
        body.append(tasks)
    total = ["", _("Total"), "", "100"]
    rank = ["", _("Rank"), "", ""]
    for row in rows:
        total += ["", _number(row.card.total, "money")]
        rank += ["", str(row.rank)]
    return [head, *body, total, rank]
