"""Building a weekly plan: planned visits, tasks, focus; and the suggestions it offers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed, NotFound
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.plans import lifecycle, suggestions, week
from models import OpportunityStatus, PlanKind, Rating, Tier

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # Wednesday 2 December, 12:00 in Shanghai
MONDAY = date(2026, 12, 7)
SUNDAY = MONDAY + timedelta(days=6)


@pytest.fixture
def plan(org):
    return lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=org["m1"], now=NOW)


def test_a_planned_visit_takes_a_customer_day_contacts_and_opportunity(
    org, plan, make_customer, make_contact, make_opportunity
):
    customer = make_customer(org["m1"], name="某某银行")
    contact = make_contact(customer)
    opportunity = make_opportunity(customer)

    planned = week.add_planned_visit(
        plan,
        actor=org["m1"],
        customer=customer.id,
        day=MONDAY + timedelta(days=1),
        purpose=" 方案交流 ",
        contacts=[contact.id],
        opportunity=opportunity.id,
    )

    assert (planned.customer, planned.purpose, planned.contacts) == (
        customer,
        "方案交流",
        [contact],
    )
    assert planned.opportunity is opportunity
    assert week.visit_text(planned) == "12-08 某某银行: 方案交流"
    assert plan.changes == []  # a draft's changes are the manager's own business


@pytest.mark.parametrize(
    "fault", ["other_customer", "outside_week", "no_day", "others_contact", "others_opportunity"]
)
def test_a_planned_visit_refuses_what_is_not_the_customers_or_the_weeks(
    org, plan, make_customer, make_contact, make_opportunity, fault
):
    customer = make_customer(org["m1"])
    other = make_customer(org["m3"])
    fields = {"customer": customer.id, "day": MONDAY}
    if fault == "other_customer":
        fields["customer"] = other.id
    elif fault == "outside_week":
        fields["day"] = SUNDAY + timedelta(days=1)
    elif fault == "no_day":
        fields["day"] = None
    elif fault == "others_contact":
        fields["contacts"] = [make_contact(other).id]
    else:
        fields["opportunity"] = make_opportunity(make_customer(org["m1"])).id

    with pytest.raises((DomainError, NotFound)):
        week.add_planned_visit(plan, actor=org["m1"], **fields)
    assert plan.visits == []


def test_the_purpose_has_a_limit(org, plan, make_customer):
    customer = make_customer(org["m1"])
    with pytest.raises(DomainError) as refused:
        week.add_planned_visit(
            plan, actor=org["m1"], customer=customer, day=MONDAY, purpose="长" * 501
        )
    assert refused.value.field == "purpose"
    week.add_planned_visit(plan, actor=org["m1"], customer=customer, day=MONDAY, purpose="长" * 500)


def test_only_the_plans_manager_changes_it(org, plan, make_customer):
    customer = make_customer(org["m1"])
    for other in (org["m2"], org["sup1"], org["admin"]):
        with pytest.raises(NotAllowed):
            week.add_planned_visit(plan, actor=other, customer=customer, day=MONDAY)
        with pytest.raises(NotAllowed):
            week.set_focus(plan, actor=other, focus="x")


def test_changes_after_submission_are_recorded_readably(org, plan, make_customer):
    customer = make_customer(org["m1"], name="某某银行")
    planned = week.add_planned_visit(
        plan, actor=org["m1"], customer=customer, day=MONDAY, purpose="方案交流"
    )
    task = week.add_task(plan, actor=org["m1"], text="准备方案", day=MONDAY)
    lifecycle.submit(plan, actor=org["m1"], now=NOW)

    week.update_planned_visit(
        planned, actor=org["m1"], day=MONDAY + timedelta(days=1), purpose="方案交流"
    )
    week.set_task_done(task, actor=org["m1"], done=True)
    week.set_focus(plan, actor=org["m1"], focus="拿下某某银行")
    week.remove_planned_visit(planned, actor=org["m1"])
    db.session.commit()

    assert [(c.what, c.old, c.new) for c in plan.changes] == [
        ("planned visit", "12-07 某某银行: 方案交流", "12-08 某某银行: 方案交流"),
        ("task", "☐ 12-07 准备方案", "☑ 12-07 准备方案"),
        ("focus", None, "拿下某某银行"),
        ("planned visit", "12-08 某某银行: 方案交流", None),
    ]
    assert plan.visits == [] and plan.tasks[0].done


def test_a_task_is_ticked_after_submission_but_not_after_review(org, plan):
    task = week.add_task(plan, actor=org["m1"], text="周报")
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    week.set_task_done(task, actor=org["m1"], done=True)
    lifecycle.review(plan, actor=org["sup1"], rating=Rating.GOOD, comment=None)
    with pytest.raises(DomainError):
        week.set_task_done(task, actor=org["m1"], done=False)
    assert task.done


def test_a_task_needs_text_and_a_day_in_the_week(org, plan):
    with pytest.raises(DomainError):
        week.add_task(plan, actor=org["m1"], text="  ")
    with pytest.raises(DomainError):
        week.add_task(plan, actor=org["m1"], text="周报", day=MONDAY - timedelta(days=1))
    assert plan.tasks == []


def test_the_same_customer_is_planned_once_a_day(org, plan, make_customer):
    customer = make_customer(org["m1"])
    week.add_planned_visit(plan, actor=org["m1"], customer=customer, day=MONDAY)
    with pytest.raises(DomainError):
        week.add_planned_visit(plan, actor=org["m1"], customer=customer, day=MONDAY)


# Suggestions ----------------------------------------------------------------------


def at_shanghai_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)


def test_suggestions_name_silent_customers_follow_ups_and_opportunities(
    org, plan, make_customer, make_reminder, make_opportunity
):
    m1 = org["m1"]
    # Tier A+ (14 days): last visited 28 November, silent from 13 December (Sunday).
    silent = make_customer(
        m1, tier=Tier.A_PLUS, last_visit_at=at_shanghai_midnight(date(2026, 11, 28))
    )
    fresh = make_customer(m1, tier=Tier.A_PLUS, last_visit_at=at_shanghai_midnight(MONDAY))
    due = make_customer(m1, last_visit_at=at_shanghai_midnight(MONDAY))
    reminder = make_reminder(due, due_on=MONDAY + timedelta(days=2), note="回访")
    closing = make_customer(m1, last_visit_at=at_shanghai_midnight(MONDAY))
    opportunity = make_opportunity(closing, expected_close=MONDAY + timedelta(days=4))
    make_opportunity(
        make_customer(m1, last_visit_at=at_shanghai_midnight(MONDAY)),
        expected_close=MONDAY + timedelta(days=4),
        status=OpportunityStatus.WON,
    )
    make_reminder(make_customer(org["m2"]), due_on=MONDAY)  # a colleague's

    found = {s.customer: s for s in suggestions.suggestions_for(plan, today=NOW.date())}

    assert set(found) == {silent, due, closing}
    assert fresh not in found
    assert found[silent].day == date(2026, 12, 12)
    assert found[silent].reason.on == date(2026, 12, 13)
    assert (found[due].day, found[due].reason.kind, found[due].reason.text) == (
        reminder.due_on,
        "follow_up",
        "回访",
    )
    assert found[closing].opportunity is opportunity
    assert found[closing].reason.kind == "expected_close"


def test_customers_already_planned_are_not_suggested(org, plan, make_customer, make_reminder):
    customer = make_customer(org["m1"])
    make_reminder(customer, due_on=MONDAY)
    assert suggestions.suggestions_for(plan, today=NOW.date())
    week.add_planned_visit(plan, actor=org["m1"], customer=customer, day=SUNDAY)
    assert suggestions.suggestions_for(plan, today=NOW.date()) == []


def test_a_handed_over_customers_planned_visit_arrives_as_a_suggestion(org, plan, make_customer):
    customer = make_customer(org["m2"])
    theirs = lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=org["m2"], now=NOW)
    week.add_planned_visit(
        theirs, actor=org["m2"], customer=customer, day=MONDAY + timedelta(days=3), purpose="续约"
    )
    past = make_customer(org["m2"])
    earlier = lifecycle.start_plan(
        PlanKind.WEEK, MONDAY - timedelta(days=7), actor=org["m2"], now=NOW
    )
    week.add_planned_visit(earlier, actor=org["m2"], customer=past, day=MONDAY - timedelta(days=7))
    hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id, past.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="交接",
        token="t-2",
        expected_fingerprint=None,
    )
    db.session.commit()

    found = suggestions.suggestions_for(plan, today=NOW.date())

    assert [(s.customer, s.day, s.reason.kind, s.purpose) for s in found] == [
        (customer, MONDAY + timedelta(days=3), "handed_over", "续约")
    ]
    assert found[0].reason.who == org["m2"].display_name
    assert plan.visits == []  # never silently into the plan
    # On Friday of that week, a Thursday visit is past: nothing to suggest any more.
    assert suggestions.suggestions_for(plan, today=MONDAY + timedelta(days=4)) == []


def test_suggestions_take_a_fixed_number_of_queries(
    org, plan, make_customer, make_reminder, make_opportunity, count_queries
):
    for _n in range(12):
        customer = make_customer(org["m1"], tier=Tier.A_PLUS)
        make_reminder(customer, due_on=MONDAY)
        make_opportunity(customer, next_step_on=MONDAY)
    db.session.expire_all()
    plan = db.session.get(type(plan), plan.id)
    plan.owner, plan.visits  # noqa: B018  (the page loads them anyway)

    with count_queries() as statements:
        found = suggestions.suggestions_for(plan, today=NOW.date())

    assert len(found) == 12
    assert len(statements) <= 5


def test_a_supervisors_joint_visit_is_no_handover_suggestion(org, plan, make_customer):
    customer = make_customer(org["m1"])
    theirs = lifecycle.start_plan(PlanKind.WEEK, MONDAY, actor=org["sup1"], now=NOW)
    week.add_planned_visit(theirs, actor=org["sup1"], customer=customer, day=MONDAY)
    db.session.commit()
    assert suggestions.suggestions_for(plan, today=NOW.date()) == []
