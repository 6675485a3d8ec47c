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

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Date, Integer, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.activity.cadence import SilentRule, cadence_days, silent_condition
from crm.services.plans import periods
from models import (
    Customer,
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
from models.base import UTCDateTime

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


# Each kind's statement is built once per process and bound per page (owner, week, the
# tiers' cutoffs): building them with their joins and loader options cost the plan page
# more than SQLite took to run them (as the customer timeline's did).
OWNER = bindparam("suggest_owner", type_=Integer)
FROM = bindparam("suggest_from", type_=Date)
TO = bindparam("suggest_to", type_=Date)
CUTOFFS = {tier: bindparam(f"suggest_cutoff_{tier.name}", type_=UTCDateTime()) for tier in Tier}


@functools.cache
def _handed_over_statement() -> Select:
    previous = aliased(User)
    return (
        select(PlannedVisit, previous.display_name)
        .join(PlannedVisit.plan)
        .join(previous, previous.id == WorkPlan.owner_id)
        .join(PlannedVisit.customer)
        .options(contains_eager(PlannedVisit.customer), joinedload(PlannedVisit.opportunity))
        .where(
            Customer.owner_id == OWNER,
            WorkPlan.owner_id != OWNER,
            WorkPlan.kind == PlanKind.WEEK,
            # Handed over from that plan's manager: not a supervisor's joint visit.
            exists().where(
                HandoverCustomer.customer_id == PlannedVisit.customer_id,
                HandoverCustomer.from_owner_id == WorkPlan.owner_id,
            ),
            PlannedVisit.day >= FROM,
            PlannedVisit.day <= TO,
        )
        .order_by(PlannedVisit.day, PlannedVisit.id)
        .limit(LIMIT)
    )


def _handed_over(owner: User, first: date, sunday: date) -> list[tuple[PlannedVisit, str]]:
    """Planned visits of other managers, from `first` to Sunday, to customers now the owner's."""
    rows = db.session.execute(_handed_over_statement(), _week(owner, first, sunday)).all()
    return [(row[0], row[1]) for row in rows]


@functools.cache
def _follow_ups_statement() -> Select:
    return (
        select(Reminder)
        .join(Reminder.customer)
        .options(contains_eager(Reminder.customer), joinedload(Reminder.opportunity))
        .where(
            Reminder.owner_id == OWNER,
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on >= FROM,
            Reminder.due_on <= TO,
            Customer.owner_id == OWNER,
        )
        .order_by(Reminder.due_on, Reminder.id)
        .limit(LIMIT)
    )


def _follow_ups(owner: User, monday: date, sunday: date) -> list[Reminder]:
    return list(db.session.scalars(_follow_ups_statement(), _week(owner, monday, sunday)))


@functools.cache
def _opportunities_statement() -> Select:
    return (
        select(Opportunity)
        .join(Opportunity.customer)
        .options(contains_eager(Opportunity.customer))
        .where(
            Opportunity.owner_id == OWNER,
            Opportunity.status == OpportunityStatus.OPEN,
            Customer.owner_id == OWNER,
            or_(
                and_(Opportunity.next_step_on >= FROM, Opportunity.next_step_on <= TO),
                and_(Opportunity.expected_close >= FROM, Opportunity.expected_close <= TO),
            ),
        )
        .order_by(Opportunity.id)
        .limit(LIMIT)
    )


def _opportunities(owner: User, monday: date, sunday: date) -> list[Opportunity]:
    return list(db.session.scalars(_opportunities_statement(), _week(owner, monday, sunday)))


@functools.cache
def _falling_silent_statement() -> Select:
    return select(Customer).where(Customer.owner_id == OWNER, silent_condition(CUTOFFS))


def _falling_silent(owner: User, rule: SilentRule) -> list[Customer]:
    """The owner's customers silent by the week's Sunday, the highest tier and longest quiet
    first (the rule's own filter, seen from that Sunday)."""
    cutoffs = {bind.key: rule.cutoff(tier) for tier, bind in CUTOFFS.items()}
    customers = list(
        db.session.scalars(_falling_silent_statement(), {"suggest_owner": owner.id, **cutoffs})
    )
    customers.sort(key=lambda c: (TIER_ORDER[c.tier], -rule.quiet_days(c), c.name))
    return customers[:LIMIT]


def _week(owner: User, first: date, last: date) -> dict[str, object]:
    """The values of OWNER, FROM and TO."""
    return {"suggest_owner": owner.id, "suggest_from": first, "suggest_to": last}
