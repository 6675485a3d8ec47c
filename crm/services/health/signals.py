"""The warning signals of customer health, their weights and the band thresholds.

A customer starts at 100; each signal that fires takes its full weight off (never below
0). The band follows from the score: below the at-risk threshold "at risk", below the
watch threshold "watch", else "healthy". Weights, thresholds and the limits each signal
fires at are admin settings (crm/services/settings.py), so a team can tune them without a
release; the README's table lists the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.services import settings
from models import HealthBand

AREA = _l("Customer health")


@dataclass(frozen=True)
class Signal:
    code: str  # stored in CustomerHealth.factors and HealthSnapshot.signals
    label: Any  # lazy: the list's filter and the panel's heading
    weight: settings.Setting


def _weight(key: str, label: Any, default: int) -> settings.Setting:
    return settings.declare(
        settings.Setting(key, label, default, settings.whole_number(0, 100), area=AREA)
    )


# The weights are declared one by one (not in a loop) so each key stays greppable.
REVENUE_FALLING = Signal(
    "revenue_falling",
    _l("Revenue falling"),
    _weight("health.weight_revenue_falling", _l("Weight: revenue falling"), 25),
)
LINES_LOST = Signal(
    "lines_lost",
    _l("Lines lost"),
    _weight("health.weight_lines_lost", _l("Weight: lines lost"), 15),
)
ARREARS_GROWING = Signal(
    "arrears_growing",
    _l("Arrears growing"),
    _weight("health.weight_arrears_growing", _l("Weight: arrears growing"), 10),
)
COMPLAINTS_OVERDUE = Signal(
    "complaints_overdue",
    _l("Complaints past their SLA"),
    _weight("health.weight_complaints_overdue", _l("Weight: complaints past their SLA"), 15),
)
COMPLAINTS_REPEATED = Signal(
    "complaints_repeated",
    _l("Repeated complaints"),
    _weight("health.weight_complaints_repeated", _l("Weight: repeated complaints"), 10),
)
LOW_SATISFACTION = Signal(
    "low_satisfaction",
    _l("Low satisfaction"),
    _weight("health.weight_low_satisfaction", _l("Weight: low satisfaction"), 15),
)
SILENT = Signal(
    "silent",
    _l("Silent beyond the visit cadence"),
    _weight("health.weight_silent", _l("Weight: silent beyond the visit cadence"), 15),
)
NO_DECISION_MAKER = Signal(
    "no_decision_maker",
    _l("No active decision maker"),
    _weight("health.weight_no_decision_maker", _l("Weight: no active decision maker"), 10),
)
COMPETITOR_CONTRACT_ENDING = Signal(
    "competitor_contract_ending",
    _l("A competitor's contract ending"),
    _weight(
        "health.weight_competitor_contract_ending",
        _l("Weight: a competitor's contract ending"),
        20,
    ),
)
COMPETITOR_HIGH_THREAT = Signal(
    "competitor_high_threat",
    _l("A competitor marked high threat"),
    _weight(
        "health.weight_competitor_high_threat", _l("Weight: a competitor marked high threat"), 10
    ),
)
CONTRACT_ENDING = Signal(
    "contract_ending",
    _l("Our main contract ending"),
    _weight("health.weight_contract_ending", _l("Weight: our main contract ending"), 15),
)
LOST_TO_COMPETITOR = Signal(
    "lost_to_competitor",
    _l("An opportunity lost to a competitor"),
    _weight(
        "health.weight_lost_to_competitor", _l("Weight: an opportunity lost to a competitor"), 15
    ),
)

SIGNALS: tuple[Signal, ...] = (
    REVENUE_FALLING,
    LINES_LOST,
    ARREARS_GROWING,
    COMPLAINTS_OVERDUE,
    COMPLAINTS_REPEATED,
    LOW_SATISFACTION,
    SILENT,
    NO_DECISION_MAKER,
    COMPETITOR_CONTRACT_ENDING,
    COMPETITOR_HIGH_THREAT,
    CONTRACT_ENDING,
    LOST_TO_COMPETITOR,
)
BY_CODE: dict[str, Signal] = {signal.code: signal for signal in SIGNALS}

# When each signal fires ---------------------------------------------------------------

REVENUE_DROP_PERCENT = settings.declare(
    settings.Setting(
        "health.revenue_drop_percent",
        _l("Revenue falling: by at least (percent, last three months against the three before)"),
        10,
        settings.whole_number(1, 100),
        area=AREA,
    )
)
LINES_LOST_PERCENT = settings.declare(
    settings.Setting(
        "health.lines_lost_percent",
        _l("Lines lost: at least (percent of the lines, over the last three months)"),
        5,
        settings.whole_number(1, 100),
        area=AREA,
    )
)
ARREARS_GROWTH_PERCENT = settings.declare(
    settings.Setting(
        "health.arrears_growth_percent",
        _l("Arrears growing: by at least (percent over three months)"),
        20,
        settings.whole_number(1, 1000),
        area=AREA,
    )
)
REPEATED_COMPLAINTS = settings.declare(
    settings.Setting(
        "health.repeated_complaints",
        _l("Repeated complaints: at least this many in the last 90 days"),
        3,
        settings.whole_number(2, 100),
        area=AREA,
    )
)
LOW_SATISFACTION_AT_MOST = settings.declare(
    settings.Setting(
        "health.low_satisfaction",
        _l("Low satisfaction: an average rating (1–5) of the last 180 days at or below"),
        2,
        settings.whole_number(1, 4),
        area=AREA,
    )
)
COMPETITOR_EXPIRY_DAYS = settings.declare(
    settings.Setting(
        "health.competitor_expiry_days",
        _l("A competitor's contract ending: within (days)"),
        90,
        settings.whole_number(1, 730),
        area=AREA,
    )
)
CONTRACT_EXPIRY_DAYS = settings.declare(
    settings.Setting(
        "health.contract_expiry_days",
        _l("Our main contract ending: within (days)"),
        90,
        settings.whole_number(1, 730),
        area=AREA,
    )
)
LOST_OPPORTUNITY_DAYS = settings.declare(
    settings.Setting(
        "health.lost_opportunity_days",
        _l("An opportunity lost to a competitor: within the last (days)"),
        180,
        settings.whole_number(1, 730),
        area=AREA,
    )
)
# Fixed windows, named where they are read (the README says them).
REPEATED_WINDOW_DAYS = 90
SATISFACTION_WINDOW_DAYS = 180

# The bands ---------------------------------------------------------------------------

WATCH_BELOW = settings.declare(
    settings.Setting(
        "health.watch_below",
        _l("Band 'watch': a score below"),
        90,
        settings.whole_number(1, 100),
        help=_l("A score at or above this is healthy."),
        area=AREA,
    )
)
AT_RISK_BELOW = settings.declare(
    settings.Setting(
        "health.at_risk_below",
        _l("Band 'at risk': a score below"),
        60,
        settings.whole_number(1, 100),
        help=_l("Set it below the watch threshold; at or above it, the watch threshold decides."),
        area=AREA,
    )
)


@dataclass(frozen=True)
class Rules:
    """The settings in force for one pass, read once (a pass must not mix two versions)."""

    weights: dict[str, int]
    watch_below: int
    at_risk_below: int
    revenue_drop_percent: int
    lines_lost_percent: int
    arrears_growth_percent: int
    repeated_complaints: int
    low_satisfaction: int
    competitor_expiry_days: int
    contract_expiry_days: int
    lost_opportunity_days: int

    def band(self, score: int) -> HealthBand:
        if score < self.at_risk_below:
            return HealthBand.AT_RISK
        if score < self.watch_below:
            return HealthBand.WATCH
        return HealthBand.HEALTHY


def current_rules() -> Rules:
    value = settings.value
    return Rules(
        weights={signal.code: value(signal.weight.key) for signal in SIGNALS},
        watch_below=value(WATCH_BELOW.key),
        at_risk_below=value(AT_RISK_BELOW.key),
        revenue_drop_percent=value(REVENUE_DROP_PERCENT.key),
        lines_lost_percent=value(LINES_LOST_PERCENT.key),
        arrears_growth_percent=value(ARREARS_GROWTH_PERCENT.key),
        repeated_complaints=value(REPEATED_COMPLAINTS.key),
        low_satisfaction=value(LOW_SATISFACTION_AT_MOST.key),
        competitor_expiry_days=value(COMPETITOR_EXPIRY_DAYS.key),
        contract_expiry_days=value(CONTRACT_EXPIRY_DAYS.key),
        lost_opportunity_days=value(LOST_OPPORTUNITY_DAYS.key),
    )


def score_of(fired: list[dict[str, Any]]) -> int:
    """100 less the points of the signals that fired, never below 0."""
    return max(0, 100 - sum(factor["points"] for factor in fired))
