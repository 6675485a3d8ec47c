"""The monthly plan (月计划): goals, key customers, and the month's actual figures.

The actual figures are the home page's: the same dataset gives the same numbers in the
supervisor's team table and in the plan. November 2026 in Shanghai runs from
31 October 16:00 UTC to 30 November 16:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed, NotFound, StaleEdit
from crm.services.plans import lifecycle, month_actuals, periods
from crm.services.plans import month as month_plan
from crm.services.reporting import dashboards
from models import (
    KeyCustomerAim,
    OpportunityHistory,
    OpportunityStatus,
    PlanChange,
    PlanKeyCustomer,
    PlanKind,
    PlanStatus,
    PlanTask,
    Rating,
    WorkPlan,
)

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # Friday 20 November, 12:00 in Shanghai
NOVEMBER = date(2026, 11, 1)


def utc(month, day, hour=0, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _plan(owner, first=NOVEMBER, **fields) -> WorkPlan:
    plan = WorkPlan(owner=owner, kind=PlanKind.MONTH, starts_on=first, **fields)
    db.session.add(plan)
    db.session.commit()
    return plan


def _this_month(owner, **fields) -> WorkPlan:
    return _plan(owner, periods.today_for(owner).replace(day=1), **fields)


def _key(plan: WorkPlan) -> str:
    return periods.key_of(plan)


# Goals and free text ----------------------------------------------------------------


def _goals(plan, actor, **given):
    values = {"visits": "", "new_opportunities": "", "won_amount": "", "focus": ""}
    return month_plan.set_goals(plan, actor=actor, **{**values, **given})


def test_goals_are_whole_numbers_and_an_amount_and_empty_is_no_goal(app, org):
    plan = _plan(org["m1"])
    _goals(plan, org["m1"], visits="40", new_opportunities=6, won_amount="150000.5", focus=" 冲刺 ")
    assert (plan.goal_visits, plan.goal_new_opportunities) == (40, 6)
    assert plan.goal_won_amount == Decimal("150000.50") and plan.focus == "冲刺"
    _goals(plan, org["m1"], visits="", won_amount=None)
    assert plan.goal_visits is None and plan.goal_won_amount is None and plan.focus is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("visits", "-1"),
        ("visits", "1001"),
        ("visits", "3.5"),
        ("visits", "many"),
        ("new_opportunities", "-2"),
        ("won_amount", "-0.01"),
        ("won_amount", "1.234"),
        ("won_amount", "NaN"),
        ("won_amount", "Infinity"),
        ("won_amount", "abc"),
        ("won_amount", "10000000000000"),
        ("focus", "字" * 5001),
    ],
)
def test_bad_goals_are_refused_and_change_nothing(app, org, field, value):
    plan = _plan(org["m1"], goal_visits=10, goal_won_amount=Decimal("100.00"), focus="原")
    version = plan.version
    with pytest.raises(DomainError) as refused:
        _goals(plan, org["m1"], **{"visits": "12", "won_amount": "5", field: value})
    assert refused.value.field == field
    db.session.rollback()
    plan = db.session.get(WorkPlan, plan.id)
    assert (plan.goal_visits, plan.goal_won_amount, plan.focus) == (10, Decimal("100.00"), "原")
    assert plan.version == version


def test_only_the_manager_changes_a_plan_and_not_once_reviewed(app, org, make_customer):
    plan = _plan(org["m1"])
    customer = make_customer(org["m1"])
    for other in (org["m2"], org["sup1"], org["admin"]):
        with pytest.raises(NotAllowed):
            _goals(plan, other, visits="5")
        with pytest.raises(NotAllowed):
            month_plan.add_key_customer(
                plan, actor=other, customer_id=customer.id, aim_kind="advance", aim=None
            )
    plan.status = PlanStatus.REVIEWED
    db.session.commit()
    with pytest.raises(DomainError, match="已锁定"):
        _goals(plan, org["m1"], visits="5")
    with pytest.raises(DomainError, match="已锁定"):
        month_plan.add_key_customer(
            plan, actor=org["m1"], customer_id=customer.id, aim_kind="advance", aim=None
        )
    assert plan.goal_visits is None and not plan.key_customers


def test_a_weekly_plan_has_no_goals(app, org):
    week = WorkPlan(owner=org["m1"], kind=PlanKind.WEEK, starts_on=date(2026, 11, 16))
    db.session.add(week)
    db.session.commit()
    with pytest.raises(DomainError, match="月计划"):
        _goals(week, org["m1"], visits="3")


def test_a_goals_form_opened_before_another_save_is_stale(app, org):
    plan = _plan(org["m1"])
    opened = plan.version
    _goals(plan, org["m1"], visits="3")
    db.session.commit()
    with pytest.raises(StaleEdit):
        _goals(plan, org["m1"], visits="4", version=opened)
    _goals(plan, org["m1"], visits="4", version=plan.version)
    assert plan.goal_visits == 4


# Key customers ----------------------------------------------------------------------


def test_key_customers_are_the_managers_own_once_each(app, org, make_customer):
    plan = _plan(org["m1"])
    own, other_team = make_customer(org["m1"], name="本方客户"), make_customer(org["m3"])
    row = month_plan.add_key_customer(
        plan, actor=org["m1"], customer_id=own.id, aim_kind="develop", aim=" 首单 "
    )
    assert (row.aim_kind, row.aim, row.customer_id) == (KeyCustomerAim.DEVELOP, "首单", own.id)
    with pytest.raises(DomainError, match="已在计划中"):
        month_plan.add_key_customer(
            plan, actor=org["m1"], customer_id=own.id, aim_kind="advance", aim=None
        )
    for refused in (other_team.id, 0, "x", 10**30):
        with pytest.raises(NotFound):
            month_plan.add_key_customer(
                plan, actor=org["m1"], customer_id=refused, aim_kind="advance", aim=None
            )
    with pytest.raises(DomainError) as bad_kind:
        month_plan.add_key_customer(
            plan, actor=org["m1"], customer_id=make_customer(org["m1"]).id, aim_kind="win", aim=""
        )
    assert bad_kind.value.field == "aim_kind"
    db.session.rollback()
    assert [kc.customer_id for kc in db.session.get(WorkPlan, plan.id).key_customers] == [own.id]

    removed = month_plan.remove_key_customer(plan, actor=org["m1"], key_customer_id=row.id)
    assert removed.id == own.id and not plan.key_customers
    with pytest.raises(NotFound):
        month_plan.remove_key_customer(plan, actor=org["m1"], key_customer_id=row.id)


def test_changes_after_submission_are_recorded_old_to_new(app, org, make_customer):
    plan = _plan(org["m1"])
    customer = make_customer(org["m1"], name="甲公司")
    _goals(plan, org["m1"], visits="10", focus="草稿")  # a draft: the manager's own business
    assert plan.changes == []
    lifecycle.submit(plan, actor=org["m1"], now=NOW)
    _goals(plan, org["m1"], visits="12", won_amount="800", focus="定稿")
    row = month_plan.add_key_customer(
        plan, actor=org["m1"], customer_id=customer.id, aim_kind="advance", aim="签约"
    )
    month_plan.remove_key_customer(plan, actor=org["m1"], key_customer_id=row.id)
    db.session.commit()
    changes = db.session.scalars(select(PlanChange).order_by(PlanChange.id)).all()
    assert [(c.what, c.old, c.new) for c in changes] == [
        ("visits goal", "10", "12"),
        ("won amount goal", None, "800.00"),
        ("free text", "草稿", "定稿"),
        ("key customer", None, "甲公司: 签约"),
        ("key customer", "甲公司: 签约", None),
    ]
    assert {c.what for c in changes} <= set(month_plan.CHANGE_LABELS)
    assert all(c.user_id == org["m1"].id for c in changes)


# Actual figures: the home's --------------------------------------------------------------


@pytest.fixture(name="november")
def november_fixture(org, make_customer, make_visit, make_opportunity, stages):
    """m1's November, with m2 and m3 doing things that must not count for m1."""
    m1, m2, m3 = org["m1"], org["m2"], org["m3"]
    b, x, far = (
        make_customer(m1, name="乙公司"),
        make_customer(m1, name="丙公司"),
        make_customer(m3),
    )
    for at in (utc(10, 31, 16, 30), utc(11, 30, 15, 30), utc(10, 31, 15, 30), utc(11, 30, 16)):
        make_visit(b, occurred_at=at)  # 1 Nov 00:30 and 30 Nov 23:30 count; the others not
    make_visit(x, occurred_at=utc(11, 2, 3))
    make_visit(b, user=m2, occurred_at=utc(11, 3))  # counts for m2, who logged it
    make_visit(far, occurred_at=utc(11, 3))
    won, lost = OpportunityStatus.WON, OpportunityStatus.LOST
    o = {
        "new": make_opportunity(b, created_at=utc(11, 3)),
        "won_old": make_opportunity(
            b,
            "Contract",
            created_at=utc(8, 1),
            status=won,
            amount=Decimal("1000"),
            closed_at=utc(11, 10),
        ),
        "new_won": make_opportunity(
            x,
            "Contract",
            created_at=utc(11, 5),
            status=won,
            amount=Decimal("250.50"),
            closed_at=utc(11, 20),
        ),
        "lost": make_opportunity(x, created_at=utc(9, 1), status=lost, closed_at=utc(11, 6)),
        "won_october": make_opportunity(
            b,
            "Contract",
            created_at=utc(9, 1),
            status=won,
            amount=Decimal("99"),
            closed_at=utc(10, 31, 15),
        ),
        "other_team": make_opportunity(
            far,
            "Contract",
            created_at=utc(11, 4),
            status=won,
            amount=Decimal("7"),
            closed_at=utc(11, 8),
        ),
    }
    first, second = stages["Initial contact"], stages["Needs discovery"]
    history = [
        (o["new"], utc(11, 15), second, {"stage_id": [first.id, second.id]}),
        (o["won_old"], utc(11, 12), stages["Contract"], {"amount": ["900", "1000"]}),
        (o["won_october"], utc(10, 31, 15), stages["Contract"], {"stage_id": [first.id, 6]}),
    ]
    for opportunity, at, stage, changes in history:
        db.session.add(
            OpportunityHistory(
                opportunity=opportunity,
                at=at,
                stage_id=stage.id,
                probability=0,
                status=opportunity.status,
                changes=changes,
            )
        )
    db.session.commit()
    return {"b": b, "x": x, "o": o}


def test_the_months_figures_are_the_homes(app, org, november):
    plan = _plan(org["m1"])
    home = dashboards.team_table(org["m1"], [org["m1"]], now=NOW)[0]
    actual = month_actuals.month_actuals(plan)
    assert (actual.visits, actual.new_opportunities, actual.won_amount) == (
        home.visits_month,
        home.new_month,
        home.won_month,
    )
    assert (actual.visits, actual.new_opportunities) == (3, 2)
    assert (actual.won_count, actual.won_amount) == (2, Decimal("1250.50"))


def test_goal_lines_put_each_goal_beside_its_actual(app, org, november):
    plan = _plan(org["m1"], goal_visits=6, goal_won_amount=Decimal("1000"))
    lines = {
        line.name: line
        for line in month_actuals.goal_lines(plan, month_actuals.month_actuals(plan))
    }
    assert (lines["visits"].actual, lines["visits"].percent, lines["visits"].reached) == (
        3,
        50,
        False,
    )
    assert (lines["won_amount"].percent, lines["won_amount"].reached) == (125, True)
    assert lines["new_opportunities"].goal is None and lines["new_opportunities"].percent is None


def test_many_plans_are_counted_in_one_statement(app, org, november, count_queries):
    plans = [
        _plan(org["m1"]),
        _plan(org["m2"]),
        _plan(org["m3"]),
        _plan(org["m1"], date(2026, 10, 1)),
        _plan(org["m4"], date(2026, 12, 1)),
    ]
    org["m4"].timezone = "Europe/Berlin"
    db.session.commit()
    ids = [plan.id for plan in plans]
    db.session.expunge_all()
    loaded = db.session.scalars(
        select(WorkPlan).options(joinedload(WorkPlan.owner)).order_by(WorkPlan.id)
    ).all()
    with count_queries() as statements:
        found = month_actuals.actuals_for(loaded)
    assert len(statements) == 1
    by_id = {plan.id: found[plan.id] for plan in loaded}
    m1_nov, m2_nov, m3_nov, m1_oct, m4_dec = (by_id[plan_id] for plan_id in ids)
    assert (m1_nov.visits, m1_nov.won_amount) == (3, Decimal("1250.50"))
    assert (m2_nov.visits, m2_nov.new_opportunities) == (1, 0)
    assert (m3_nov.visits, m3_nov.new_opportunities, m3_nov.won_amount) == (1, 1, Decimal("7.00"))
    assert (m1_oct.visits, m1_oct.won_count, m1_oct.won_amount) == (1, 1, Decimal("99.00"))
    assert m4_dec == month_actuals.MonthActuals()

    db.session.expunge_all()
    bare = db.session.scalars(select(WorkPlan)).all()  # owners not loaded: one more statement
    with count_queries() as statements:
        assert month_actuals.actuals_for(bare)[ids[0]].visits == 3
    assert len(statements) == 2, "\n".join(statements)


def test_weekly_plans_have_no_month_actuals(app, org):
    week = WorkPlan(owner=org["m1"], kind=PlanKind.WEEK, starts_on=date(2026, 11, 16))
    db.session.add(week)
    db.session.commit()
    assert month_actuals.actuals_for([week]) == {}


def test_what_happened_with_each_key_customer(app, org, november, count_queries):
    b, x, o = november["b"], november["x"], november["o"]
    plan = _plan(org["m1"])
    for customer, kind in ((b, KeyCustomerAim.ADVANCE), (x, KeyCustomerAim.DEVELOP)):
        plan.key_customers.append(PlanKeyCustomer(customer=customer, aim_kind=kind))
    db.session.commit()
    plan = db.session.scalars(
        select(WorkPlan).options(joinedload(WorkPlan.owner)).where(WorkPlan.id == plan.id)
    ).one()
    plan.key_customers  # noqa: B018  (loaded before counting)
    with count_queries() as statements:
        activity = month_actuals.key_customer_activity(plan)
    assert len(statements) == 2, "\n".join(statements)
    assert [v.occurred_at for v in activity[b.id].visits] == [
        utc(10, 31, 16, 30),
        utc(11, 30, 15, 30),
    ]
    assert [op.id for op in activity[b.id].created] == [o["new"].id]
    assert [op.id for op in activity[b.id].moved] == [o["new"].id]
    assert [op.id for op in activity[b.id].won] == [o["won_old"].id]
    assert len(activity[x.id].visits) == 1 and not activity[x.id].moved
    assert [op.id for op in activity[x.id].created] == [o["new_won"].id]
    assert [op.id for op in activity[x.id].won] == [o["new_won"].id]


# Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "start", "started"),
    [
        ("zh_CN", "本月还没有计划", "月计划已创建"),
        ("en", "You have no plan for this month yet", "plan is started"),
    ],
)
def test_a_manager_starts_the_months_plan(app, client, login, org, locale, start, started):
    org["m1"].locale = locale
    db.session.commit()
    login(client, org["m1"])
    key = periods.month_key(periods.today_for(org["m1"]).replace(day=1))

    page = client.get(f"/plans/month/{key}")
    assert page.status_code == 200 and start in page.get_data(as_text=True)
    assert db.session.scalar(select(WorkPlan.id)) is None  # opening the page starts nothing

    response = client.post(f"/plans/month/{key}")
    plan = db.session.scalars(select(WorkPlan)).one()
    assert response.status_code == 302 and response.location.endswith(f"/plans/{plan.id}")
    assert (plan.kind, plan.owner_id, plan.status) == (
        PlanKind.MONTH,
        org["m1"].id,
        PlanStatus.DRAFT,
    )
    page = client.get(f"/plans/month/{key}", follow_redirects=True)
    body = page.get_data(as_text=True)
    assert started in body and 'id="goals-form"' in body and 'id="key-customer-form"' in body


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2026-1", "26-12", "2026-W50", "abc"])
def test_a_key_that_names_no_month_is_404(app, client, login, org, key):
    login(client, org["m1"])
    assert client.get(f"/plans/month/{key}").status_code == 404
    assert client.post(f"/plans/month/{key}").status_code == 404
    assert db.session.scalar(select(WorkPlan.id)) is None


def test_a_month_out_of_reach_is_refused_with_a_message(app, client, login, org):
    login(client, org["m1"])
    response = client.post("/plans/month/2020-01", follow_redirects=True)
    assert "last period up to a few ahead" in response.get_data(as_text=True) or "计划可从" in (
        response.get_data(as_text=True)
    )
    assert db.session.scalar(select(WorkPlan.id)) is None


def test_an_admin_keeps_no_monthly_plan(app, client, login, org):
    login(client, org["admin"])
    page = client.get("/plans/month/2026-12")
    assert page.status_code == 200 and 'id="start-plan"' not in page.get_data(as_text=True)
    assert client.post("/plans/month/2026-12").status_code == 302
    assert db.session.scalar(select(WorkPlan.id)) is None


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_CN", ("目标与实际完成", "重点推进客户", "完成目标的 50%")),
        ("en", ("Goals and actual figures", "Key customer to advance", "50% of the goal")),
    ],
)
def test_the_page_shows_goals_beside_actuals_and_key_customers(
    app, client, login, org, make_customer, make_visit, locale, words
):
    org["m1"].locale = locale
    plan = _this_month(org["m1"], goal_visits=2, focus="本月冲刺五星级客户")
    customer = make_customer(org["m1"], name="重点甲公司")
    plan.key_customers.append(
        PlanKeyCustomer(customer=customer, aim_kind=KeyCustomerAim.ADVANCE, aim="见到决策者")
    )
    db.session.commit()
    make_visit(customer)  # now: in this month
    login(client, org["m1"])
    body = client.get(f"/plans/month/{_key(plan)}").get_data(as_text=True)
    for text in (*words, "重点甲公司", "见到决策者", "本月冲刺五星级客户"):
        assert text in body, text
    assert f'href="/customers/{customer.id}"' in body


def test_goals_are_saved_through_the_page(app, client, login, org):
    plan = _this_month(org["m1"])
    login(client, org["m1"])
    response = client.post(
        f"/plans/{plan.id}/goals",
        data={
            "visits": "30",
            "new_opportunities": "4",
            "won_amount": "2000000",
            "focus": "冲刺",
            "version": plan.version,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (plan.goal_visits, plan.goal_new_opportunities, plan.goal_won_amount, plan.focus) == (
        30,
        4,
        Decimal("2000000.00"),
        "冲刺",
    )


@pytest.mark.parametrize(
    "data",
    [
        {"visits": "-3"},
        {"visits": "abc"},
        {"won_amount": "12.345"},
        {"won_amount": "-1"},
        {"new_opportunities": "99999"},
        {"focus": "x" * 5001},
    ],
    ids=str,
)
def test_bad_goals_through_the_page_change_nothing(app, client, login, org, data):
    plan = _this_month(org["m1"], goal_visits=8)
    login(client, org["m1"])
    response = client.post(f"/plans/{plan.id}/goals", data={"version": plan.version, **data})
    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    db.session.expire_all()
    assert plan.goal_visits == 8 and plan.goal_won_amount is None and plan.focus is None


def test_a_stale_goals_form_is_409_and_keeps_the_stored_goals(app, client, login, org):
    plan = _this_month(org["m1"], goal_visits=8)
    opened = plan.version
    plan.goal_visits = 9
    db.session.commit()
    login(client, org["m1"])
    response = client.post(f"/plans/{plan.id}/goals", data={"version": opened, "visits": "1"})
    assert response.status_code == 409
    db.session.expire_all()
    assert plan.goal_visits == 9


def test_key_customers_are_added_and_taken_off_through_the_page(
    app, client, login, org, make_customer
):
    plan = _this_month(org["m1"])
    customer = make_customer(org["m1"], name="待开发乙公司")
    login(client, org["m1"])
    page = client.get(f"/plans/month/{_key(plan)}").get_data(as_text=True)
    assert f'<option value="{customer.id}">待开发乙公司</option>' in page
    data = {"customer_id": customer.id, "aim_kind": "develop", "aim": "首单"}
    assert client.post(f"/plans/{plan.id}/key-customers", data=data).status_code == 302
    again = client.post(f"/plans/{plan.id}/key-customers", data=data)
    assert again.status_code == 400 and "该客户已在计划中" in again.get_data(as_text=True)
    row = db.session.scalars(select(PlanKeyCustomer)).one()
    assert (row.aim_kind, row.aim) == (KeyCustomerAim.DEVELOP, "首单")

    url = f"/plans/{plan.id}/key-customers/{row.id}/remove"
    asked = client.post(url)  # without JavaScript: the question first, nothing removed
    assert asked.status_code == 200 and db.session.scalar(select(PlanKeyCustomer.id)) == row.id
    assert client.post(url, data={"confirmed": "1"}).status_code == 302
    assert db.session.scalar(select(PlanKeyCustomer.id)) is None


def test_another_plans_key_customer_is_404(app, client, login, org, make_customer):
    mine, theirs = _this_month(org["m1"]), _this_month(org["m2"])
    customer = make_customer(org["m2"])
    theirs.key_customers.append(PlanKeyCustomer(customer=customer, aim_kind=KeyCustomerAim.ADVANCE))
    db.session.commit()
    login(client, org["m1"])
    url = f"/plans/{mine.id}/key-customers/{theirs.key_customers[0].id}/remove"
    assert client.post(url, data={"confirmed": "1"}).status_code == 404
    assert db.session.scalar(select(PlanKeyCustomer.id)) is not None


def test_out_of_scope_plans_are_404_and_unchanged(app, client, login, org, make_customer):
    plan = _this_month(org["m1"], goal_visits=8)
    login(client, org["m3"])
    assert client.post(f"/plans/{plan.id}/goals", data={"visits": "1"}).status_code == 404
    data = {"customer_id": make_customer(org["m3"]).id, "aim_kind": "advance"}
    assert client.post(f"/plans/{plan.id}/key-customers", data=data).status_code == 404
    db.session.expire_all()
    assert plan.goal_visits == 8 and not plan.key_customers


def test_a_weekly_plans_id_is_no_monthly_plan(app, client, login, org):
    week = WorkPlan(
        owner=org["m1"],
        kind=PlanKind.WEEK,
        starts_on=periods.starts_on_for(PlanKind.WEEK, periods.today_for(org["m1"])),
    )
    db.session.add(week)
    db.session.commit()
    login(client, org["m1"])
    assert client.post(f"/plans/{week.id}/goals", data={"visits": "1"}).status_code == 404


def test_a_reviewed_plan_is_locked(app, client, login, org):
    plan = _this_month(org["m1"], goal_visits=8)
    plan.tasks.append(PlanTask(text="x"))  # content to submit
    lifecycle.submit(plan, actor=org["m1"])
    lifecycle.review(plan, actor=org["sup1"], rating=Rating.GOOD, comment="好")
    db.session.commit()
    login(client, org["m1"])
    response = client.post(f"/plans/{plan.id}/goals", data={"visits": "1", "version": plan.version})
    assert response.status_code == 400 and "已锁定" in response.get_data(as_text=True)
    page = client.get(f"/plans/month/{_key(plan)}").get_data(as_text=True)
    assert 'id="plan-locked"' in page and 'id="goals-form"' not in page
    db.session.expire_all()
    assert plan.goal_visits == 8


def test_the_supervisor_reads_the_plan_without_its_forms(app, client, login, org, make_customer):
    plan = _this_month(org["m1"], goal_visits=8, focus="本月重点")
    customer = make_customer(org["m1"])
    plan.key_customers.append(PlanKeyCustomer(customer=customer, aim_kind=KeyCustomerAim.ADVANCE))
    db.session.commit()
    login(client, org["sup1"])
    page = client.get(f"/plans/{plan.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "本月重点" in body and 'id="goals"' in body
    for form in ("goals-form", "key-customer-form", "remove-key-customer-"):
        assert f'id="{form}' not in body


def test_the_pages_statements_do_not_grow_with_its_key_customers(
    app, client, login, org, make_customer, make_visit, make_opportunity, count_queries
):
    plan = _this_month(org["m1"], goal_visits=5)
    login(client, org["m1"])
    url = f"/plans/month/{_key(plan)}"

    def add_key_customers(count: int) -> int:
        for _ in range(count):
            customer = make_customer(org["m1"])
            make_visit(customer)
            make_opportunity(customer)
            plan.key_customers.append(
                PlanKeyCustomer(customer=customer, aim_kind=KeyCustomerAim.ADVANCE, aim="推进")
            )
            db.session.commit()
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    assert add_key_customers(1) == add_key_customers(4)
