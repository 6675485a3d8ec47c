"""A monthly plan's actual figures: its goals against what happened in the month.

The figures are counted by the home page's rules (`dashboards.visits_logged`, `created_in`,
`won_in`) over the plan's month in its manager's time zone (`periods.period_of`), so the
plan and the manager's home show the same numbers for the same month.

- `actuals_for(plans)`: visits, new opportunities and won amount of many month plans at
  once (the review queue, reports): one statement for any number of plans.
- `key_customer_activity(plan)`: what happened with each key customer in the month:
  the manager's visits to it, its opportunities created, moved a stage, or won.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, case, func, literal, select, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from crm.extensions import db
from crm.services.plans import periods
from crm.services.reporting import dashboards, metrics
from models import (
    Opportunity,
    OpportunityHistory,
    PlanKind,
    User,
    Visit,
    WorkPlan,
)

# Parts of one UNION ALL: SQLite allows 500; a year of months in a few zones needs far fewer.
PERIODS_PER_STATEMENT = 100


@dataclass
class MonthActuals:
    """What a manager did in a plan's month, counted as the home counts it."""

    visits: int = 0
    new_opportunities: int = 0
    won_count: int = 0
    won_amount: Decimal = field(default_factory=lambda: Decimal("0.00"))


def actuals_for(plans: Sequence[WorkPlan]) -> dict[int, MonthActuals]:
    """Each month plan's actual figures, by plan id (weekly plans are left out).

    One statement (per hundred distinct months and zones); plans of the same month and
    zone share its parts. The plans' owners (their zones give the months' bounds) are
    loaded in one more statement when the caller has not loaded them with the plans.
    """
    months = [plan for plan in plans if plan.kind is PlanKind.MONTH]
    _load_owners(months)
    owners_by_period: dict[metrics.Period, set[int]] = defaultdict(set)
    for plan in months:
        owners_by_period[periods.period_of(plan)].add(plan.owner_id)
    found: dict[tuple[metrics.Period, int], MonthActuals] = defaultdict(MonthActuals)
    wanted = list(owners_by_period.items())
    for start in range(0, len(wanted), PERIODS_PER_STATEMENT):
        _count(wanted[start : start + PERIODS_PER_STATEMENT], found)
    return {
        plan.id: found.get((periods.period_of(plan), plan.owner_id), MonthActuals())
        for plan in months
    }


def month_actuals(plan: WorkPlan) -> MonthActuals:
    """One plan's actual figures (see `actuals_for`)."""
    return actuals_for([plan]).get(plan.id, MonthActuals())


@dataclass
class GoalLine:
    """One goal beside its actual figure: `goal` None when the manager set none."""

    name: str  # visits, new_opportunities, won_amount
    goal: int | Decimal | None
    actual: int | Decimal

    @property
    def percent(self) -> int | None:
        """How much of the goal is reached, in whole percent (None without a goal > 0)."""
        if not self.goal:
            return None
        return int(Decimal(self.actual) * 100 / Decimal(self.goal))

    @property
    def reached(self) -> bool:
        return self.goal is not None and self.actual >= self.goal


def goal_lines(plan: WorkPlan, actuals: MonthActuals) -> list[GoalLine]:
    """The plan's three goals, each beside what the month counted so far."""
    return [
        GoalLine("visits", plan.goal_visits, actuals.visits),
        GoalLine("new_opportunities", plan.goal_new_opportunities, actuals.new_opportunities),
        GoalLine("won_amount", plan.goal_won_amount, actuals.won_amount),
    ]


def _load_owners(plans: Sequence[WorkPlan]) -> None:
    """Put the plans' owners in the session at once (their zones give the periods)."""
    missing = [plan for plan in plans if "owner" in db.inspect(plan).unloaded]
    if not missing:
        return
    owners = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({plan.owner_id for plan in missing}))
        )
    }
    for plan in missing:  # the session keeps rows weakly: hold them on the plans
        set_committed_value(plan, "owner", owners[plan.owner_id])


def _count(
    wanted: list[tuple[metrics.Period, set[int]]],
    found: dict[tuple[metrics.Period, int], MonthActuals],
) -> None:
    """Fill `found` for these periods: one UNION ALL of visits, new and won per owner."""
    parts = [
        part
        for i, (p, ids) in enumerate(wanted)
        for part in (_visit_part(i, p, ids), _new_part(i, p, ids), _won_part(i, p, ids))
    ]
    for row in db.session.execute(union_all(*parts)):
        period, ids = wanted[int(row.kind)]
        if row.owner_id not in ids:  # past many owners the visits rule counts everyone's
            continue
        figures = found[(period, row.owner_id)]
        figures.visits += int(row.visits)
        figures.new_opportunities += int(row.new)
        figures.won_count += int(row.won_count)
        figures.won_amount += metrics.money(row.won_amount)


FIGURES = ("visits", "new", "won_count", "won_amount")


def _columns(**figures) -> list:
    """The union's figure columns in order, 0 for the ones this part does not count."""
    return [figures.get(name, literal(0)).label(name) for name in FIGURES]


def _visit_part(index: int, period: metrics.Period, ids: set[int]) -> Select:
    visits = dashboards.visits_logged(str(index), sorted(ids), period).subquery()
    return select(visits.c.kind, visits.c.owner_id, *_columns(visits=visits.c.count))


def _opportunity_part(index: int, ids: set[int], where, **figures) -> Select:
    return (
        select(
            literal(str(index)).label("kind"),
            Opportunity.owner_id.label("owner_id"),
            *_columns(**figures),
        )
        .where(Opportunity.owner_id.in_(sorted(ids)), where)
        .group_by(Opportunity.owner_id)
    )


def _new_part(index: int, period: metrics.Period, ids: set[int]) -> Select:
    return _opportunity_part(index, ids, dashboards.created_in(period), new=func.count())


def _won_part(index: int, period: metrics.Period, ids: set[int]) -> Select:
    return _opportunity_part(
        index,
        ids,
        dashboards.won_in(period),
        won_count=func.count(),
        won_amount=metrics.amount_sum(),
    )


# Key customers -------------------------------------------------------------------


@dataclass
class KeyCustomerActivity:
    """What happened with one key customer in the plan's month, by the plan's manager."""

    visits: list[Visit] = field(default_factory=list)
    created: list[Opportunity] = field(default_factory=list)
    moved: list[Opportunity] = field(default_factory=list)  # changed stage in the month
    won: list[Opportunity] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.visits or self.created or self.moved or self.won)


def key_customer_activity(plan: WorkPlan) -> dict[int, KeyCustomerActivity]:
    """Each key customer's month, by customer id: two statements for any number of them.

    Visits are the manager's own (as the visits figure counts them); opportunities are
    the manager's own of that customer (as the new and won figures count them).
    """
    customer_ids = sorted({kc.customer_id for kc in plan.key_customers})
    activity = {customer_id: KeyCustomerActivity() for customer_id in customer_ids}
    if not customer_ids:
        return activity
    period = periods.period_of(plan)
    for visit in db.session.scalars(
        select(Visit)
        .where(
            Visit.user_id == plan.owner_id,
            Visit.customer_id.in_(customer_ids),
            period.contains(Visit.occurred_at),
        )
        .order_by(Visit.occurred_at, Visit.id)
    ):
        activity[visit.customer_id].visits.append(visit)
    own = (Opportunity.owner_id == plan.owner_id) & Opportunity.customer_id.in_(customer_ids)
    created, won = dashboards.created_in(period), dashboards.won_in(period)
    moved = (
        select(OpportunityHistory.id)
        .where(
            OpportunityHistory.opportunity_id == Opportunity.id,
            period.contains(OpportunityHistory.at),
            # The row changed the stage: its changes hold {"stage_id": [old, new]}.
            OpportunityHistory.changes[("stage_id", 1)].as_integer().is_not(None),
        )
        .exists()
    )
    for row in db.session.execute(
        select(
            Opportunity,
            case((created, 1), else_=0).label("created"),
            case((moved, 1), else_=0).label("moved"),
            case((won, 1), else_=0).label("won"),
        )
        .options(joinedload(Opportunity.stage))
        .where(own, created | moved | won)
        .order_by(Opportunity.created_at, Opportunity.id)
    ):
        opportunity, lines = row.Opportunity, activity[row.Opportunity.customer_id]
        if row.created:
            lines.created.append(opportunity)
        if row.moved:
            lines.moved.append(opportunity)
        if row.won:
            lines.won.append(opportunity)
    return activity
