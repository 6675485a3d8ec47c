"""The sheet's formulas, one small pure function per indicator (no database, no request).

Each takes the figures and the line's weight and returns an `Outcome`: the actual value
the page shows (percent, count or amount), the points before the line's cap and floor,
and a `note` code when the formula met a case the sheet does not spell out (no base to
grow from, a target of zero ...). `bounded` then keeps the points between the floor and
the cap. Decimal throughout: points are money-like, summed and compared.

The operators' wording is quoted in each docstring (集团客户 KPI sheet, issue 15).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
POINTS = Decimal("0.01")

# Notes: cases the page explains in words (crm/services/assessment/words.py).
NO_BASE = "no_base"  # nothing last period to grow from: growth counted at the cap
NO_FIGURES = "no_figures"  # no business figures for the period
NO_TARGET = "no_target"  # a target is needed and none is set
TARGET_ZERO = "target_zero"  # the target is zero: met only by zero (churn) or by anything
NOTHING_DUE = "nothing_due"  # no arrears due: nothing to recover counts as all recovered
RANKED = "ranked"  # scored by rank among peers (比高法)
NO_KEY_CUSTOMERS = "no_key_customers"  # no A+ or A customer to cover: met in full
NONE_CLOSED = "none_closed"  # no opportunity won or lost: no win rate
NOTHING_PLANNED = "nothing_planned"  # no planned visit in the period's weekly plans
NO_TASKS = "no_tasks"  # no temporary task was set for the period
UNSCORED = "unscored"  # a temporary task is not scored yet (counts 0 until it is)


@dataclass(frozen=True)
class Outcome:
    actual: Decimal | None  # what the indicator measured (percent, count or amount)
    points: Decimal  # before the cap and the floor
    note: str | None = None
    capped_at_max: bool = False  # the formula's value is "infinite": take the cap


def percent(ratio: Decimal) -> Decimal:
    return (ratio * HUNDRED).quantize(POINTS)


def bounded(outcome: Outcome, weight: Decimal, cap: Decimal, floor: Decimal) -> Decimal:
    """封顶 / 保底: points between floor % and cap % of the weight, to the hundredth."""
    high = weight * cap / HUNDRED
    low = weight * floor / HUNDRED
    if outcome.capped_at_max:
        return high.quantize(POINTS)
    return min(max(outcome.points, low), high).quantize(POINTS)


def growth(now: Decimal | None, last: Decimal | None, weight: Decimal) -> Outcome:
    """01 收入增长率 / 02 ARPU增长率: （本期 − 上期）÷ 上期 × 权重.

    A portfolio with nothing last period (missing or zero) grew from nothing: its growth
    has no finite value, so it takes the cap if it has revenue now, and 0 if not.
    """
    now = now or ZERO
    if not last:
        if now > 0:
            return Outcome(None, ZERO, NO_BASE, capped_at_max=True)
        return Outcome(None, ZERO, NO_FIGURES)
    ratio = (now - last) / last
    return Outcome(percent(ratio), ratio * weight)


def share(part: Decimal | None, whole: Decimal | None, weight: Decimal) -> Outcome:
    """04 重点行业解决方案收入占比: 解决方案收入 ÷ 总收入 × 权重."""
    if not whole:
        return Outcome(None, ZERO, NO_FIGURES)
    ratio = (part or ZERO) / whole
    return Outcome(percent(ratio), ratio * weight)


def recovery(recovered: Decimal | None, due: Decimal | None, weight: Decimal) -> Outcome:
    """05 欠费回收率: 回收金额 ÷ 应收欠费 × 权重. Nothing due: all of it recovered."""
    if not due:
        return Outcome(None, weight, NOTHING_DUE)
    ratio = (recovered or ZERO) / due
    return Outcome(percent(ratio), ratio * weight)


def churn_rate(
    lost: int | None, lines_before: int | None, lines_after: int | None
) -> Decimal | None:
    """离网率 in percent: lines lost in the period ÷ lines in use before it.

    Without a count before the period (a new portfolio), the lines at its end plus those
    lost stand for it. None when there are no lines at all.
    """
    base = lines_before or ((lines_after or 0) + (lost or 0))
    if not base:
        return None
    return percent(Decimal(lost or 0) / Decimal(base))


def churn_against_target(
    actual: Decimal | None, target: Decimal | None, weight: Decimal
) -> Outcome:
    """06 离网率: （目标值 − 实际值）÷ 目标值 × 权重.

    A target of zero means "no line lost": the full weight when none was, nothing when any
    was (the formula would divide by zero).
    """
    if actual is None:
        return Outcome(None, ZERO, NO_FIGURES)
    if target is None:
        return Outcome(actual, ZERO, NO_TARGET)
    if target == 0:
        return Outcome(actual, weight if actual == 0 else ZERO, TARGET_ZERO)
    return Outcome(actual, (target - actual) / target * weight)


def by_rank(
    actual: Decimal | None,
    peers: Sequence[Decimal | None],
    weight: Decimal,
    *,
    lower_is_better: bool,
) -> Outcome:
    """比高法: ranked among the peers (the team), the best takes the full weight, the worst
    none, the others weight × (n − rank) ÷ (n − 1); equal values share the better rank.
    Alone among peers: the full weight. Peers without a value are not ranked."""
    if actual is None:
        return Outcome(None, ZERO, NO_FIGURES)
    values = [v for v in peers if v is not None]
    n = len(values)
    if n <= 1:
        return Outcome(actual, weight, RANKED)
    better = sum(1 for v in values if (v < actual if lower_is_better else v > actual))
    return Outcome(actual, weight * (n - 1 - better) / (n - 1), RANKED)


def satisfaction(complaints: int, weight: Decimal, per_complaint: Decimal) -> Outcome:
    """07 客户满意度: 满分（权重）减每次投诉扣分（默认每次 2 分）."""
    return Outcome(Decimal(complaints), weight - per_complaint * complaints)


def achievement(achieved: Decimal | None, target: Decimal | None, weight: Decimal) -> Outcome:
    """CRM activity: 完成值 ÷ 目标值 × 权重 (capped by the line's cap).

    A target of zero asks for nothing: met in full.
    """
    achieved = achieved if achieved is not None else ZERO
    if target is None:
        return Outcome(achieved, ZERO, NO_TARGET)
    if target == 0:
        return Outcome(achieved, weight, TARGET_ZERO)
    return Outcome(achieved, achieved / target * weight)


@dataclass(frozen=True)
class PartResult:
    part: str
    achieved: Decimal
    target: Decimal
    share: Decimal  # percent of the weight
    points: Decimal


def business_count(
    parts: Sequence[tuple[str, Decimal, Decimal, Decimal]], weight: Decimal, cap: Decimal
) -> tuple[Outcome, list[PartResult]]:
    """03 集团业务到达数: 权重按考核人设定的个人任务目标拆分，得分 = 完成值 ÷ 目标值 × 分值.

    `parts`: (part, achieved, target, share %). Each part is capped on its own at the
    line's cap, so over-achieving one part cannot make up for another beyond it. The
    actual shown is the share-weighted achievement in percent.
    """
    if not parts:
        return Outcome(None, ZERO, NO_TARGET), []
    results, total, reached = [], ZERO, ZERO
    for part, achieved, target, part_share in parts:
        ratio = achieved / target if target else Decimal(1)
        ratio = min(ratio, cap / HUNDRED)
        points = ratio * part_share / HUNDRED * weight
        results.append(PartResult(part, achieved, target, part_share, points.quantize(POINTS)))
        total += points
        reached += ratio * part_share
    return Outcome(reached.quantize(POINTS), total), results


def ratio_percent(part: int, whole: int) -> Decimal | None:
    """part ÷ whole in percent (win rate, plans on time, planned visits done); None of none."""
    if not whole:
        return None
    return percent(Decimal(part) / Decimal(whole))


def temporary_tasks(
    tasks: Sequence[tuple[Decimal | None, int]], task_weight: Decimal
) -> tuple[Decimal, str | None]:
    """临时任务 (20% of a quarter): the supervisor's scores (0–100), weighted by each task's
    weight, × the tasks' weight. No task: no points. An unscored task counts 0."""
    if not tasks:
        return ZERO, NO_TASKS
    weights = sum(weight for _score, weight in tasks)
    scored = sum((score or ZERO) * weight for score, weight in tasks)
    note = UNSCORED if any(score is None for score, _weight in tasks) else None
    points = scored / weights / HUNDRED * task_weight if weights else ZERO
    return points.quantize(POINTS), note
