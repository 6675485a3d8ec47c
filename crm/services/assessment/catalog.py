"""The indicator catalog: the operators' KPI sheet (01–07) and the CRM's activity (C1–C7).

Formulas are code (crm/services/assessment/formulas.py); what varies per level and
period kind — weight, marking, cap, floor, default target — is an administrator's weight
set (crm/services/assessment/weights.py). `BUILT_IN` holds the example sets the issue's
sheet gives, in force until an administrator saves a set of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from models import Level, Marking, PeriodKind, ScoringMethod


@dataclass(frozen=True)
class Indicator:
    code: str
    name: object  # lazy: the reader's language
    how: object  # how it is scored, in the sheet's words
    unit: str  # what `actual` is: "percent", "count" or "money"
    target_unit: str | None  # what a target is given in; None: the formula needs none
    lower_is_better: bool = False


@dataclass(frozen=True)
class Part:
    """A piece of the business count (03) the supervisor may set a target for."""

    code: str
    name: object
    unit: str


BUSINESS_COUNT = "03"
CHURN = "06"
SATISFACTION = "07"

INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator(
            "01",
            _l("Revenue growth of the portfolio"),
            _l("(this period's revenue − last period's) ÷ last period's × weight"),
            "percent",
            None,
        ),
        Indicator(
            "02",
            _l("ARPU growth"),
            _l("(this period's ARPU − last period's) ÷ last period's ARPU × weight"),
            "percent",
            None,
        ),
        Indicator(
            BUSINESS_COUNT,
            _l("Business count"),
            _l("the weight split into the supervisor's targets: achieved ÷ target × share"),
            "percent",
            "count",
        ),
        Indicator(
            "04",
            _l("Key-industry solution share"),
            _l("solution revenue ÷ total portfolio revenue × weight"),
            "percent",
            None,
        ),
        Indicator(
            "05",
            _l("Arrears recovery"),
            _l("arrears recovered ÷ arrears due × weight"),
            "percent",
            None,
        ),
        Indicator(
            CHURN,
            _l("Churn"),
            _l("(target − actual churn) ÷ target × weight, or ranking among the team"),
            "percent",
            "percent",
            lower_is_better=True,
        ),
        Indicator(
            SATISFACTION,
            _l("Customer satisfaction"),
            _l("the full weight minus the points each complaint in the period costs"),
            "count",
            None,
            lower_is_better=True,
        ),
        Indicator("C1", _l("Visits"), _l("visits ÷ target × weight"), "count", "count"),
        Indicator(
            "C2",
            _l("A+ and A customers visited within cadence"),
            _l("coverage ÷ target × weight"),
            "percent",
            "percent",
        ),
        Indicator(
            "C3",
            _l("New opportunities"),
            _l("new opportunities ÷ target × weight"),
            "count",
            "count",
        ),
        Indicator("C4", _l("Won amount"), _l("won amount ÷ target × weight"), "money", "money"),
        Indicator("C5", _l("Win rate"), _l("win rate ÷ target × weight"), "percent", "percent"),
        Indicator(
            "C6",
            _l("Weekly plans handed in on time"),
            _l("plans on time ÷ plans due, ÷ target × weight"),
            "percent",
            "percent",
        ),
        Indicator(
            "C7",
            _l("Planned visits carried out"),
            _l("planned visits done ÷ planned, ÷ target × weight"),
            "percent",
            "percent",
        ),
    )
}
CODES = tuple(INDICATORS)

PARTS: dict[str, Part] = {
    p.code: p
    for p in (
        Part("lines", _l("Lines in use at the period's end"), "count"),
        Part("net_lines", _l("Lines added in the period, net"), "count"),
        Part("deals", _l("Deals won"), "count"),
    )
}
TASKS = "T"  # the temporary tasks' line of the sheet


@dataclass(frozen=True)
class LineSpec:
    """One indicator's settings in a weight set (stored or built in)."""

    weight: Decimal
    marking: Marking
    method: ScoringMethod = ScoringMethod.TARGET
    cap: Decimal = Decimal(100)
    floor: Decimal = Decimal(0)
    default_target: Decimal | None = None
    per_unit: Decimal | None = None

    @property
    def assessed(self) -> bool:
        return self.marking is not Marking.NOT_ASSESSED


@dataclass(frozen=True)
class SetSpec:
    """A weight set: the temporary tasks' weight and a line per indicator."""

    task_weight: Decimal
    lines: dict[str, LineSpec]

    @property
    def kpi_weight(self) -> Decimal:
        return sum((line.weight for line in self.lines.values() if line.assessed), Decimal(0))


# Built-in example sets ------------------------------------------------------------------
# Weights per level, in the catalog's order (None: not assessed for that level). A quarter's
# KPIs carry 80 and its temporary tasks 20; a month has no temporary tasks of its own.
_WEIGHTS = {
    (PeriodKind.QUARTER, Level.JUNIOR): (8, 4, 12, None, 8, 6, 10, 12, None, 8, 6, None, 3, 3),
    (PeriodKind.QUARTER, Level.INTERMEDIATE): (10, 5, 10, 5, 8, 6, 10, 8, 5, 4, 5, None, 2, 2),
    (PeriodKind.QUARTER, Level.SENIOR): (14, 6, 8, 10, 6, 6, 10, 4, 8, None, 6, 2, None, None),
    (PeriodKind.MONTH, Level.JUNIOR): (10, 5, 15, None, 10, 8, 12, 15, None, 10, 7, None, 4, 4),
    (PeriodKind.MONTH, Level.INTERMEDIATE): (12, 6, 12, 6, 10, 8, 12, 10, 6, 5, 7, None, 3, 3),
    (PeriodKind.MONTH, Level.SENIOR): (18, 8, 10, 12, 8, 8, 12, 5, 10, None, 7, 2, None, None),
}
# Default targets per quarter (a month's are a third, rounded), by level.
_QUARTER_TARGETS = {
    "C1": {Level.JUNIOR: 60, Level.INTERMEDIATE: 50, Level.SENIOR: 40},
    "C3": {Level.JUNIOR: 6, Level.INTERMEDIATE: 5, Level.SENIOR: 4},
    "C4": {Level.JUNIOR: 300_000, Level.INTERMEDIATE: 600_000, Level.SENIOR: 1_000_000},
}
_PERCENT_TARGETS = {CHURN: Decimal("2.00"), "C2": 100, "C5": 40, "C6": 100, "C7": 90}
_MONTH_CHURN = Decimal("0.70")
_CAPPED_ABOVE = {BUSINESS_COUNT, "C1", "C2", "C3", "C4", "C5", "C6", "C7"}  # up to 120 %


def _default_target(code: str, level: Level, kind: PeriodKind) -> Decimal | None:
    if code == CHURN and kind is PeriodKind.MONTH:
        return _MONTH_CHURN
    if code in _PERCENT_TARGETS:
        return Decimal(_PERCENT_TARGETS[code])
    if code in _QUARTER_TARGETS:
        value = Decimal(_QUARTER_TARGETS[code][level])
        return value if kind is PeriodKind.QUARTER else (value / 3).quantize(Decimal(1))
    return None


def _built_in(kind: PeriodKind, level: Level) -> SetSpec:
    lines = {}
    for code, weight in zip(CODES, _WEIGHTS[(kind, level)], strict=True):
        if weight is None:
            marking = Marking.NOT_ASSESSED
        else:
            marking = Marking.KEY if weight >= 10 else Marking.SECONDARY
        lines[code] = LineSpec(
            weight=Decimal(weight or 0),
            marking=marking,
            cap=Decimal(120 if code in _CAPPED_ABOVE else 100),
            default_target=_default_target(code, level, kind),
            per_unit=Decimal(2) if code == SATISFACTION else None,
        )
    task_weight = Decimal(20 if kind is PeriodKind.QUARTER else 0)
    return SetSpec(task_weight, lines)


BUILT_IN: dict[tuple[Level, PeriodKind], SetSpec] = {
    (level, kind): _built_in(kind, level) for level in Level for kind in PeriodKind
}
