"""Customer health: each signal alone moves the score by its documented weight; the band and
its explanation agree; the history gains a row only when the score or the band changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services import settings
from crm.services.health import assessment, explain, signals
from models import (
    CustomerHealth,
    CustomerStatus,
    HealthBand,
    HealthSnapshot,
    TicketKind,
    TicketStatus,
)
from tests.health_world import ALONE, NOW, competitor_profile, quiet_customer, ticket, today

# The README's table: what each signal takes off 100 unless an admin changes it.
DOCUMENTED_WEIGHTS = {
    "revenue_falling": 25,
    "lines_lost": 15,
    "arrears_growing": 10,
    "complaints_overdue": 15,
    "complaints_repeated": 10,
    "low_satisfaction": 15,
    "silent": 15,
    "no_decision_maker": 10,
    "competitor_contract_ending": 20,
    "competitor_high_threat": 10,
    "contract_ending": 15,
    "lost_to_competitor": 15,
}


def assess(now=NOW):
    report = assessment.assess_all(now)
    db.session.commit()
    db.session.expire_all()
    return report


def health_of(customer) -> CustomerHealth:
    return db.session.get(CustomerHealth, customer.id)


def test_the_documented_weights_are_the_defaults_and_cover_every_signal():
    assert {s.code: s.weight.default for s in signals.SIGNALS} == DOCUMENTED_WEIGHTS


def test_a_customer_without_any_signal_is_healthy_at_100(app, org):
    customer = quiet_customer(org["m1"])
    assess()
    health = health_of(customer)
    assert (health.score, health.band, health.factors) == (100, HealthBand.HEALTHY, [])
    assert health.at_risk_since is None


@pytest.mark.parametrize("code", list(ALONE))
def test_each_signal_alone_takes_exactly_its_weight_off(app, org, stages, code):
    bystander = quiet_customer(org["m1"])  # the same pass leaves it untouched
    customer = quiet_customer(org["m1"])
    ALONE[code](customer, stages)
    assess()
    health = health_of(customer)
    assert [factor["signal"] for factor in health.factors] == [code]
    assert health.factors[0]["points"] == DOCUMENTED_WEIGHTS[code]
    assert health.score == 100 - DOCUMENTED_WEIGHTS[code]
    assert health.band is (HealthBand.WATCH if health.score < 90 else HealthBand.HEALTHY)
    assert health_of(bystander).score == 100
    # Its explanation says something of its own and names the records behind it.
    with app.test_request_context():
        (reason,) = explain.reasons(health.factors, customer.id)
        assert reason.signal == code and reason.points == DOCUMENTED_WEIGHTS[code]
        assert reason.text and "%(" not in reason.text
        assert reason.evidence is not None


def test_an_admins_weight_is_the_one_taken_off(app, org, stages):
    settings.change("health.weight_silent", "45", actor=org["admin"])
    db.session.commit()
    customer = quiet_customer(org["m1"])
    ALONE["silent"](customer, stages)
    assess()
    health = health_of(customer)
    assert (health.score, health.band) == (55, HealthBand.AT_RISK)
    settings.change("health.weight_silent", "0", actor=org["admin"])  # switched off
    db.session.commit()
    assess()
    assert (health_of(customer).score, health_of(customer).factors) == (100, [])


def test_the_band_thresholds_are_the_admins(app, org, stages):
    customer = quiet_customer(org["m1"])
    ALONE["revenue_falling"](customer, stages)  # 75
    assess()
    assert health_of(customer).band is HealthBand.WATCH
    settings.change("health.at_risk_below", "80", actor=org["admin"])
    db.session.commit()
    assess()
    assert health_of(customer).band is HealthBand.AT_RISK
    settings.change("health.watch_below", "70", actor=org["admin"])
    settings.change("health.at_risk_below", "50", actor=org["admin"])
    db.session.commit()
    assess()
    assert health_of(customer).band is HealthBand.HEALTHY


def test_signals_add_up_and_the_explanation_matches_the_band(app, org, stages):
    customer = quiet_customer(org["m1"])
    for code in ("revenue_falling", "competitor_contract_ending", "no_decision_maker"):
        ALONE[code](customer, stages)
    assess()
    health = health_of(customer)
    assert health.score == 100 - 25 - 20 - 10 == 45
    assert health.band is HealthBand.AT_RISK
    # Heaviest first; the points shown add up to what the score lost.
    assert [f["signal"] for f in health.factors] == [
        "revenue_falling",
        "competitor_contract_ending",
        "no_decision_maker",
    ]
    assert sum(f["points"] for f in health.factors) == 100 - health.score
    assert health.at_risk_since == NOW


def test_a_signal_just_short_of_its_limit_does_not_fire(app, org, stages):
    from tests.health_world import figures

    customer = quiet_customer(org["m1"], contract_expiry=today() + timedelta(days=91))
    figures(customer, [100, 100, 100, 91, 91, 91])  # −9 %: under the 10 % limit
    competitor_profile(customer, contract_expiry=today() + timedelta(days=91))
    competitor_profile(customer, contract_expiry=today() - timedelta(days=1))  # already over
    for days in (10, 30, 91):  # two complaints in 90 days: the limit is three
        ticket(customer, opened_at=NOW - timedelta(days=days))
    long_ago = NOW - timedelta(days=100)  # a complaint, but not of the last 90 days
    ticket(customer, status=TicketStatus.OPEN, opened_at=long_ago, due_at=NOW + timedelta(hours=2))
    overdue_request = {"kind": TicketKind.REQUEST, "status": TicketStatus.OPEN}
    ticket(customer, due_at=NOW - timedelta(hours=2), **overdue_request)  # not a complaint
    ticket(customer, kind=TicketKind.REQUEST, status=TicketStatus.CLOSED, satisfaction=3)
    customer.last_visit_at = NOW - timedelta(days=59)
    db.session.commit()
    assess()
    assert health_of(customer).factors == []


def test_the_competitors_details_name_the_soonest_contract_and_every_threat(app, org):
    customer = quiet_customer(org["m1"])
    later = competitor_profile(customer, contract_expiry=today() + timedelta(days=60))
    soon = competitor_profile(customer, contract_expiry=today() + timedelta(days=10))
    competitor_profile(customer, threat="high", competitor="A 对手")
    competitor_profile(customer, threat="high", competitor="B 对手")
    assess()
    factors = {f["signal"]: f["detail"] for f in health_of(customer).factors}
    assert factors["competitor_contract_ending"]["profile_id"] == soon.id != later.id
    assert factors["competitor_contract_ending"]["on"] == (today() + timedelta(days=10)).isoformat()
    assert factors["competitor_high_threat"]["count"] == 2
    assert factors["competitor_high_threat"]["competitor"] == "A 对手"


def test_a_lost_customer_has_no_health_but_keeps_its_history(app, org, stages):
    customer = quiet_customer(org["m1"])
    ALONE["silent"](customer, stages)
    assess()
    customer.status = CustomerStatus.LOST
    db.session.commit()
    assess()
    assert health_of(customer) is None
    assert db.session.scalar(select(func.count()).select_from(HealthSnapshot)) == 1


def _history(customer) -> list[tuple]:
    return [
        (row.day, row.score, row.band, row.signals)
        for row in db.session.scalars(
            select(HealthSnapshot)
            .where(HealthSnapshot.customer_id == customer.id)
            .order_by(HealthSnapshot.day)
        )
    ]


def test_history_gains_a_row_only_when_the_score_or_band_changes(app, org, stages):
    customer = quiet_customer(org["m1"])
    ALONE["silent"](customer, stages)
    assess(NOW)
    # The next days: more days of silence (the explanation changes), the score does not.
    assess(NOW + timedelta(days=1))
    assess(NOW + timedelta(days=2))
    first_day = today()
    assert _history(customer) == [(first_day, 85, HealthBand.WATCH, ["silent"])]
    # Nor does the stored reason: it holds the day of the last visit, not a count of days.
    assert (
        health_of(customer).factors[0]["detail"]["since"]
        == (today() - timedelta(days=70)).isoformat()
    )
    quiet_night = assess(NOW + timedelta(days=2, hours=1))
    assert (quiet_night.changed, quiet_night.rewritten) == (0, 0)
    ALONE["competitor_contract_ending"](customer, stages)
    report = assess(NOW + timedelta(days=3))
    assert report.changed == 1
    assert _history(customer)[-1] == (
        first_day + timedelta(days=3),
        65,
        HealthBand.WATCH,
        ["competitor_contract_ending", "silent"],
    )
    assert len(_history(customer)) == 2


def test_a_second_pass_on_the_same_day_corrects_that_days_row(app, org, stages):
    customer = quiet_customer(org["m1"])
    assess()
    ALONE["no_decision_maker"](customer, stages)
    assess(NOW + timedelta(minutes=5))  # after an import, the same day
    assert _history(customer) == [(today(), 90, HealthBand.HEALTHY, ["no_decision_maker"])]


def test_at_risk_since_is_kept_while_at_risk_and_cleared_on_leaving(app, org, stages):
    customer = quiet_customer(org["m1"])
    for code in ("revenue_falling", "competitor_contract_ending", "no_decision_maker"):
        ALONE[code](customer, stages)
    entered = assess(NOW)
    assert entered.entered == [customer.id]
    stayed = assess(NOW + timedelta(days=1))
    assert stayed.entered == [] and health_of(customer).at_risk_since == NOW
    for contact in customer.contacts:
        contact.active = True
    competitor = customer.competitor_profiles[0]
    competitor.contract_expiry = None
    db.session.commit()
    left = assess(NOW + timedelta(days=2))
    assert left.left == 1 and health_of(customer).at_risk_since is None
    assert health_of(customer).band is HealthBand.WATCH


def test_a_customer_with_only_health_rows_can_still_be_deleted(app, org, make_customer):
    from crm.services.archive.customers import delete_customer

    customer = make_customer(org["m1"])  # nothing hangs off it but what the pass writes
    assess()
    assert health_of(customer) is not None
    delete_customer(customer, actor=org["admin"])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CustomerHealth)) == 0
    assert db.session.scalar(select(func.count()).select_from(HealthSnapshot)) == 0


def test_a_merge_drops_the_duplicates_health_and_the_next_pass_scores_the_survivor(
    app, org, stages
):
    from crm.services.archive.merge import merge_customers

    survivor = quiet_customer(org["m1"], name="合并客户")
    duplicate = quiet_customer(org["m1"], name="合并客户有限公司")
    ALONE["lost_to_competitor"](duplicate, stages)
    assess()
    merge_customers(survivor, duplicate, actor=org["admin"])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CustomerHealth)) == 1
    assert {row.customer_id for row in db.session.scalars(select(HealthSnapshot))} == {survivor.id}
    assess(NOW + timedelta(days=1))
    assert [f["signal"] for f in health_of(survivor).factors] == ["lost_to_competitor"]
