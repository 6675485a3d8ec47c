"""Demo business figures' story: every customer's revenue trend, and why each lost demo
customer left, with the warning signs its health history showed in the months before.

The months of figures themselves are written by the assessment's demo (`ensure_figures`:
two years, the sliding and the lost customers' revenue falling for six months); this step
runs after it, before the service tickets and the health pass.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.services.figures.trend import refresh_revenue_trends
from crm.services.health import signals
from crm.services.reporting.metrics import quarter_of
from models import (
    Competitor,
    CompetitorProfile,
    Customer,
    CustomerStatus,
    HealthSnapshot,
    LossReason,
    MonthlyFigure,
)
from models.base import utcnow

REASONS = (
    LossReason.COMPETITOR,
    LossReason.PRICE,
    LossReason.COMPETITOR,
    LossReason.RELATIONSHIP,
    LossReason.MERGED,
    LossReason.COMPETITOR,
    LossReason.MOVED,
)
NOTES = {
    LossReason.COMPETITOR: "对方给出三年合约价低两成，客户信息中心主任拍板换网。",
    LossReason.PRICE: "预算压缩，专线降级后仍嫌贵，转为按量付费的小运营商。",
    LossReason.RELATIONSHIP: "原对接的副总调走，新任负责人与我方没有往来。",
    LossReason.MERGED: "被集团总部兼并，通信统一由总部采购。",
    LossReason.MOVED: "生产基地整体迁往外省。",
}
# How the warning signs built up before a loss: (days before it, the signals that day).
BUILD_UP = (
    (170, ("silent",)),
    (120, ("silent", "revenue_falling")),
    (75, ("silent", "revenue_falling", "competitor_contract_ending")),
    (30, ("revenue_falling", "competitor_contract_ending", "complaints_overdue", "lines_lost")),
)


def ensure_story() -> int:
    """Refresh every customer's revenue trend; give each lost demo customer its loss (about
    half of them this quarter) and the health history before it. Returns how many losses."""
    refresh_revenue_trends(select(MonthlyFigure.customer_id).distinct())
    lost = list(
        db.session.scalars(
            select(Customer)
            .where(Customer.status == CustomerStatus.LOST, Customer.lost_reason.is_(None))
            .order_by(Customer.id)
        )
    )
    if not lost:
        return 0
    now = utcnow()
    zone = user_zone(None)  # the demo's people all work on Beijing time
    today = today_in(zone, now)
    days_into_quarter = (today - quarter_of(today, zone).first).days
    rules = signals.current_rules()
    rivals = list(
        db.session.scalars(
            select(Competitor.id).where(Competitor.active.is_(True)).order_by(Competitor.id)
        )
    )
    for number, customer in enumerate(lost):
        rng = random.Random(f"demo-loss:{customer.name}")
        reason = REASONS[number % len(REASONS)]
        if reason is LossReason.COMPETITOR and not rivals:
            reason = LossReason.PRICE
        if number % 2 == 0:  # this quarter: on the supervisor's home
            ago = rng.randint(0, max(0, days_into_quarter - 1))
        else:
            ago = days_into_quarter + rng.randint(20, 200)
        customer.lost_at = now - timedelta(days=ago, hours=rng.randint(0, 8))
        customer.lost_reason = reason
        customer.lost_note = NOTES.get(reason)
        if reason is LossReason.COMPETITOR:
            # The competitor already at the customer, else one of the registry's.
            profiled = db.session.scalar(
                select(CompetitorProfile.competitor_id)
                .where(CompetitorProfile.customer_id == customer.id)
                .order_by(CompetitorProfile.id)
                .limit(1)
            )
            customer.lost_to_id = profiled or rng.choice(rivals)
        lost_on = (customer.lost_at - timedelta(days=1)).date()
        for days_before, codes in BUILD_UP[rng.randint(0, 1) :]:
            score = max(0, 100 - sum(rules.weights[code] for code in codes))
            db.session.add(
                HealthSnapshot(
                    customer_id=customer.id,
                    day=lost_on - timedelta(days=days_before),
                    score=score,
                    band=rules.band(score),
                    signals=list(codes),
                )
            )
    db.session.flush()
    return len(lost)
