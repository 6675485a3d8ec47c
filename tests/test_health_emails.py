"""Entering "at risk" emails the owner (and the supervisor for A+/A customers) once per
entry, through the outbox to a real SMTP server on loopback; staying there sends nothing
more, leaving and coming back sends again. The weekly digest lists who worsened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.scheduler import tick
from crm.services.health import job
from models import CustomerHealth, Tier
from tests.health_world import ALONE, quiet_customer
from tests.smtp import SMTPServer

BASE_URL = "https://crm.example.cn"
AT_RISK = ("revenue_falling", "competitor_contract_ending", "no_decision_maker")  # 45


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": BASE_URL}


@pytest.fixture
def team(org):
    """English readers; no reminder or daily digest emails to muddle the inbox."""
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
            user.email_daily_digest = False
            user.email_weekly_digest = False
    db.session.commit()
    return org


def night(days: int) -> datetime:
    """03:00 in Shanghai, `days` nights from now: after the nightly pass is due."""
    base = datetime.now(UTC).astimezone().replace(microsecond=0)
    local = (base + timedelta(days=days)).astimezone(job.assessment.organisation_zone())
    return local.replace(hour=3, minute=0, second=0).astimezone(UTC)


def nightly(days: int):
    db.session.commit()
    report = job.run_if_due(night(days))
    tick(night(days) + timedelta(minutes=1))
    db.session.expire_all()
    return report


def make_at_risk(customer, stages):
    for code in AT_RISK:
        ALONE[code](customer, stages)


def test_entering_at_risk_emails_owner_and_supervisor_once(smtp, team, stages):
    key_account = quiet_customer(team["m1"], name="北辰能源集团", tier=Tier.A)
    nightly(0)  # the installation's first pass: the baseline, no email
    make_at_risk(key_account, stages)
    report = nightly(1)
    assert report.entered == [key_account.id]

    messages = smtp.of_kind("at_risk:")
    assert sorted(m["To"] for m in messages) == sorted([team["m1"].email, team["sup1"].email])
    owners = next(m for m in messages if m["To"] == team["m1"].email)
    supervisors = next(m for m in messages if m["To"] == team["sup1"].email)
    assert owners["Subject"] == "Customer at risk: 北辰能源集团"
    assert "Key account at risk: 北辰能源集团" in supervisors["Subject"]
    text = owners.get_body(("plain",)).get_content()
    assert "health score is 45 of 100" in text
    assert "Revenue of the last three months fell 20%" in text
    assert "No active contact is recorded as the decision maker." in text
    assert f"{BASE_URL}/customers/{key_account.id}" in text
    html = supervisors.get_body(("html",)).get_content()
    assert f"a key account (A) of {team['m1'].display_name}" in html
    # Each reason links to the records behind it; the customer's page is linked too.
    assert f'href="{BASE_URL}/customers/{key_account.id}/map"' in html
    assert f'href="{BASE_URL}/customers/{key_account.id}"' in html

    # Staying at risk, night after night: nothing more.
    nightly(2)
    nightly(3)
    assert len(smtp.of_kind("at_risk:")) == 2


def test_only_the_owner_is_told_of_a_b_or_c_customer(smtp, team, stages):
    customer = quiet_customer(team["m2"], tier=Tier.B)
    nightly(0)
    make_at_risk(customer, stages)
    nightly(1)
    assert [m["To"] for m in smtp.of_kind("at_risk:")] == [team["m2"].email]


def test_leaving_and_coming_back_is_a_new_entry(smtp, team, stages):
    customer = quiet_customer(team["m1"], tier=Tier.C)
    nightly(0)
    make_at_risk(customer, stages)
    nightly(1)
    first_since = db.session.get(CustomerHealth, customer.id).at_risk_since
    for contact in customer.contacts:
        contact.active = True
    customer.competitor_profiles[0].contract_expiry = None
    db.session.commit()
    nightly(2)  # left: watch
    assert db.session.get(CustomerHealth, customer.id).at_risk_since is None
    customer.competitor_profiles[0].contract_expiry = customer.contract_expiry or (
        night(3).date() + timedelta(days=20)
    )
    for contact in customer.contacts:
        contact.active = False
    db.session.commit()
    nightly(3)
    again = db.session.get(CustomerHealth, customer.id).at_risk_since
    assert again > first_since
    keys = sorted(smtp.keys("at_risk:"))
    assert len(keys) == 2 and all(count == 1 for count in smtp.keys("at_risk:").values())


def test_the_first_pass_of_an_installation_sends_nothing(smtp, team, stages):
    customer = quiet_customer(team["m1"], tier=Tier.A)
    make_at_risk(customer, stages)
    report = nightly(0)
    assert report.entered == [customer.id]
    assert smtp.of_kind("at_risk:") == []
    # The scores are there all the same.
    assert db.session.scalar(select(CustomerHealth.score)) == 45


def test_a_rerun_of_the_same_entry_writes_no_second_email(smtp, team, stages):
    from crm.services.health import alerts

    customer = quiet_customer(team["m1"], tier=Tier.B)
    nightly(0)
    make_at_risk(customer, stages)
    nightly(1)
    assert alerts.tell_entered([customer.id]) == 0  # the outbox knows these keys
    tick(night(1) + timedelta(minutes=5))
    assert len(smtp.of_kind("at_risk:")) == 1


def test_the_weekly_digest_lists_the_teams_customers_that_worsened(smtp, team, stages):
    from crm.services.followups import notifications

    sup1 = team["sup1"]
    mine = quiet_customer(team["m1"], name="滑坡客户有限公司", tier=Tier.A)
    steady = quiet_customer(team["m2"], name="稳定客户有限公司")
    theirs = quiet_customer(team["m3"], name="别队客户有限公司")
    today = night(0).astimezone(job.assessment.organisation_zone()).date()
    monday = today + timedelta(days=14 - today.weekday())  # a Monday two weeks or so ahead
    before_the_week = (monday - timedelta(days=8) - today).days
    in_the_week = (monday - timedelta(days=2) - today).days
    nightly(before_the_week)  # the state the week started from
    make_at_risk(mine, stages)
    make_at_risk(theirs, stages)
    nightly(in_the_week)
    digest = notifications.weekly_digest_for(sup1, monday, night((monday - today).days))
    assert [w.customer.name for w in digest.worsened] == ["滑坡客户有限公司"]
    worsened = digest.worsened[0]
    assert (worsened.before_score, worsened.health.score) == (100, 45)
    assert worsened.band_fell and not digest.empty
    assert set(worsened.new_signals) == set(AT_RISK)
    assert steady.id != theirs.id  # both stayed off sup1's list: unchanged, another team


def test_the_weekly_email_names_who_worsened(smtp, team, stages):
    sup1 = team["sup1"]
    sup1.email_weekly_digest = True
    mine = quiet_customer(team["m1"], name="滑坡客户有限公司", tier=Tier.A)
    today = night(0).astimezone(job.assessment.organisation_zone()).date()
    monday = today + timedelta(days=14 - today.weekday())
    nightly((monday - timedelta(days=8) - today).days)
    make_at_risk(mine, stages)
    nightly((monday - timedelta(days=2) - today).days)
    tick(night((monday - today).days) + timedelta(hours=6))  # Monday 09:00 in Shanghai
    (digest,) = smtp.of_kind(f"weekly:{sup1.id}:{monday.isoformat()}")
    text = digest.get_body(("plain",)).get_content()
    assert "Customers whose health worsened (1):" in text
    assert "[A] 滑坡客户有限公司 (m1): Healthy 100 → At risk 45" in text.replace(
        team["m1"].display_name, "m1"
    )
    assert f"{BASE_URL}/customers/{mine.id}" in text


def test_entering_at_risk_emits_the_webhook_event_once_per_entry(smtp, team, stages):
    import json

    from models import WebhookDelivery, WebhookSubscription

    db.session.add(
        WebhookSubscription(
            name="风险预警群",
            url="https://hooks.example.cn/crm",
            events=["customer.at_risk"],
            secret="s" * 32,
        )
    )
    customer = quiet_customer(team["m1"], name="预警客户有限公司")
    nightly(0)
    make_at_risk(customer, stages)
    nightly(1)
    nightly(2)
    (delivery,) = db.session.scalars(select(WebhookDelivery)).all()
    body = json.loads(delivery.body)
    assert body["event"] == "customer.at_risk"
    assert body["data"]["customer"]["name"] == "预警客户有限公司"
    assert set(body["data"]["signals"]) == set(AT_RISK) and body["data"]["score"] == 45
    assert len(body["data"]["reasons"]) == 3
