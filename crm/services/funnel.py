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

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.permissions import customer_scope
from crm.services import metrics
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


def _owned(viewer: User, owner_ids: list[int]):
    return (Opportunity.owner_id.in_(owner_ids), customer_scope(viewer))


def funnel(viewer: User, owner_ids: list[int], cohort: metrics.Period) -> list[FunnelStep]:
    """Pre-sale stages with today's open counts and amounts and the cohort's conversion."""
    stages = list(
        db.session.scalars(
            select(Stage).where(Stage.phase == Phase.PRE_SALE).order_by(Stage.position)
        )
    )
    now_open = {
        sid: (count, amount)
        for sid, count, amount in db.session.execute(
            select(Opportunity.stage_id, func.count(), metrics.amount_sum())
            .join(Opportunity.customer)
            .where(*_owned(viewer, owner_ids), Opportunity.status == OpportunityStatus.OPEN)
            .group_by(Opportunity.stage_id)
        )
    }
    furthest = (
        select(
            OpportunityHistory.opportunity_id.label("opportunity_id"),
            func.max(Stage.position).label("position"),
        )
        .join(Stage, Stage.id == OpportunityHistory.stage_id)
        .join(Opportunity, Opportunity.id == OpportunityHistory.opportunity_id)
        .join(Opportunity.customer)
        .where(
            *_owned(viewer, owner_ids),
            cohort.contains(Opportunity.created_at),
            Stage.phase == Phase.PRE_SALE,
        )
        .group_by(OpportunityHistory.opportunity_id)
        .subquery()
    )
    reached = dict(
        db.session.execute(
            select(Stage.id, func.count(furthest.c.opportunity_id))
            .join(furthest, furthest.c.position >= Stage.position)
            .where(Stage.phase == Phase.PRE_SALE)
            .group_by(Stage.id)
        ).all()
    )
    steps = [
        FunnelStep(
            stage,
            now_open.get(stage.id, (0, 0))[0],
            metrics.money(now_open.get(stage.id, (0, 0))[1]),
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


@dataclass
class StageDays:
    stage: Stage
    opportunities: int
    average_days: Decimal


def days_in_stage(
    viewer: User, owner_ids: list[int], cohort: metrics.Period, *, now: datetime | None = None
) -> list[StageDays]:
    """Average days per stage over the cohort's history, in one windowed query."""
    now = now or utcnow()
    H = OpportunityHistory
    spans = (
        select(
            H.opportunity_id,
            H.stage_id,
            H.status,
            H.at,
            func.lead(H.at)
            .over(partition_by=H.opportunity_id, order_by=(H.at, H.id))
            .label("until"),
        )
        .join(Opportunity, Opportunity.id == H.opportunity_id)
        .join(Opportunity.customer)
        .where(*_owned(viewer, owner_ids), cohort.contains(Opportunity.created_at))
        .subquery()
    )
    until = func.coalesce(spans.c.until, metrics.utc_literal(now))
    rows = db.session.execute(
        select(
            spans.c.stage_id,
            func.count(func.distinct(spans.c.opportunity_id)),
            func.sum(metrics.days_between(spans.c.at, until)),
        )
        .where(spans.c.status != OpportunityStatus.LOST)
        .group_by(spans.c.stage_id)
    ).all()
    stages = {s.id: s for s in db.session.scalars(select(Stage).order_by(Stage.position))}
    found = {sid: (count, total) for sid, count, total in rows}
    return [
        StageDays(
            stage,
            found[sid][0],
            (Decimal(str(found[sid][1] or 0)) / found[sid][0]).quantize(Decimal("0.1")),
        )
        for sid, stage in stages.items()
        if sid in found and found[sid][0]
    ]


@dataclass
class LossLine:
    key: LostReason | Competitor | None
    count: int
    amount: Decimal


def losses(
    viewer: User, owner_ids: list[int], period: metrics.Period
) -> tuple[list[LossLine], list[LossLine]]:
    """Opportunities lost in the period by reason, and by the competitor that won them."""
    where = (
        *_owned(viewer, owner_ids),
        Opportunity.status == OpportunityStatus.LOST,
        period.contains(Opportunity.closed_at),
    )
    by_reason = [
        LossLine(reason, count, metrics.money(amount))
        for reason, count, amount in db.session.execute(
            select(Opportunity.lost_reason, func.count(), metrics.amount_sum())
            .join(Opportunity.customer)
            .where(*where)
            .group_by(Opportunity.lost_reason)
            .order_by(func.count().desc())
        )
    ]
    counted = (
        select(
            Opportunity.lost_to_id, func.count().label("n"), metrics.amount_sum().label("amount")
        )
        .join(Opportunity.customer)
        .where(*where, Opportunity.lost_to_id.is_not(None))
        .group_by(Opportunity.lost_to_id)
        .subquery()
    )
    by_competitor = [
        LossLine(competitor, n, metrics.money(amount))
        for competitor, n, amount in db.session.execute(
            select(Competitor, counted.c.n, counted.c.amount)
            .join(counted, counted.c.lost_to_id == Competitor.id)
            .order_by(counted.c.n.desc(), Competitor.name)
        )
    ]
    return by_reason, by_competitor


def expiring_contracts(
    viewer: User, owner_ids: list[int], today: date, limit: int = 20
) -> list[CompetitorProfile]:
    """Competitors' contracts with the team's customers ending in the next 90 days."""
    return list(
        db.session.scalars(
            select(CompetitorProfile)
            .join(CompetitorProfile.customer)
            .options(
                joinedload(CompetitorProfile.competitor), joinedload(CompetitorProfile.customer)
            )
            .where(
                Customer.owner_id.in_(owner_ids),
                customer_scope(viewer),
                CompetitorProfile.contract_expiry.between(
                    today, today + timedelta(days=EXPIRY_DAYS)
                ),
            )
            .order_by(CompetitorProfile.contract_expiry, CompetitorProfile.id)
            .limit(limit)
        )
    )
