"""What each signal reads: one grouped query per source over every customer at once.

Each function returns {customer id: detail} for the customers on whom its signal fires,
the detail being what the explanation says and links to (JSON: numbers, ISO dates, ids,
names). None loops over customers in SQL: at 100,000 customers, 1.3 million figure rows
and 200,000 tickets the whole pass is a handful of statements (scripts/bench-health).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, or_, select

from crm.extensions import db
from crm.services.activity import cadence
from crm.services.health.signals import (
    REPEATED_WINDOW_DAYS,
    SATISFACTION_WINDOW_DAYS,
    Rules,
)
from models import (
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerStatus,
    MonthlyFigure,
    Opportunity,
    OpportunityStatus,
    ServiceTicket,
    ThreatLevel,
    TicketKind,
    TicketStatus,
)

Details = dict[int, dict[str, Any]]
OPEN_TICKETS = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def customer_ids() -> list[int]:
    """Every customer still served (a lost one has no health: nobody is to keep it)."""
    return list(
        db.session.scalars(select(Customer.id).where(Customer.status != CustomerStatus.LOST))
    )


# Figures: the last six billing months ----------------------------------------------------


def figures(rules: Rules) -> tuple[Details, Details, Details]:
    """Revenue falling, lines lost, arrears growing: one grouped read of six months.

    The months are the latest one any import brought and the five before it, so every
    customer is measured on the same calendar. Revenue compares the last three months
    with the three before (all six present, as the customer list's trend column counts
    them); lines lost are those of the last three months against the lines in use;
    arrears compare the latest month with three months before. The limits are tested
    in SQL, so only the customers on whom one fires come back.
    """
    latest = db.session.scalar(select(func.max(MonthlyFigure.month)))
    if latest is None:
        return {}, {}, {}
    c = MonthlyFigure.__table__.c
    recent_from = add_months(latest, -2)
    arrears_before_month = add_months(latest, -3)

    def total(value):  # floats: exact enough to compare and to show, and no Decimal per row
        return cast(func.sum(value), Float)

    # The sums once per customer (an inner query), the limits on its columns (the outer):
    # SQLite would otherwise compute every sum again for each test that names it.
    sums = (
        select(
            c.customer_id,
            func.count(c.month).label("months"),
            total(case((c.month >= recent_from, c.revenue), else_=0)).label("recent"),
            total(case((c.month < recent_from, c.revenue), else_=0)).label("before"),
            total(case((c.month >= recent_from, func.coalesce(c.lines_lost, 0)), else_=0)).label(
                "lost"
            ),
            func.coalesce(
                func.max(case((c.month == latest, c.active_lines))),
                func.max(case((c.month >= recent_from, c.active_lines))),
            ).label("in_use"),
            cast(func.coalesce(func.max(case((c.month == latest, c.arrears))), 0), Float).label(
                "owed"
            ),
            cast(
                func.coalesce(func.max(case((c.month == arrears_before_month, c.arrears))), 0),
                Float,
            ).label("owed_before"),
        )
        .where(c.month >= add_months(latest, -5), c.month <= latest)
        .group_by(c.customer_id)
        .subquery()
    )
    f = sums.c
    falling = and_(
        f.months == 6,
        f.before > 0,
        (f.recent - f.before) * 100 <= -rules.revenue_drop_percent * f.before,
    )
    losing = and_(
        f.lost > 0,
        f.in_use.is_not(None),
        f.lost * 100 >= rules.lines_lost_percent * (f.in_use + f.lost),
    )
    growth = 1 + rules.arrears_growth_percent / 100.0
    owing = and_(f.owed > 0, f.owed > f.owed_before, f.owed >= f.owed_before * growth)
    rows = db.session.execute(
        select(
            sums,
            case((falling, 1), else_=0).label("falling"),
            case((losing, 1), else_=0).label("losing"),
            case((owing, 1), else_=0).label("owing"),
        ).where(or_(falling, losing, owing))
    )
    revenue: Details = {}
    lines: Details = {}
    arrears: Details = {}
    window = {"from": recent_from.isoformat(), "to": latest.isoformat()}
    for row in rows:
        if row.falling:
            revenue[row.customer_id] = {
                "percent": round((row.recent - row.before) * 100 / row.before, 1),
                "recent": round(row.recent, 2),
                "before": round(row.before, 2),
                **window,
            }
        if row.losing:
            lines[row.customer_id] = {
                "lines": int(row.lost),
                "percent": round(row.lost * 100 / (row.in_use + row.lost), 1),
                "in_use": int(row.in_use),
                **window,
            }
        if row.owing:
            arrears[row.customer_id] = {
                "now": round(row.owed, 2),
                "before": round(row.owed_before, 2),
                "month": latest.isoformat(),
                "before_month": arrears_before_month.isoformat(),
            }
    return revenue, lines, arrears


# Service tickets ------------------------------------------------------------------------


def complaints_overdue(now: datetime) -> Details:
    """Complaints still open past their SLA due time; the oldest one is linked."""
    rows = db.session.execute(
        select(
            ServiceTicket.customer_id,
            func.count().label("count"),
            func.min(ServiceTicket.id).label("ticket_id"),
        )
        .where(
            ServiceTicket.status.in_(OPEN_TICKETS),
            ServiceTicket.due_at < now,
            ServiceTicket.kind == TicketKind.COMPLAINT,
        )
        .group_by(ServiceTicket.customer_id)
    )
    return {row.customer_id: {"count": row.count, "ticket_id": row.ticket_id} for row in rows}


def complaints_and_ratings(now: datetime, rules: Rules) -> tuple[Details, Details]:
    """Repeated complaints (at least the set number opened in the last 90 days) and low
    satisfaction (the revisits' average rating of the last 180 days at or below the set
    one): one read of the tickets for both."""
    t = ServiceTicket
    complaint = and_(
        t.kind == TicketKind.COMPLAINT,
        t.opened_at >= now - timedelta(days=REPEATED_WINDOW_DAYS),
    )
    rated = and_(
        t.satisfaction.is_not(None),
        t.closed_at >= now - timedelta(days=SATISFACTION_WINDOW_DAYS),
    )
    complaints = func.sum(case((complaint, 1), else_=0))
    rating = case((rated, t.satisfaction))
    average = cast(func.avg(rating), Float)
    repeated = complaints >= rules.repeated_complaints
    low = average <= rules.low_satisfaction
    rows = db.session.execute(
        select(
            t.customer_id,
            complaints.label("complaints"),
            average.label("average"),
            func.count(rating).label("ratings"),
            case((repeated, 1), else_=0).label("repeated"),
            case((low, 1), else_=0).label("low"),
        )
        .where(or_(complaint, rated))
        .group_by(t.customer_id)
        .having(or_(repeated, low))
    )
    found: Details = {}
    unhappy: Details = {}
    for row in rows:
        if row.repeated:
            found[row.customer_id] = {"count": int(row.complaints), "days": REPEATED_WINDOW_DAYS}
        if row.low:
            unhappy[row.customer_id] = {
                "average": round(row.average, 1),
                "ratings": row.ratings,
                "days": SATISFACTION_WINDOW_DAYS,
            }
    return found, unhappy


# The relationship -----------------------------------------------------------------------


def silent(today: date, zone: ZoneInfo) -> Details:
    """Quiet longer than the tier's cadence: the silent-customer rule of activity/cadence,
    as the lists and homes count it (in the organisation's zone)."""
    rule = cadence.SilentRule(today=today, zone=zone, cadences=cadence.cadence_days())
    rows = db.session.execute(
        select(Customer.id, Customer.tier, Customer.last_visit_at, Customer.created_at).where(
            rule.filter()
        )
    )
    # The day of the last visit, not the days since: the stored reason stays the same
    # night after night (the explanation counts the days when it is read).
    return {
        row.id: {
            "since": (row.last_visit_at or row.created_at).astimezone(zone).date().isoformat(),
            "cadence": rule.cadences[row.tier],
            "visited": row.last_visit_at is not None,
        }
        for row in rows
    }


def without_decision_maker(customer_ids: list[int]) -> Details:
    """No active contact whose buying role is decision maker."""
    with_one = set(
        db.session.scalars(
            select(Contact.customer_id)
            .where(Contact.role == BuyingRole.DECISION_MAKER, Contact.active.is_(True))
            .distinct()
        )
    )
    return {customer_id: {} for customer_id in customer_ids if customer_id not in with_one}


def contract_ending(today: date, rules: Rules) -> Details:
    """Our main contract with the customer ends within the set days (from today on)."""
    last = today + timedelta(days=rules.contract_expiry_days)
    rows = db.session.execute(
        select(Customer.id, Customer.contract_expiry).where(
            Customer.contract_expiry >= today,
            Customer.contract_expiry <= last,
            Customer.status != CustomerStatus.LOST,
        )
    )
    return {row.id: {"on": row.contract_expiry.isoformat()} for row in rows}


def competitors(today: date, rules: Rules) -> tuple[Details, Details]:
    """A competitor's contract here ending soon; a competitor marked high threat here.

    Where several fire on one customer, the explanation names the soonest contract and
    every high-threat competitor (their count and the first, by name).
    """
    last = today + timedelta(days=rules.competitor_expiry_days)
    rows = db.session.execute(
        select(
            CompetitorProfile.id,
            CompetitorProfile.customer_id,
            CompetitorProfile.contract_expiry,
            CompetitorProfile.threat,
            Competitor.name,
        )
        .join(Competitor, Competitor.id == CompetitorProfile.competitor_id)
        .where(
            or_(
                and_(
                    CompetitorProfile.contract_expiry >= today,
                    CompetitorProfile.contract_expiry <= last,
                ),
                CompetitorProfile.threat == ThreatLevel.HIGH,
            )
        )
        .order_by(CompetitorProfile.customer_id, Competitor.name)
    )
    ending: Details = {}
    threats: Details = {}
    for row in rows:
        expiry = row.contract_expiry
        if expiry is not None and today <= expiry <= last:
            soonest = ending.get(row.customer_id)
            if soonest is None or expiry.isoformat() < soonest["on"]:
                ending[row.customer_id] = {
                    "competitor": row.name,
                    "profile_id": row.id,
                    "on": expiry.isoformat(),
                }
        if row.threat == ThreatLevel.HIGH:
            named = threats.setdefault(
                row.customer_id, {"competitor": row.name, "profile_id": row.id, "count": 0}
            )
            named["count"] += 1
    return ending, threats


def lost_to_competitor(now: datetime, rules: Rules) -> Details:
    """An opportunity lost to a competitor in the set days; the latest is named."""
    rows = db.session.execute(
        select(
            Opportunity.id,
            Opportunity.customer_id,
            Opportunity.title,
            Opportunity.closed_at,
            Competitor.name,
        )
        .join(Competitor, Competitor.id == Opportunity.lost_to_id)
        .where(
            Opportunity.status == OpportunityStatus.LOST,
            Opportunity.closed_at >= now - timedelta(days=rules.lost_opportunity_days),
        )
        .order_by(Opportunity.closed_at)
    )
    found: Details = {}
    for row in rows:  # oldest first: the latest one stays
        count = found.get(row.customer_id, {}).get("count", 0) + 1
        found[row.customer_id] = {
            "opportunity_id": row.id,
            "title": row.title,
            "competitor": row.name,
            "count": count,
        }
    return found
