"""A manager's sheet computed from the records: every line checked against a hand count.

The org's m1 is a senior manager: the built-in monthly set for seniors weighs 01 18, 02 8,
03 10, 04 12, 05 8, 06 8, 07 12, C1 5, C2 10, C4 7, C5 2 (C3, C6, C7 not assessed).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from flask_babel import force_locale

from crm.extensions import db
from crm.services.assessment import scoring, store, targets
from crm.services.assessment.targets import TargetValue
from crm.services.reporting.targets import set_target
from models import Level, OpportunityStatus, PeriodKind, Tier
from tests.assessment_world import closed_deal, complaint, figure, last_month, near_end, visits


@pytest.fixture(autouse=True)
def english(app, org):
    """Messages and pages in English (the users' and the app's default is Chinese)."""
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    with force_locale("en"):
        yield


@pytest.fixture
def period(app):
    return last_month()


@pytest.fixture
def portfolio(org, make_customer, make_opportunity, period):
    """m1's two customers, their figures this month and the one before, and m1's work."""
    m1 = org["m1"]
    now, before = period.first, period.previous().first
    a = make_customer(m1, "甲方科技有限公司", tier=Tier.A_PLUS)
    b = make_customer(m1, "乙方物流有限公司", tier=Tier.C)
    figure(a, before, 60000, arpu="100", active_lines=600, arrears="0")
    figure(b, before, 40000, arpu="40", active_lines=300)
    figure(a, now, 66000, arpu="100", active_lines=597, lines_lost=3,
           key_solution_revenue="21000", arrears="5000", arrears_recovered="4000")  # fmt: skip
    figure(b, now, 39000, arpu="50", active_lines=300, lines_lost=0)
    visits(a, near_end(period), 5)
    complaint(b, near_end(period, 10))
    complaint(b, near_end(period, 10), kind="request")  # a service request costs nothing
    closed_deal(make_opportunity, a, OpportunityStatus.WON, 200000, near_end(period))
    closed_deal(make_opportunity, b, OpportunityStatus.LOST, 50000, near_end(period))
    targets.save_targets(m1, period, {("C1", ""): TargetValue(D(10))}, actor=org["sup1"])
    db.session.commit()
    return a, b


def _card(period, org, who="m1"):
    managers = store.assessed_managers(org["team1"].id)
    return next(c for c in scoring.compute(period, managers) if c.user_id == org[who].id)


def test_each_line_of_the_sheet_counts_the_records(org, period, portfolio):
    card = _card(period, org)
    got = {line.code: (line.actual, line.points) for line in card.lines}
    assert set(got) == {"01", "02", "03", "04", "05", "06", "07", "C1", "C2", "C4", "C5"}
    # 01: revenue 100 000 → 105 000: 5 % × 18 = 0.90
    assert got["01"] == (D("5.00"), D("0.90"))
    # 02: ARPU weighted by lines: (100×600 + 40×300) ÷ 900 = 80 → (100×597 + 50×300) ÷ 897
    # = 83.28; growth 4.10 % × 8 = 0.33
    assert got["02"] == (D("4.10"), D("0.33"))
    # 03: no business count target set: nothing
    assert got["03"] == (None, D("0.00"))
    # 04: 21 000 ÷ 105 000 = 20 % × 12 = 2.40
    assert got["04"] == (D("20.00"), D("2.40"))
    # 05: 4 000 ÷ 5 000 = 80 % × 8 = 6.40
    assert got["05"] == (D("80.00"), D("6.40"))
    # 06: 3 lost of 900 before = 0.33 %; month target 0.70: (0.70 − 0.33) ÷ 0.70 × 8 = 4.23
    assert got["06"] == (D("0.33"), D("4.23"))
    # 07: one complaint (the request does not count): 12 − 2 = 10
    assert got["07"] == (D("1"), D("10.00"))
    # C1: 5 visits of the target 10 the supervisor set: 0.5 × 5 = 2.50
    assert got["C1"] == (D("5"), D("2.50"))
    # C2: the A+ customer visited two days before the month's end: 100 % of 100 × 10
    assert got["C2"] == (D("100.00"), D("10.00"))
    # C4: 200 000 won of the level's 333 333 a month: 0.6 × 7 = 4.20
    assert got["C4"] == (D("200000.00"), D("4.20"))
    # C5: won 1 of 2 closed = 50 % of the target 40 % = 125 %, capped at 120 %: 2.40
    assert got["C5"] == (D("50.00"), D("2.40"))
    assert card.kpi_points == D("43.36")
    assert card.task_weight == 0 and card.total == card.kpi_points


def test_targets_come_from_the_supervisor_then_standing_targets_then_the_level(
    org, period, portfolio
):
    lines = {line.code: line for line in _card(period, org).lines}
    assert (lines["C1"].target, lines["C1"].target_source) == (D(10), "set")
    assert (lines["C4"].target, lines["C4"].target_source) == (D(333333), "level")
    set_target(org["m1"], weekly_visits=0, quarterly_won=D(600000), actor=org["sup1"])
    db.session.commit()
    lines = {line.code: line for line in _card(period, org).lines}
    assert (lines["C4"].target, lines["C4"].target_source) == (D("200000.00"), "standing")
    assert lines["C4"].points == D("7.00")  # 200 000 of 200 000 × 7


def test_business_count_parts(org, period, portfolio):
    targets.save_targets(
        org["m1"],
        period,
        {
            ("03", "lines"): TargetValue(D(1000), D(70)),  # 897 of 1000
            ("03", "deals"): TargetValue(D(2), D(30)),  # 1 of 2
        },
        actor=org["sup1"],
    )
    db.session.commit()
    line = _card(period, org).line("03")
    # 0.897 × 0.7 × 10 = 6.279; 0.5 × 0.3 × 10 = 1.5 → 7.78
    assert line.points == D("7.78")
    assert [p["part"] for p in line.detail["parts"]] == ["lines", "deals"]


def test_the_business_count_shares_must_make_a_hundred(org, period):
    with pytest.raises(Exception, match="add up to 90"):
        targets.save_targets(
            org["m1"],
            period,
            {("03", "lines"): TargetValue(D(10), D(60)), ("03", "deals"): TargetValue(D(2), D(30))},
            actor=org["sup1"],
        )


def test_only_the_team_supervisor_or_an_admin_sets_targets(org, period):
    from crm.services.errors import NotAllowed

    for actor in (org["m1"], org["sup2"]):
        with pytest.raises(NotAllowed):
            targets.save_targets(org["m1"], period, {("C1", ""): TargetValue(D(5))}, actor=actor)
    assert targets.save_targets(
        org["m1"], period, {("C1", ""): TargetValue(D(5))}, actor=org["admin"]
    )


def test_each_level_is_scored_with_its_own_weights(org, period, portfolio):
    junior = _card(period, org, "m2")  # m2 is junior
    senior = _card(period, org, "m1")
    assert junior.level is Level.JUNIOR and senior.level is Level.SENIOR
    junior_codes = {line.code for line in junior.lines}
    assert "04" not in junior_codes and "C2" not in junior_codes  # not assessed for juniors
    assert {"C3", "C6", "C7"} <= junior_codes
    assert sum(line.weight for line in junior.lines) + junior.task_weight == 100
    assert junior.line("01").weight == D(10) and senior.line("01").weight == D(18)


def test_a_quarter_gives_temporary_tasks_twenty_points(org, period, portfolio):
    from crm.services.assessment import tasks

    quarter = period.quarter()
    task = tasks.add_task(
        org["m1"],
        quarter,
        title="配合省公司专项检查",
        description=None,
        weight=1,
        actor=org["sup1"],
    )
    db.session.commit()
    card = _card(quarter, org)
    assert card.task_weight == 20 and card.task_points == 0 and card.task_note == "unscored"
    tasks.score_task(task, score=D(85), comment="完成及时", version=task.version, actor=org["sup1"])
    db.session.commit()
    card = _card(quarter, org)
    assert card.task_points == D("17.00") and card.total == card.kpi_points + D(17)
    assert sum(line.weight for line in card.lines) == 80


def test_a_card_survives_its_json(org, period, portfolio):
    card = _card(period, org)
    again = scoring.Card.from_sheet(
        card.to_sheet(),
        user_id=card.user_id,
        period=card.period,
        team_id=card.team_id,
        level=card.level,
        weight_set_id=card.weight_set_id,
        task_points=card.task_points,
    )
    assert again == card


def test_the_whole_organisation_at_once_gives_the_same_cards(org, period, portfolio):
    """The scheduler's computation (no id lists) and a team's give the same sheets."""
    everyone = {
        c.user_id: c for c in scoring.compute(period, store.assessed_managers(), everyone=True)
    }
    assert everyone[org["m1"].id] == _card(period, org)
    assert set(everyone) == {org[m].id for m in ("m1", "m2", "m3", "m4")}


def test_period_keys():
    from datetime import date

    from crm.services.assessment import periods

    q = periods.parse("2026-Q1")
    assert (q.first, q.last, q.kind) == (date(2026, 1, 1), date(2026, 3, 31), PeriodKind.QUARTER)
    assert q.previous().key == "2025-Q4" and periods.parse("2026-03").previous().key == "2026-02"
    assert periods.parse("2026-01").previous().key == "2025-12"
    for bad in ("2026-13", "2026-Q5", "1999-01", "2026-1", "x", "2026-00"):
        assert periods.parse(bad) is None
