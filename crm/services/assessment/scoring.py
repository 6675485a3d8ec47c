"""A period's scorecards: each indicator's actual, target and points, and the total.

`compute` takes the managers to assess (whole teams: churn by ranking compares a team's
managers) and returns a `Card` each, built from `inputs.gather` with the weight set in
force for each manager's level. A card turns into the JSON a Scorecard row keeps
(`to_sheet`) and back (`from_sheet`), so a published card is shown exactly as stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from crm.services.assessment import catalog, formulas, inputs, targets, tasks, weights
from crm.services.assessment.catalog import LineSpec
from crm.services.assessment.formulas import Outcome
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.targets import Resolved
from models import AssessmentTarget, Level, Marking, ScoringMethod, Target, TemporaryTask, User

ZERO = Decimal(0)
PLAN_LINES = ("C6", "C7")  # what the weekly plans feed


@dataclass
class Line:
    code: str
    weight: Decimal
    marking: Marking
    method: ScoringMethod
    cap: Decimal
    floor: Decimal
    actual: Decimal | None
    target: Decimal | None
    target_source: str
    points: Decimal
    note: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Card:
    user_id: int
    period: str
    team_id: int | None
    level: Level
    weight_set_id: int | None
    lines: list[Line]
    tasks: list[dict[str, Any]]
    task_weight: Decimal
    task_points: Decimal
    task_note: str | None

    @property
    def kpi_points(self) -> Decimal:
        return sum((line.points for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.kpi_points + self.task_points

    def line(self, code: str) -> Line | None:
        return next((line for line in self.lines if line.code == code), None)

    def to_sheet(self) -> dict[str, Any]:
        return {
            "lines": [
                {
                    "code": line.code,
                    "weight": _text(line.weight),
                    "marking": line.marking.value,
                    "method": line.method.value,
                    "cap": _text(line.cap),
                    "floor": _text(line.floor),
                    "actual": _text(line.actual),
                    "target": _text(line.target),
                    "target_source": line.target_source,
                    "points": _text(line.points),
                    "note": line.note,
                    "detail": line.detail,
                }
                for line in self.lines
            ],
            "tasks": self.tasks,
            "task_weight": _text(self.task_weight),
            "task_note": self.task_note,
        }

    @classmethod
    def from_sheet(
        cls, sheet: dict[str, Any], *, user_id: int, period: str, team_id: int | None,
        level: Level, weight_set_id: int | None, task_points: Decimal,
    ) -> Card:  # fmt: skip
        lines = [
            Line(
                code=line["code"],
                weight=Decimal(line["weight"]),
                marking=Marking(line["marking"]),
                method=ScoringMethod(line["method"]),
                cap=Decimal(line["cap"]),
                floor=Decimal(line["floor"]),
                actual=_number(line["actual"]),
                target=_number(line["target"]),
                target_source=line["target_source"],
                points=Decimal(line["points"]),
                note=line["note"],
                detail=line["detail"],
            )
            for line in sheet.get("lines", [])
        ]
        return cls(
            user_id=user_id,
            period=period,
            team_id=team_id,
            level=level,
            weight_set_id=weight_set_id,
            lines=lines,
            tasks=sheet.get("tasks", []),
            task_weight=Decimal(sheet.get("task_weight", "0")),
            task_points=task_points,
            task_note=sheet.get("task_note"),
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# The computation ---------------------------------------------------------------------


@dataclass
class Context:
    """What one line's formula may read."""

    inputs: inputs.Inputs
    line: LineSpec
    target: Resolved
    set_targets: dict[targets.Key, AssessmentTarget]
    churn_peers: list[Decimal | None]
    churn: Decimal | None


Formula = Callable[[Context], tuple[Outcome, dict[str, Any]]]


def _money(value: Decimal | None) -> str | None:
    return _text(value)


def _revenue(c: Context):
    i = c.inputs
    detail = {"now": _money(i.revenue_now), "last": _money(i.revenue_last)}
    return formulas.growth(i.revenue_now, i.revenue_last, c.line.weight), detail


def _arpu(c: Context):
    i = c.inputs
    detail = {"now": _money(i.arpu_now), "last": _money(i.arpu_last)}
    return formulas.growth(i.arpu_now, i.arpu_last, c.line.weight), detail


def _achieved(part: str, i: inputs.Inputs) -> Decimal:
    if part == "lines":
        return Decimal(i.lines_after or 0)
    if part == "net_lines":
        return Decimal((i.lines_after or 0) - (i.lines_before or 0))
    return Decimal(i.won)  # deals


def _business_count(c: Context):
    parts = [
        (t.part, _achieved(t.part, c.inputs), t.target, t.share or ZERO)
        for t in targets.parts_of(c.set_targets)
    ]
    outcome, results = formulas.business_count(parts, c.line.weight, c.line.cap)
    detail = {
        "parts": [
            {
                "part": r.part,
                "achieved": _text(r.achieved),
                "target": _text(r.target),
                "share": _text(r.share),
                "points": _text(r.points),
            }
            for r in results
        ]
    }
    return outcome, detail


def _solution_share(c: Context):
    i = c.inputs
    detail = {"solution": _money(i.solution_now), "revenue": _money(i.revenue_now)}
    return formulas.share(i.solution_now, i.revenue_now, c.line.weight), detail


def _recovery(c: Context):
    i = c.inputs
    detail = {"recovered": _money(i.arrears_recovered), "due": _money(i.arrears_due)}
    return formulas.recovery(i.arrears_recovered, i.arrears_due, c.line.weight), detail


def _churn(c: Context):
    i = c.inputs
    detail = {"lost": i.lines_lost, "before": i.lines_before, "after": i.lines_after}
    if c.line.method is ScoringMethod.RANKING:
        outcome = formulas.by_rank(c.churn, c.churn_peers, c.line.weight, lower_is_better=True)
        detail["peers"] = len([p for p in c.churn_peers if p is not None])
        return outcome, detail
    return formulas.churn_against_target(c.churn, c.target.value, c.line.weight), detail


def _satisfaction(c: Context):
    per = c.line.per_unit if c.line.per_unit is not None else Decimal(2)
    outcome = formulas.satisfaction(c.inputs.complaints, c.line.weight, per)
    return outcome, {"per_complaint": _text(per)}


def _count(name: str) -> Formula:
    def formula(c: Context):
        achieved = getattr(c.inputs, name)
        return formulas.achievement(Decimal(achieved), c.target.value, c.line.weight), {}

    return formula


def _rate(part: str, whole: Callable[[inputs.Inputs], int], empty: str, *, met: bool) -> Formula:
    """A percentage against a target. When the whole is zero there is no percentage: the
    line is met in full (`met`: nothing was asked) or earns nothing, with the note `empty`."""

    def formula(c: Context):
        i = c.inputs
        count, base = getattr(i, part), whole(i)
        detail = {"part": count, "whole": base}
        rate = formulas.ratio_percent(count, base)
        if rate is None:
            return Outcome(None, c.line.weight if met else ZERO, empty), detail
        return formulas.achievement(rate, c.target.value, c.line.weight), detail

    return formula


FORMULAS: dict[str, Formula] = {
    "01": _revenue,
    "02": _arpu,
    catalog.BUSINESS_COUNT: _business_count,
    "04": _solution_share,
    "05": _recovery,
    catalog.CHURN: _churn,
    catalog.SATISFACTION: _satisfaction,
    "C1": _count("visits"),
    "C2": _rate("covered", lambda i: i.key_customers, formulas.NO_KEY_CUSTOMERS, met=True),
    "C3": _count("entered"),
    "C4": lambda c: (formulas.achievement(c.inputs.won_amount, c.target.value, c.line.weight), {}),
    "C5": _rate("won", lambda i: i.won + i.lost, formulas.NONE_CLOSED, met=False),
    "C6": _rate("plans_on_time", lambda i: i.plans_due, formulas.NOTHING_DUE, met=True),
    "C7": _rate("planned_done", lambda i: i.planned, formulas.NOTHING_PLANNED, met=False),
}


def compute(
    period: AssessmentPeriod,
    managers: list[User],
    *,
    everyone: bool = False,
    now: datetime | None = None,
) -> list[Card]:
    """Every manager's card for the period (whole teams: churn ranks within the team)."""
    if not managers:
        return []
    ids = [m.id for m in managers]
    in_force = weights.in_force(period.kind, period.first)
    plans_of = {
        m.id for m in managers if any(in_force[m.level].spec.lines[c].assessed for c in PLAN_LINES)
    }
    gathered = inputs.gather(period, managers, everyone=everyone, now=now, plans_of=plans_of)
    set_targets = targets.all_targets_for(period) if everyone else targets.targets_for(period, ids)
    standing = targets.standing_targets(ids)
    period_tasks = tasks.tasks_for(period, None if everyone else ids)
    churn = {
        m.id: formulas.churn_rate(
            gathered[m.id].lines_lost, gathered[m.id].lines_before, gathered[m.id].lines_after
        )
        for m in managers
    }
    by_team: dict[int | None, list[Decimal | None]] = defaultdict(list)
    for m in managers:
        by_team[m.team_id].append(churn[m.id])
    return [
        _card(
            period,
            manager,
            in_force[manager.level],
            gathered[manager.id],
            set_targets.get(manager.id, {}),
            standing.get(manager.id),
            period_tasks.get(manager.id, []),
            churn[manager.id],
            by_team[manager.team_id],
        )
        for manager in managers
    ]


def _card(
    period: AssessmentPeriod,
    manager: User,
    in_force: weights.InForce,
    gathered: inputs.Inputs,
    set_targets: dict[targets.Key, AssessmentTarget],
    standing: Target | None,
    own_tasks: list[TemporaryTask],
    churn: Decimal | None,
    churn_peers: list[Decimal | None],
) -> Card:
    spec = in_force.spec
    lines = []
    for code in catalog.CODES:
        line = spec.lines[code]
        if not line.assessed:
            continue
        resolved = targets.resolve(code, line, set_targets, standing, period)
        if catalog.INDICATORS[code].target_unit is None or code == catalog.BUSINESS_COUNT:
            resolved = Resolved(None, "none")
        context = Context(gathered, line, resolved, set_targets, churn_peers, churn)
        outcome, detail = FORMULAS[code](context)
        if code == catalog.CHURN and line.method is ScoringMethod.RANKING:
            resolved = Resolved(None, "none")
        lines.append(
            Line(
                code=code,
                weight=line.weight,
                marking=line.marking,
                method=line.method,
                cap=line.cap,
                floor=line.floor,
                actual=outcome.actual,
                target=resolved.value,
                target_source=resolved.source,
                points=formulas.bounded(outcome, line.weight, line.cap, line.floor),
                note=outcome.note,
                detail=detail,
            )
        )
    task_points, task_note = formulas.temporary_tasks(
        [(t.score, t.weight) for t in own_tasks], spec.task_weight
    )
    return Card(
        user_id=manager.id,
        period=period.key,
        team_id=manager.team_id,
        level=manager.level,
        weight_set_id=in_force.set_id,
        lines=lines,
        tasks=[
            {
                "id": t.id,
                "title": t.title,
                "weight": t.weight,
                "score": _text(t.score),
                "comment": t.comment,
            }
            for t in own_tasks
        ],
        task_weight=spec.task_weight,
        task_points=task_points,
        task_note=task_note,
    )
