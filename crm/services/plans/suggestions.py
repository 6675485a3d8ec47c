"""What the weekly plan form offers with one tap: customers worth a visit that week.

For the plan's manager and week (their time zone), one suggestion per customer of theirs
not planned that week already, with a proposed day and the reasons:

- a customer handed over to them whose visit another manager planned for a day of the
  week from today on (issue 13, item 8: it arrives as a suggestion, never silently);
- a follow-up (Reminder) of theirs due that week;
- an open opportunity of theirs whose next step or expected close falls in the week;
- a customer that will be silent by the week's end by its tier's cadence (the rule of
  crm/services/activity/cadence.py, seen from the week's Sunday).

Four queries (and the cadences, once per request) whatever the portfolio's size; each
kind is capped at LIMIT rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.activity.cadence import SilentRule, cadence_days
from crm.services.plans import periods
from models import (
    Customer,
    CustomerStatus,
    HandoverCustomer,
    Opportunity,
    OpportunityStatus,
    PlanKind,
    PlannedVisit,
    Reminder,
    ReminderStatus,
    Tier,
    User,
    WorkPlan,
)

LIMIT = 30
# The order suggestions are listed in, and whose proposed day wins for one customer.
HANDED_OVER, FOLLOW_UP, NEXT_STEP, EXPECTED_CLOSE, SILENT = (
    "handed_over",
    "follow_up",
    "next_step",
    "expected_close",
    "silent",
)
ORDER = (HANDED_OVER, FOLLOW_UP, NEXT_STEP, EXPECTED_CLOSE, SILENT)
TIER_ORDER = {tier: n for n, tier in enumerate(Tier)}


@dataclass(frozen=True)
class Reason:
    """Why a customer is suggested; templates put it in words (translated at render).

    `on`: the day it concerns (follow-up due, next step, expected close, falls silent);
    `text`: the follow-up's note, the opportunity's title, the previous plan's purpose;
    `who`: the manager who planned it before the handover; `tier`, `days`: the cadence.
    """

    kind: str
    on: date | None = None
    text: str | None = None
    who: str | None = None
    tier: Tier | None = None
    days: int | None = None


@dataclass
class Suggestion:
    customer: Customer
    day: date
    reasons: list[Reason] = field(default_factory=list)
    opportunity: Opportunity | None = None
    purpose: str | None = None  # carried over from the plan it was handed over from

    @property
    def reason(self) -> Reason:
        return self.reasons[0]


def suggestions_for(plan: WorkPlan, *, today: date | None = None) -> list[Suggestion]:
    """The suggestions for a weekly plan, handed-over visits first, then by day."""
    if plan.kind is not PlanKind.WEEK:
        return []
    owner = plan.owner
    monday, sunday = plan.starts_on, plan.starts_on + timedelta(days=6)
    today = today or periods.today_for(owner)
    if sunday < today:
        return []  # the week is over: nothing left to plan
    first = max(monday, today)
    planned = {p.customer_id for p in plan.visits}
    found: dict[int, Suggestion] = {}

    def offer(customer: Customer, day: date, reason: Reason, **more) -> None:
        if customer.id in planned:
            return
        day = min(max(day, first), sunday)
        suggestion = found.get(customer.id)
        if suggestion is None:
            found[customer.id] = Suggestion(customer, day, [reason], **more)
            return
        suggestion.reasons.append(reason)
        if suggestion.opportunity is None and more.get("opportunity") is not None:
            suggestion.opportunity = more["opportunity"]

    for planned_visit, previous in _handed_over(owner, first, sunday):
        offer(
            planned_visit.customer,
            planned_visit.day,
            Reason(HANDED_OVER, on=planned_visit.day, text=planned_visit.purpose, who=previous),
            opportunity=_still_open(planned_visit.opportunity, owner),
            purpose=planned_visit.purpose,
        )
    for reminder in _follow_ups(owner, monday, sunday):
        offer(
            reminder.customer,
            reminder.due_on,
            Reason(FOLLOW_UP, on=reminder.due_on, text=reminder.note or None),
            opportunity=_still_open(reminder.opportunity, owner),
        )
    for opportunity in _opportunities(owner, monday, sunday):
        for kind, on in (
            (NEXT_STEP, opportunity.next_step_on),
            (EXPECTED_CLOSE, opportunity.expected_close),
        ):
            if on is not None and monday <= on <= sunday:
                offer(
                    opportunity.customer,
                    on,
                    Reason(kind, on=on, text=opportunity.title),
                    opportunity=opportunity,
                )
    rule = SilentRule(today=sunday, zone=user_zone(owner), cadences=cadence_days())
    for customer in _falling_silent(owner, rule):
        cadence = rule.cadences[customer.tier]
        # The last day before it falls silent: its quiet days then equal the cadence.
        last_quiet_day = sunday - timedelta(days=rule.quiet_days(customer) - cadence)
        offer(
            customer,
            last_quiet_day,
            Reason(SILENT, on=last_quiet_day + timedelta(days=1), tier=customer.tier, days=cadence),
        )
    return sorted(
        found.values(), key=lambda s: (ORDER.index(s.reason.kind), s.day, s.customer.name)
    )


def _still_open(opportunity: Opportunity | None, owner: User) -> Opportunity | None:
    if opportunity is None or opportunity.status is not OpportunityStatus.OPEN:
        return None
    return opportunity


def _handed_over(owner: User, first: date, sunday: date) -> list[tuple[PlannedVisit, str]]:
    """Planned visits of other managers, from `first` to Sunday, to customers now the owner's."""
    previous = aliased(User)
    rows = db.session.execute(
        select(PlannedVisit, previous.display_name)
        .join(PlannedVisit.plan)
        .join(previous, previous.id == WorkPlan.owner_id)
        .join(PlannedVisit.customer)
        .options(contains_eager(PlannedVisit.customer), joinedload(PlannedVisit.opportunity))
        .where(
            Customer.owner_id == owner.id,
            WorkPlan.owner_id != owner.id,
            WorkPlan.kind == PlanKind.WEEK,
            # Handed over from that plan's manager: not a supervisor's joint visit.
            exists().where(
                HandoverCustomer.customer_id == PlannedVisit.customer_id,
                HandoverCustomer.from_owner_id == WorkPlan.owner_id,
            ),
            PlannedVisit.day >= first,
            PlannedVisit.day <= sunday,
        )
        .order_by(PlannedVisit.day, PlannedVisit.id)
        .limit(LIMIT)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _follow_ups(owner: User, monday: date, sunday: date) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .join(Reminder.customer)
            .options(contains_eager(Reminder.customer), joinedload(Reminder.opportunity))
            .where(
                Reminder.owner_id == owner.id,
                Reminder.status == ReminderStatus.PENDING,
                Reminder.due_on >= monday,
                Reminder.due_on <= sunday,
                Customer.owner_id == owner.id,
            )
            .order_by(Reminder.due_on, Reminder.id)
            .limit(LIMIT)
        )
    )


def _opportunities(owner: User, monday: date, sunday: date) -> list[Opportunity]:
    return list(
        db.session.scalars(
            select(Opportunity)
            .join(Opportunity.customer)
            .options(contains_eager(Opportunity.customer))
            .where(
                Opportunity.owner_id == owner.id,
                Opportunity.status == OpportunityStatus.OPEN,
                Customer.owner_id == owner.id,
                or_(
                    and_(Opportunity.next_step_on >= monday, Opportunity.next_step_on <= sunday),
                    and_(
                        Opportunity.expected_close >= monday, Opportunity.expected_close <= sunday
                    ),
                ),
            )
            .order_by(Opportunity.id)
            .limit(LIMIT)
        )
    )


def _falling_silent(owner: User, rule: SilentRule) -> list[Customer]:
    """The owner's customers silent by the week's Sunday, the highest tier and longest quiet
    first (the rule's own filter, seen from that Sunday)."""
    customers = list(
        db.session.scalars(
            select(Customer).where(
                Customer.owner_id == owner.id,
                Customer.status != CustomerStatus.LOST,
                rule.filter(),
            )
        )
    )
    customers.sort(key=lambda c: (TIER_ORDER[c.tier], -rule.quiet_days(c), c.name))
    return customers[:LIMIT]
