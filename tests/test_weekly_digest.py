"""The supervisor's Monday digest: the team's slips and pipeline moves, nobody else's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.scheduler import tick
from models import OpportunityHistory, OpportunityStatus, Tier
from tests.smtp import SMTPServer

MONDAY_8_SHANGHAI = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": "https://crm.example.cn"}


@pytest.fixture
def team_week(org, make_customer, make_reminder, make_opportunity, stages):
    for user in org.values():
        if hasattr(user, "email_daily_digest"):
            user.email_daily_digest = False
            user.email_reminders = False
            user.locale, user.timezone = "en", "Asia/Shanghai"
    long_ago = MONDAY_8_SHANGHAI - timedelta(days=200)
    key = make_customer(org["m1"], name="沉默的重点客户", tier=Tier.A_PLUS, created_at=long_ago)
    make_customer(org["m3"], name="别的团队的沉默客户", tier=Tier.A_PLUS, created_at=long_ago)
    for owner, n in (("m1", 2), ("m2", 1), ("m3", 5)):
        for _ in range(n):
            make_reminder(
                key, org[owner], due_at=long_ago, due_on=date(2026, 11, 1), note="overdue"
            )
    moved = make_opportunity(key, "Proposal", title="专线扩容", owner=org["m2"])
    db.session.add(
        OpportunityHistory(
            opportunity=moved,
            at=MONDAY_8_SHANGHAI - timedelta(days=2),
            stage=stages["Proposal"],
            status=OpportunityStatus.OPEN,
            probability=60,
            changes={"stage_id": [stages["Needs discovery"].id, stages["Proposal"].id]},
        )
    )
    make_opportunity(
        key,
        "Contract",
        title="云专线签约",
        status=OpportunityStatus.WON,
        amount=Decimal("880000"),
        closed_at=MONDAY_8_SHANGHAI - timedelta(days=1),
    )
    make_opportunity(
        key,
        "Negotiation",
        title="丢掉的单",
        status=OpportunityStatus.LOST,
        closed_at=MONDAY_8_SHANGHAI - timedelta(days=3),
    )
    db.session.commit()
    return org


def weekly(smtp):
    return smtp.of_kind("weekly:")


def test_weekly_digest_content_and_scope(smtp, team_week):
    tick(MONDAY_8_SHANGHAI)
    tick(MONDAY_8_SHANGHAI + timedelta(minutes=1))
    mails = {m["To"]: m.get_body(("plain",)).get_content() for m in weekly(smtp)}
    assert len(weekly(smtp)) == 2  # once each, however often the tick runs
    body = mails[team_week["sup1"].email]
    assert "M1: 2" in body and "M2: 1" in body and "M3" not in body
    assert "沉默的重点客户" in body and "别的团队的沉默客户" not in body
    assert "专线扩容 → Proposal" in body
    assert "云专线签约" in body and "丢掉的单" in body
    other = mails[team_week["sup2"].email]
    assert "M3: 5" in other and "别的团队的沉默客户" in other
    assert "专线扩容" not in other and "沉默的重点客户" not in other


def test_weekly_digest_waits_for_monday_eight(smtp, team_week):
    tick(MONDAY_8_SHANGHAI - timedelta(minutes=1))  # Monday 07:59 in Shanghai
    assert weekly(smtp) == []
    tick(MONDAY_8_SHANGHAI + timedelta(days=1))  # scheduler was down on Monday: Tuesday catches up
    assert len(weekly(smtp)) == 2
    tick(MONDAY_8_SHANGHAI + timedelta(days=2))
    assert len(weekly(smtp)) == 2


def test_switched_off_weekly_digest(smtp, team_week):
    team_week["sup1"].email_weekly_digest = False
    db.session.commit()
    tick(MONDAY_8_SHANGHAI)
    assert [m["To"] for m in weekly(smtp)] == [team_week["sup2"].email]
