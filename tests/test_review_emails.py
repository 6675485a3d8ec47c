"""A review, a return and a comment each send one email to the manager, through SMTP on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.extensions import db
from crm.scheduler import tick
from crm.services.activity import comments as comment_service
from crm.services.plans import lifecycle
from models import Notice, PlanKind, PlanStatus, PlanTask, Rating, WorkPlan
from tests.smtp import SMTPServer

BASE_URL = "https://crm.example.cn"


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": BASE_URL}


@pytest.fixture
def plan(org):
    plan = WorkPlan(
        owner=org["m1"],
        kind=PlanKind.WEEK,
        starts_on=date(2026, 11, 30),
        status=PlanStatus.SUBMITTED,
        first_submitted_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    plan.tasks.append(PlanTask(text="准备方案"))
    db.session.add(plan)
    db.session.commit()
    return plan


def run_tick():
    db.session.commit()
    tick()
    db.session.expire_all()


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_review_sends_one_email_in_the_managers_language(smtp, org, plan):
    org["m1"].locale = "en"
    lifecycle.review(plan, actor=org["sup1"], rating=Rating.GOOD, comment="Solid week.")
    run_tick()
    run_tick()  # nothing new: the same verdict is never sent twice

    [message] = smtp.of_kind("plan_review:")
    assert message["To"] == org["m1"].email
    assert message["Subject"] == "Your weekly plan 2026-W49 was reviewed: Good"
    text = body(message)
    assert "Sup1 reviewed your plan (Weekly plan 2026-W49)" in text
    assert "Solid week." in text and "The plan is locked now." in text
    assert BASE_URL in text
    assert 'lang="en"' in message.get_body(("html",)).get_content()


def test_a_return_sends_one_email_in_chinese(smtp, org, plan):
    lifecycle.return_for_revision(plan, actor=org["sup1"], reason="A类客户拜访太少")
    run_tick()

    [message] = smtp.of_kind("plan_review:")
    assert str(message["Subject"]) == "您的周计划 2026-W49 被退回修改"
    assert "A类客户拜访太少" in body(message)
    assert 'lang="zh-CN"' in message.get_body(("html",)).get_content()


def test_a_comment_sends_one_email_to_the_manager_and_a_reply_one_to_the_supervisor(
    smtp, org, make_customer, make_visit
):
    org["m1"].locale = org["sup1"].locale = "en"
    visit = make_visit(make_customer(org["m1"], name="华东电力集团"))
    comment_service.add_comment(visit, actor=org["sup1"], body="Who decides there?")
    run_tick()
    comment_service.add_comment(visit, actor=org["m1"], body="The CFO.")
    run_tick()
    run_tick()

    messages = smtp.of_kind("visit_comment:")
    assert [m["To"] for m in messages] == [org["m1"].email, org["sup1"].email]
    to_manager, to_supervisor = messages
    assert to_manager["Subject"] == "Sup1 commented on your visit to 华东电力集团"
    assert "Who decides there?" in body(to_manager)
    assert f"{BASE_URL}/visits/{visit.id}" in body(to_manager)
    assert to_supervisor["Subject"] == "M1 replied on the visit to 华东电力集团"
    assert "The CFO." in body(to_supervisor)


def test_no_email_without_an_address_but_the_notice_waits(smtp, org, plan):
    org["m1"].email = None
    lifecycle.review(plan, actor=org["sup1"], rating=Rating.FAIR, comment=None)
    run_tick()
    assert smtp.of_kind("plan_review:") == []
    assert db.session.query(Notice).filter_by(user_id=org["m1"].id).count() == 1
