"""Webhooks end to end: the services' events reach a real HTTP receiver once each, signed.

The receiver is an http.server on loopback (tests/webhook_receiver.py), so these tests
turn CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES on; tests/test_webhook_addresses.py shows what
it refuses when it is off. Time is simulated as in tests/test_outbox_retries.py: each
sender run gets `now=`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.customers import create_customer
from crm.services.errors import DomainError
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from crm.services.pipeline import opportunities as pipeline
from crm.services.webhooks import emit
from crm.services.webhooks import events as webhook_events
from crm.services.webhooks.subscriptions import create_subscription
from crm.webhook_delivery import deliver_due_webhooks
from models import LostReason, MessageStatus, ReminderStatus, WebhookDelivery, WebhookEvent
from tests.webhook_receiver import WebhookReceiver

BASE_URL = "https://crm.example.cn"
ALL_EVENTS = [event.value for event in WebhookEvent]


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def app_overrides():
    return {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True, "BASE_URL": BASE_URL, "WEBHOOK_TIMEOUT": 5.0}


def subscribe(org, url: str, events=ALL_EVENTS, **fields):
    subscription = create_subscription(
        actor=org["admin"], name="数据仓库", url=url, events=events, **fields
    )
    db.session.commit()
    return subscription


def send(now: datetime | None = None):
    db.session.commit()
    report = deliver_due_webhooks(worker="test-sender", now=now)
    db.session.expire_all()
    return report


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_each_event_reaches_the_receiver_once_with_a_valid_signature(
    receiver, org, stages, make_customer, make_opportunity, make_competitor
):
    subscription = subscribe(org, receiver.url)
    m1, sup1 = org["m1"], org["sup1"]

    customer = create_customer(actor=m1, name="华中钢铁集团有限公司", tier="A")
    moving = make_opportunity(customer, title="专线扩容")
    pipeline.move_to_stage(moving, stages["Needs discovery"], actor=m1)
    winning = make_opportunity(customer, stage="Contract", title="云桌面")
    pipeline.mark_won(winning, actor=m1, contract_date=date(2026, 12, 1), amount="128000.50")
    losing = make_opportunity(customer, title="IDC 托管")
    pipeline.mark_lost(
        losing, actor=m1, reason=LostReason.COMPETITOR, competitor=make_competitor(name="某联通")
    )
    hand_over(
        actor=sup1,
        selection=Selection(ids=[customer.id]),
        to_owner=org["m2"],
        options=HandoverOptions(),
        note="交接",
        reason="团队调整",
        token="webhooks",
        expected_fingerprint=None,
    )
    webhook_events.customer_entered_at_risk(customer, reasons=["收入连续三个月下降"], key="risk:1")
    report = send()

    calls = receiver.received()
    assert report.sent == len(calls) == 6
    assert all(call.signed_with(subscription.secret) for call in calls)
    assert not any(call.signed_with(subscription.secret + "x") for call in calls)
    bodies = [call.json for call in calls]
    assert [body["event"] for body in bodies] == [
        "customer.created",
        "opportunity.stage_changed",
        "opportunity.won",
        "opportunity.lost",
        "customer.handed_over",
        "customer.at_risk",
    ]
    for call, body in zip(calls, bodies, strict=True):
        assert call.headers["X-CRM-Event"] == body["event"]
        assert call.headers["X-CRM-Event-Id"] == body["id"]
        assert call.headers["X-CRM-Delivery"] == f"webhook:{subscription.id}:{body['id']}"
        assert call.headers["Content-Type"] == "application/json; charset=utf-8"
        assert int(call.headers["X-CRM-Timestamp"]) > 0
        assert body["occurred_at"].endswith("Z")
    assert len({body["id"] for body in bodies}) == 6

    created, moved, won, lost, handed, at_risk = (body["data"] for body in bodies)
    assert created["customer"] == {
        "id": customer.id,
        "name": "华中钢铁集团有限公司",
        "tier": "A",
        "status": "prospect",
        "owner": {"id": m1.id, "username": "m1", "name": "M1"},
        "url": f"{BASE_URL}/customers/{customer.id}",
    }
    assert moved["from_stage"]["name_en"] == "Initial contact"
    assert moved["to_stage"]["name_en"] == "Needs discovery"
    assert won["opportunity"]["amount"] == "128000.50"  # money as a decimal string
    assert won["contract_date"] == "2026-12-01"
    assert lost["reason"] == "competitor" and lost["competitor"]["name"] == "某联通"
    assert handed["to_owner"]["username"] == "m2"
    assert handed["customers"] == [
        {
            "id": customer.id,
            "name": "华中钢铁集团有限公司",
            "tier": "A",
            "from_owner": {"id": m1.id, "username": "m1", "name": "M1"},
            "url": f"{BASE_URL}/customers/{customer.id}",
        }
    ]
    assert at_risk["reasons"] == ["收入连续三个月下降"]

    # Sending again sends nothing; every delivery is recorded as taken with its answer.
    assert send().sent == 0
    assert len(receiver.received()) == 6
    assert {(d.status, d.attempts, d.response_code) for d in deliveries()} == {
        (MessageStatus.SENT, 1, 200)
    }


def test_a_change_that_rolls_back_or_is_refused_sends_nothing(
    receiver, org, stages, make_customer, make_opportunity
):
    subscribe(org, receiver.url)
    create_customer(actor=org["m1"], name="回滚的客户")
    db.session.rollback()
    in_sale = make_opportunity(make_customer(org["m1"]), stage="Order submitted")
    with pytest.raises(DomainError):  # lost only in pre-sale
        pipeline.mark_lost(in_sale, actor=org["m1"], reason=LostReason.PRICE)
    db.session.rollback()

    assert deliveries() == []
    assert send().sent == 0 and receiver.calls == []


def test_only_active_subscriptions_to_the_event_are_told(receiver, org):
    won_only = subscribe(org, receiver.url, events=["opportunity.won"])
    switched_off = subscribe(org, receiver.url, events=ALL_EVENTS, active=False)
    told = subscribe(org, receiver.url, events=["customer.created"])

    create_customer(actor=org["m1"], name="只通知一次")
    send()

    assert [d.subscription_id for d in deliveries()] == [told.id]
    assert won_only.id != switched_off.id
    assert len(receiver.received()) == 1


def test_the_same_fact_reported_twice_is_sent_once(receiver, org, make_customer):
    subscribe(org, receiver.url)
    customer = make_customer(org["m1"])
    assert webhook_events.customer_entered_at_risk(customer, key=f"{customer.id}:2026-12-01") == 1
    assert webhook_events.customer_entered_at_risk(customer, key=f"{customer.id}:2026-12-01") == 0
    assert emit("customer.at_risk", {"customer": {"id": customer.id}}, key="another fact") == 1
    with pytest.raises(ValueError):
        emit("customer.vanished", {})  # a misspelt event fails loudly
    send()
    assert len(receiver.received()) == 2


def test_a_receiver_answering_500_then_200_gets_the_event_once(receiver, org):
    subscription = subscribe(org, receiver.url)
    receiver.behaviour.statuses = [500]
    create_customer(actor=org["m1"], name="重试的客户")
    t0 = datetime.now(UTC)

    first = send(t0)
    (delivery,) = deliveries()
    assert (first.sent, first.retried) == (0, 1)
    assert delivery.status is MessageStatus.PENDING
    assert (delivery.attempts, delivery.response_code) == (1, 500)
    assert delivery.last_error.startswith("HTTP 500")
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30)
    assert send(t0 + timedelta(seconds=10)).sent == 0  # not due yet

    assert send(t0 + timedelta(seconds=31)).sent == 1
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        MessageStatus.SENT,
        2,
        200,
    )
    assert [call.status for call in receiver.calls] == [500, 200]
    first_call, second_call = receiver.calls
    assert first_call.body == second_call.body  # the same bytes, the same ids
    assert first_call.headers["X-CRM-Event-Id"] == second_call.headers["X-CRM-Event-Id"]
    assert receiver.deliveries() == {delivery.key: 1}
    assert all(call.signed_with(subscription.secret) for call in receiver.calls)


def test_a_receiver_that_is_down_gets_the_event_when_it_is_back(org):
    port_holder = WebhookReceiver()  # a free port, not listening yet
    port_holder.server.server_close()
    subscribe(org, f"http://127.0.0.1:{port_holder.port}/hook")
    create_customer(actor=org["m1"], name="等待的客户")
    t0 = datetime.now(UTC)

    assert send(t0).retried == 1
    assert send(t0 + timedelta(seconds=31)).retried == 1
    (delivery,) = deliveries()
    assert delivery.attempts == 2
    assert "ConnectionRefused" in delivery.last_error
    assert delivery.response_code is None
    # The pauses grow: 30 s after the first failure, 60 s after the second.
    assert delivery.next_attempt_at == t0 + timedelta(seconds=31 + 60)

    with WebhookReceiver(port=port_holder.port) as back:
        assert send(t0 + timedelta(seconds=60)).sent == 0  # waits out its pause
        assert send(t0 + timedelta(seconds=92)).sent == 1
        assert len(back.received()) == 1
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts) == (MessageStatus.SENT, 3)


@pytest.mark.parametrize("limit", [3])
def test_after_the_last_attempt_it_fails_and_an_admin_retry_sends_it(app, receiver, org, limit):
    from crm.services.webhooks.subscriptions import retry_delivery

    app.config["WEBHOOK_MAX_ATTEMPTS"] = limit
    receiver.behaviour.statuses = [503] * limit
    subscribe(org, receiver.url)
    create_customer(actor=org["m1"], name="放弃的客户")
    now = datetime.now(UTC)
    for _ in range(limit):
        send(now)
        now += timedelta(hours=1)
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts) == (MessageStatus.FAILED, limit)
    assert delivery.last_error.startswith(f"gave up after {limit} attempts: HTTP 503")
    assert send(now + timedelta(days=1)).sent == 0

    retry_delivery(delivery, actor=org["admin"])
    assert send().sent == 1
    assert len(receiver.received()) == 1


@pytest.mark.parametrize(("status", "says"), [(404, "HTTP 404"), (302, "HTTP 302: the receiver")])
def test_a_refusal_or_a_redirect_fails_at_once(receiver, org, status, says):
    receiver.behaviour.statuses = [status]
    subscribe(org, receiver.url)
    create_customer(actor=org["m1"], name="被拒的客户")
    report = send()
    (delivery,) = deliveries()
    assert (report.failed, delivery.status, delivery.attempts) == (1, MessageStatus.FAILED, 1)
    assert delivery.response_code == status and delivery.last_error.startswith(says)
    assert len(receiver.calls) == 1  # a redirect is not followed


def test_a_rotated_secret_signs_the_calls_still_queued(receiver, org):
    from crm.services.webhooks.subscriptions import rotate_secret

    subscription = subscribe(org, receiver.url)
    old = subscription.secret
    create_customer(actor=org["m1"], name="换密钥的客户")
    db.session.commit()
    rotate_secret(subscription, actor=org["admin"])
    send()
    (call,) = receiver.received()
    assert subscription.secret != old
    assert call.signed_with(subscription.secret) and not call.signed_with(old)


def test_a_subscription_switched_off_after_the_event_keeps_the_call_for_a_retry(receiver, org):
    subscription = subscribe(org, receiver.url)
    create_customer(actor=org["m1"], name="关掉的订阅")
    subscription.active = False
    report = send()
    (delivery,) = deliveries()
    assert report.failed == 1 and receiver.calls == []
    assert (delivery.status, delivery.attempts) == (MessageStatus.FAILED, 0)
    assert delivery.last_error == "the subscription is switched off"


@pytest.mark.parametrize(
    ("fmt", "language", "expected"),
    [
        ("wecom_markdown", "zh_CN", "content"),
        ("dingtalk_markdown", "en", "text"),
    ],
)
def test_group_robots_get_markdown_in_their_language(
    receiver, org, make_customer, make_opportunity, fmt, language, expected
):
    subscribe(org, receiver.url, payload_format=fmt, language=language)
    opportunity = make_opportunity(make_customer(org["m1"], name="华中钢铁"), stage="Contract")
    opportunity.title = "云桌面 [二期]"
    pipeline.mark_won(opportunity, actor=org["m1"], contract_date=date(2026, 12, 1), amount="1000")
    send()

    (call,) = receiver.received()
    body = call.json
    assert body["msgtype"] == "markdown"
    text = body["markdown"][expected]
    url = f"{BASE_URL}/opportunities/{opportunity.id}"
    assert f"[云桌面 ［二期］]({url})" in text  # a bracket in the name cannot break the link
    if language == "en":
        assert body["markdown"]["title"] == "Opportunity won"
        assert "Contract amount: CN¥1,000.00" in text
    else:
        assert text.startswith("**商机赢单**")
        assert "合同金额：¥1,000.00" in text
    assert call.signed_with(db.session.scalar(select(WebhookDelivery)).subscription.secret)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, MessageStatus.PENDING),
        ({"errcode": 93000, "errmsg": "invalid webhook url"}, MessageStatus.FAILED),
        ({"errcode": 0, "errmsg": "ok"}, MessageStatus.SENT),
    ],
)
def test_a_robot_that_answers_200_with_an_error_code_is_not_delivered(
    receiver, org, answer, status
):
    receiver.behaviour.answer = json.dumps(answer).encode()
    subscribe(org, receiver.url, payload_format="wecom_markdown")
    create_customer(actor=org["m1"], name="机器人")
    send()
    (delivery,) = deliveries()
    assert delivery.status is status
    if answer["errcode"]:
        assert delivery.last_error.startswith(f"robot errcode {answer['errcode']}")


def test_an_overdue_follow_up_is_reported_once_when_its_day_is_over(
    receiver, org, make_customer, make_reminder
):
    from crm.services.followups.overdue import report_overdue

    subscribe(org, receiver.url, events=["follow_up.overdue"])
    m1 = org["m1"]  # Asia/Shanghai: 2026-12-01 ends at 2026-12-01 16:00 UTC
    customer = make_customer(m1, name="逾期的客户")
    day = date(2026, 12, 1)
    due_at = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    overdue = make_reminder(customer, due_on=day, due_at=due_at, note="回访")
    done = make_reminder(customer, due_on=day, due_at=due_at, status=ReminderStatus.DONE)
    later = make_reminder(customer, due_on=day + timedelta(days=1), due_at=due_at + timedelta(1))
    end_of_day = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)

    assert report_overdue(end_of_day - timedelta(minutes=1)) == 0
    assert report_overdue(end_of_day + timedelta(minutes=1)) == 1
    assert report_overdue(end_of_day + timedelta(minutes=2)) == 0  # the next tick
    assert report_overdue(end_of_day + timedelta(minutes=1)) == 0  # a tick run twice
    send()

    (call,) = receiver.received()
    follow_up = call.json["data"]["follow_up"]
    assert follow_up["id"] == overdue.id != done.id != later.id
    assert follow_up["due_on"] == "2026-12-01"
    assert follow_up["customer"]["name"] == "逾期的客户"
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
