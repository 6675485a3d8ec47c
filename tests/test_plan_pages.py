"""The plans page and the weekly plan page: start, build from suggestions, tick, submit;
a supervisor reads it; out of scope is 404. In both languages."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services.plans import lifecycle, periods, week
from models import PlanKind, PlanStatus, PlanTask, WorkPlan


def this_monday(user):
    return periods.starts_on_for(PlanKind.WEEK, periods.today_for(user))


def start(user, monday=None) -> WorkPlan:
    plan = lifecycle.start_plan(PlanKind.WEEK, monday or this_monday(user), actor=user)
    db.session.commit()
    return plan


@pytest.fixture(params=["zh_CN", "en"])
def language(request, org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = request.param
    db.session.commit()
    return request.param


def test_the_plans_page_offers_this_and_next_week_and_month(client, login, org, language):
    login(client, org["m1"])
    body = client.get("/plans/").get_data(as_text=True)
    monday = this_monday(org["m1"])
    assert f"/plans/week/{periods.week_key(monday)}" in body
    assert f"/plans/week/{periods.week_key(monday + timedelta(days=7))}" in body
    assert ("计划" if language == "zh_CN" else "Plans") in body


def test_a_manager_starts_the_week_and_lands_on_the_plan(client, login, org, language):
    login(client, org["m1"])
    key = periods.week_key(this_monday(org["m1"]) + timedelta(days=7))
    page = client.get(f"/plans/week/{key}")
    assert page.status_code == 200 and 'id="start-plan"' in page.get_data(as_text=True)

    response = client.post(f"/plans/week/{key}")

    plan = db.session.query(WorkPlan).one()
    assert response.status_code == 302 and response.location.endswith(f"/plans/{plan.id}")
    assert client.get(f"/plans/week/{key}").location.endswith(f"/plans/{plan.id}")
    shown = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert ("周计划" if language == "zh_CN" else "Weekly plan") in shown


@pytest.mark.parametrize("key", ["2026-W54", "2026-50", "x"])
def test_a_bad_week_key_is_404(client, login, org, key):
    login(client, org["m1"])
    assert client.get(f"/plans/week/{key}").status_code == 404


def test_one_tap_on_a_suggestion_plans_the_visit(
    client, login, org, make_customer, make_reminder, language
):
    m1 = org["m1"]
    plan = start(m1)
    customer = make_customer(m1, name="某某银行")
    day = max(periods.today_for(m1), plan.starts_on)
    make_reminder(customer, due_on=day, note="回访")
    login(client, m1)

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert f'id="suggest-{customer.id}"' in body

    response = client.post(
        f"/plans/{plan.id}/visits",
        data={"customer_id": customer.id, "day": day.isoformat(), "opportunity_id": 0},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert [(p.customer_id, p.day) for p in db.session.get(WorkPlan, plan.id).visits] == [
        (customer.id, day)
    ]
    assert f'id="suggest-{customer.id}"' not in client.get(f"/plans/{plan.id}").get_data(
        as_text=True
    )


def test_a_planned_visit_outside_the_week_is_refused_on_the_form(client, login, org, make_customer):
    plan = start(org["m1"])
    customer = make_customer(org["m1"])
    login(client, org["m1"])
    day = plan.starts_on + timedelta(days=7)
    response = client.post(
        f"/plans/{plan.id}/visits", data={"customer_id": customer.id, "day": day.isoformat()}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "invalid-feedback" in body
    assert f'<option selected value="{customer.id}">' in body  # the choice is kept
    db.session.expire_all()
    assert db.session.get(WorkPlan, plan.id).visits == []


def test_tasks_focus_and_submission(client, login, org, make_customer, language):
    m1 = org["m1"]
    plan = start(m1, this_monday(m1) + timedelta(days=7))
    login(client, m1)
    assert (
        client.post(f"/plans/{plan.id}/tasks", data={"text": "周报", "day": ""}).status_code == 302
    )
    assert client.post(f"/plans/{plan.id}/focus", data={"focus": "拿下某某银行"}).status_code == 302
    task = db.session.query(PlanTask).one()
    assert client.post(f"/plans/tasks/{task.id}/toggle").status_code == 302
    assert client.post(f"/plans/{plan.id}/submit").status_code == 302
    db.session.expire_all()
    plan = db.session.get(WorkPlan, plan.id)
    assert plan.status is PlanStatus.SUBMITTED and plan.focus == "拿下某某银行"
    assert plan.tasks[0].done
    # After submission a tick is still a change, and it is recorded.
    client.post(f"/plans/tasks/{task.id}/toggle")
    db.session.expire_all()
    assert [c.what for c in db.session.get(WorkPlan, plan.id).changes] == ["task"]


def test_the_supervisor_reads_the_plan_without_edit_controls(
    client, login, org, make_customer, language
):
    m1 = org["m1"]
    plan = start(m1)
    customer = make_customer(m1, name="某某银行")
    sunday = plan.starts_on + timedelta(days=6)
    week.add_planned_visit(plan, actor=m1, customer=customer, day=sunday, purpose="交流")
    db.session.commit()
    login(client, org["sup1"])

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    assert "某某银行" in body and "交流" in body
    assert 'id="add-visit-form"' not in body and "remove-planned-" not in body
    assert 'id="plan-vs-actual"' in body and 'data-outcome="coming"' in body  # not missed yet
    team = client.get("/plans/").get_data(as_text=True)
    assert f"/plans/{plan.id}" in team and 'id="team-plans"' in team
    # And a supervisor's POST changes nothing.
    client.post(f"/plans/{plan.id}/focus", data={"focus": "改"})
    db.session.expire_all()
    assert db.session.get(WorkPlan, plan.id).focus is None


@pytest.mark.parametrize("persona", ["m2", "m3", "sup2"])
def test_another_managers_plan_is_404(client, login, org, make_customer, persona):
    plan = start(org["m1"])
    login(client, org[persona])
    assert client.get(f"/plans/{plan.id}").status_code == 404
    assert client.post(f"/plans/{plan.id}/tasks", data={"text": "x"}).status_code == 404


def test_plan_vs_actual_shows_done_missing_and_unplanned(
    client, login, org, make_customer, make_visit, language
):
    m1 = org["m1"]
    plan = start(m1, this_monday(m1) - timedelta(days=7))  # last week: every day is past
    done, missing, extra = (make_customer(m1, name=n) for n in ("甲银行", "乙银行", "丙银行"))
    for customer in (done, missing):
        week.add_planned_visit(plan, actor=m1, customer=customer, day=plan.starts_on)
    db.session.commit()
    when = periods.period_of(plan).start + timedelta(hours=2)
    visit = make_visit(done, occurred_at=when)
    other = make_visit(extra, occurred_at=when)
    login(client, m1)

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    assert f"/visits/{visit.id}" in body and f"/visits/{other.id}" in body
    assert 'data-outcome="done"' in body and 'data-outcome="missing"' in body
    assert ("50%" in body) and 'id="unplanned"' in body


def test_the_navigation_links_the_plans(client, login, org, language):
    login(client, org["m1"])
    body = client.get("/").get_data(as_text=True)
    assert 'href="/plans/"' in body


def test_the_plan_page_does_not_grow_in_statements_with_its_rows(
    client, login, org, make_customer, make_contact, make_visit, count_queries
):
    m1 = org["m1"]
    plan = start(m1)
    plan_id = plan.id  # read once: the test's own reads of the plan are not the page's
    when = min(periods.period_of(plan).start + timedelta(hours=2), datetime.now(UTC))
    login(client, m1)

    def add(count):
        for _ in range(count):
            customer = make_customer(m1)
            make_contact(customer)
            planned = week.add_planned_visit(plan, actor=m1, customer=customer, day=plan.starts_on)
            planned.contacts = list(customer_contacts(customer))
            week.add_task(plan, actor=m1, text="任务")
            make_visit(customer, occurred_at=when)
        db.session.commit()

    def statements():
        with count_queries() as seen:
            assert client.get(f"/plans/{plan_id}").status_code == 200
        return len(seen)

    add(2)
    few = statements()
    add(6)
    assert statements() == few <= 15  # the bench's ceiling, while the plan is being built
    lifecycle.submit(plan, actor=m1)
    db.session.commit()
    assert statements() <= 15  # submitted: the review panel reads its changes and verdicts
    login(client, org["sup1"])
    assert statements() <= 15


def customer_contacts(customer):
    from models import Contact

    return db.session.query(Contact).filter_by(customer_id=customer.id)


def test_plan_vs_actual_shows_where_each_visit_was_checked_in(
    client, login, org, make_customer, make_visit
):
    """The supervisor reviewing a week sees which visits were logged on site (外勤签到)."""
    m1 = org["m1"]
    plan = start(m1, this_monday(m1) - timedelta(days=7))
    on_site, away = (
        make_customer(m1, name=n, site_lat=31.2304, site_lng=121.4737) for n in ("甲银行", "乙银行")
    )
    for customer in (on_site, away):
        week.add_planned_visit(plan, actor=m1, customer=customer, day=plan.starts_on)
    db.session.commit()
    when = periods.period_of(plan).start + timedelta(hours=2)
    make_visit(on_site, occurred_at=when, check_in_lat=31.2305, check_in_lng=121.4738)
    make_visit(away, occurred_at=when, check_in_lat=31.2504, check_in_lng=121.4737)
    login(client, org["sup1"])

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    assert 'data-check-in="on_site"' in body and 'data-check-in="away"' in body


def test_the_plan_page_has_no_duplicate_ids(client, login, org, make_customer):
    """Each label points at its own field (the visit and task forms both have a day)."""
    m1 = org["m1"]
    plan = start(m1)
    week.add_planned_visit(plan, actor=m1, customer=make_customer(m1), day=plan.starts_on)
    week.add_task(plan, actor=m1, text="任务")
    db.session.commit()
    login(client, m1)

    body = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    ids = re.findall(r'\sid="([^"]+)"', body)
    assert [name for name, count in Counter(ids).items() if count > 1] == []
