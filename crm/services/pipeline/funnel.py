"""The team funnel, days in each stage, and why we lose — SQL over the stage history.

Funnel (a cohort): of the opportunities created in the period, `reached[k]` is how
many got to pre-sale stage k or a later one (skipping a stage still passes it);
the conversion from stage k to the next is reached[k+1] ÷ reached[k].

Days in a stage: each history row lasts until the next row of its opportunity
(LEAD over the history), the last one until now; rows while lost do not count.
A stage's average is the total time spent in it ÷ the opportunities that were in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import True_

from crm.extensions import db
from crm.permissions import customer_scope, within_customer_scope
from crm.services.pipeline import totals
from crm.services.pipeline.stages import all_stages
from crm.services.reporting import metrics
from models import (
    Competitor,
    CompetitorProfile,
    Customer,
    LostReason,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Phase,
    Stage,
    User,
)
from models.base import utcnow

EXPIRY_DAYS = 90


@dataclass
class FunnelStep:
    stage: Stage
    open_count: int  # open opportunities at this stage now
    open_amount: Decimal
    reached: int  # of the cohort, how many got this far
    conversion: Decimal | None = None  # share of `reached` that got to the next stage (%)


def _within(stmt: Select, viewer: User | None, owner_ids: list[int] | None) -> Select:
    """`stmt` (over opportunities) limited to these owners within the viewer's scope,
    joining the customers only when the scope needs them.

    None for both means every opportunity: the organisation-wide snapshot, which the
    scheduler computes for no one in particular (see crm/services/reporting/snapshots.py).
    """
    if owner_ids is not None:
        stmt = stmt.where(Opportunity.owner_id.in_(owner_ids))
    if viewer is None:
        return stmt
    return within_customer_scope(stmt, viewer, Opportunity.customer)


def _open_now(viewer: User, owner_ids: list[int] | None) -> dict[int, tuple[int, Decimal]]:
    """Open opportunities per stage: (count, amount)."""
    if owner_ids is None and isinstance(customer_scope(viewer), True_):
        # Every opportunity (an admin's all-teams home): the totals the database keeps.
        kept = totals.stage_totals([OpportunityStatus.OPEN])
        return {stage_id: (count, amount) for stage_id, (count, amount, _) in kept.items()}
    return {
        row.stage_id: (row.count, row.amount)
        for row in db.session.execute(
            _within(
                select(
                    Opportunity.stage_id,
                    func.count().label("count"),
                    metrics.amount_sum().label("amount"),
                ),
                viewer,
                owner_ids,
            )
            .where(Opportunity.status == OpportunityStatus.OPEN)
            .group_by(Opportunity.stage_id)
        )
    }


def funnel(
    viewer: User,
    owner_ids: list[int] | None,
    cohort: metrics.Period,
    *,
    reached: dict[int, int] | None = None,
) -> list[FunnelStep]:
    """Pre-sale stages with today's open counts and amounts and the cohort's conversion.

    `reached` may come from the scheduler's snapshot (the organisation-wide view,
    too costly to count per request); otherwise it is counted here.
    """
    stages = [s for s in all_stages() if s.phase is Phase.PRE_SALE]
    now_open = _open_now(viewer, owner_ids)
    if reached is None:
        reached, _ = history_figures(viewer, owner_ids, cohort, utcnow())
    steps = [
        FunnelStep(
            stage,
            now_open[stage.id][0] if stage.id in now_open else 0,
            metrics.money(now_open[stage.id][1] if stage.id in now_open else 0),
            reached.get(stage.id, 0),
        )
        for stage in stages
    ]
    for step, following in zip(steps, steps[1:], strict=False):
        if step.reached:
            step.conversion = (Decimal(following.reached * 100) / step.reached).quantize(
                Decimal("0.1")
            )
    return steps


def _spans(
    viewer: User | None,
    owner_ids: list[int] | None,
    cohort: metrics.Period,
    now: datetime,
    *,
    by_owners: bool = False,
):
    """The cohort's stage-history rows, each with when it ended (the next row of its
    opportunity, or now): what both the funnel and the days in stage are counted from.
    `by_owners`: each row also names its opportunity's owner and its customer's."""
    H = OpportunityHistory
    stmt = select(
        H.opportunity_id,
        H.stage_id,
        H.status,
        H.at,
        func.coalesce(
            func.lead(H.at).over(partition_by=H.opportunity_id, order_by=(H.at, H.id)),
            metrics.utc_literal(now),
        ).label("until"),
    ).join(Opportunity, Opportunity.id == H.opportunity_id)
    if by_owners:
        stmt = stmt.add_columns(
            Opportunity.owner_id.label("owner_id"), Customer.owner_id.label("customer_owner_id")
        ).join(Opportunity.customer)
    return (
        _within(stmt, viewer, owner_ids).where(cohort.contains(Opportunity.created_at)).cte("spans")
    )


def _owner_columns(selectable, by_owners: bool) -> list:
    return [selectable.c.owner_id, selectable.c.customer_owner_id] if by_owners else []


def _reached_select(spans, by_owners: bool = False) -> Select:
    """(stage id, opportunities of the cohort that reached it) per pre-sale stage (and pair
    of owners)."""
    owners = _owner_columns(spans, by_owners)
    furthest = (
        select(spans.c.opportunity_id, *owners, func.max(Stage.position).label("position"))
        .join(Stage, Stage.id == spans.c.stage_id)
        .where(Stage.phase == Phase.PRE_SALE)
        .group_by(spans.c.opportunity_id, *owners)
        .subquery()
    )
    owners = _owner_columns(furthest, by_owners)
    return (
        select(
            Stage.id.label("stage_id"),
            *owners,
            func.count(furthest.c.opportunity_id).label("count"),
        )
        .join(furthest, furthest.c.position >= Stage.position)
        .where(Stage.phase == Phase.PRE_SALE)
        .group_by(Stage.id, *owners)
    )


def _days_select(spans, by_owners: bool = False) -> Select:
    """(stage id, opportunities that were in it, their total days there) per stage (and
    pair of owners); rows while lost do not count."""
    owners = _owner_columns(spans, by_owners)
    return (
        select(
            spans.c.stage_id.label("stage_id"),
            *owners,
            func.count(func.distinct(spans.c.opportunity_id)).label("count"),
            func.sum(metrics.days_between(spans.c.at, spans.c.until)).label("total_days"),
        )
        .where(spans.c.status != OpportunityStatus.LOST)
        .group_by(spans.c.stage_id, *owners)
    )


def history_figures(
    viewer: User | None, owner_ids: list[int] | None, cohort: metrics.Period, now: datetime
) -> tuple[dict[int, int], dict[int, tuple[int, float]]]:
    """Of the cohort, how many reached each pre-sale stage, and per stage the opportunities
    that were in it and their total days there: one statement, the history read once (a
    CTE both parts use)."""
    spans = _spans(viewer, owner_ids, cohort, now)
    # A UNION's columns are named by its first part: reached's, with the days' total.
    reached = _reached_select(spans).add_columns(
        literal(None).label("total_days"), literal("reached").label("kind")
    )
    days = _days_select(spans).add_columns(literal("days"))
    counts: dict[int, int] = {}
    totals: dict[int, tuple[int, float]] = {}
    for row in db.session.execute(union_all(reached, days)):
        if row.kind == "reached":
            counts[row.stage_id] = row.count
        else:
            totals[row.stage_id] = (row.count, float(row.total_days or 0))
    return counts, totals


def history_by_owners(cohort: metrics.Period, now: datetime) -> dict[tuple[int, int, int], list]:
    """`history_figures` over every opportunity, per (opportunity owner, customer owner,
    stage): [reached, opportunities in the stage, their total days]. The scheduler's
    snapshot keeps them for the teams' views (crm/services/reporting/snapshots.py)."""
    spans = _spans(None, None, cohort, now, by_owners=True)
    # One statement, as history_figures: the history is numbered once for both parts.
    reached = _reached_select(spans, by_owners=True).add_columns(
        literal(None).label("total_days"), literal("reached").label("kind")
    )
    days = _days_select(spans, by_owners=True).add_columns(literal("days"))
    parts: dict[tuple[int, int, int], list] = {}
    for row in db.session.execute(union_all(reached, days)):
        figures = parts.setdefault((row.owner_id, row.customer_owner_id, row.stage_id), [0, 0, 0.0])
        if row.kind == "reached":
            figures[0] = row.count
        else:
            figures[1:] = [row.count, float(row.total_days or 0)]
    return parts


@dataclass
class StageDays:
    stage: Stage
    opportunities: int
    average_days: Decimal


def days_in_stage(
    viewer: User,
    owner_ids: list[int] | None,
    cohort: metrics.Period,
    *,
    now: datetime | None = None,
    totals: dict[int, tuple[int, float]] | None = None,
) -> list[StageDays]:
    """Average days per stage over the cohort's history (`totals` as day_totals gives)."""
    if totals is None:
        _, totals = history_figures(viewer, owner_ids, cohort, now or utcnow())
    return [
        StageDays(
            stage,
            totals[stage.id][0],
            (Decimal(str(totals[stage.id][1] or 0)) / totals[stage.id][0]).quantize(Decimal("0.1")),
        )
        for stage in all_stages()
        if stage.id in totals and totals[stage.id][0]
    ]


@dataclass
class LossLine:
    key: LostReason | Competitor | None
    count: int
    amount: Decimal


def losses(
    viewer: User, owner_ids: list[int] | None, period: metrics.Period
) -> tuple[list[LossLine], list[LossLine]]:
    """Opportunities lost in the period by reason, and by the competitor that won them."""
    reasons: dict[LostReason | None, LossLine] = {}
    competitors: dict[int, LossLine] = {}
    # One pass grouped by (reason, competitor): both lists are sums over its rows.
    for row in db.session.execute(
        _within(
            select(
                Opportunity.lost_reason,
                Competitor,
                func.count().label("count"),
                metrics.amount_sum().label("amount"),
            ),
            viewer,
            owner_ids,
        )
        .outerjoin(Competitor, Competitor.id == Opportunity.lost_to_id)
        .where(Opportunity.status == OpportunityStatus.LOST, period.contains(Opportunity.closed_at))
        .group_by(Opportunity.lost_reason, Competitor.id)
    ):
        _tally(reasons, row.lost_reason, row.lost_reason, row.count, row.amount)
        if row.Competitor is not None:
            _tally(competitors, row.Competitor.id, row.Competitor, row.count, row.amount)
    by_reason = sorted(reasons.values(), key=lambda line: -line.count)
    by_competitor = sorted(competitors.values(), key=lambda line: (-line.count, line.key.name))
    return by_reason, by_competitor


def _tally(lines: dict, key, line_key, count: int, amount) -> None:
    line = lines.setdefault(key, LossLine(line_key, 0, Decimal(0)))
    line.count += count
    line.amount += metrics.money(amount)


def expiring_contracts(
    viewer: User, owner_ids: list[int] | None, today: date, limit: int = 20
) -> list[CompetitorProfile]:
    """Competitors' contracts with the team's customers ending in the next 90 days.

    The team's customers are an IN (subquery): SQLite then reads each customer's
    profiles by (customer, expiry) instead of walking every contract in the window.
    """
    scope = customer_scope(viewer)
    teams = () if owner_ids is None else (Customer.owner_id.in_(owner_ids),)
    within = (
        (CompetitorProfile.customer_id.in_(select(Customer.id).where(scope, *teams)),)
        if teams or not isinstance(scope, True_)
        else ()  # every customer: the expiry index alone answers
    )
    return list(
        db.session.scalars(
            select(CompetitorProfile)
            .options(
                joinedload(CompetitorProfile.competitor), joinedload(CompetitorProfile.customer)
            )
            .where(
                *within,
                CompetitorProfile.contract_expiry.between(
                    today, today + timedelta(days=EXPIRY_DAYS)
                ),
            )
            .order_by(CompetitorProfile.contract_expiry, CompetitorProfile.id)
            .limit(limit)
        )
    )
