"""The webhooks admin pages: who opens them, the form's refusals, the secret, the delivery log.

The access matrix (tests/routes.py) tries every id route for every persona; here: the
pages without ids, each refusal of the form changing nothing, CSRF, and the log's retry.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.customers import create_customer
from crm.services.webhooks.subscriptions import create_subscription
from crm.webhook_delivery import deliver_due_webhooks
from models import AuditEntry, MessageStatus, WebhookDelivery, WebhookSubscription
from tests.webhook_receiver import WebhookReceiver

VALID = {
    "name": "销售群机器人",
    "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
    "events": ["opportunity.won", "opportunity.lost"],
    "payload_format": "wecom_markdown",
    "language": "zh_CN",
    "active": "y",
}


@pytest.fixture
def admin(client, login, org):
    """The admin, signed in, reading English."""
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    return client


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("who", ["m1", "sup1"])
@pytest.mark.parametrize("path", ["/admin/webhooks/", "/admin/webhooks/new"])
def test_only_admins_open_the_webhooks(client, login, org, who, path):
    login(client, org[who])
    assert client.get(path).status_code == 403
    if path.endswith("/new"):
        assert client.post(path, data=VALID).status_code == 403
    assert count(WebhookSubscription) == 0


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/webhooks/")
    assert response.status_code == 302 and "/login" in response.location


def test_webhooks_are_in_the_admins_settings_menu_only(client, login, org):
    login(client, org["m1"])
    assert 'href="/admin/webhooks/"' not in client.get("/").get_data(as_text=True)
    login(client, org["admin"])
    assert 'href="/admin/webhooks/"' in client.get("/").get_data(as_text=True)


def test_an_admin_subscribes_a_robot_and_sees_its_secret(admin, org):
    response = admin.post("/admin/webhooks/new", data=VALID)
    subscription = db.session.scalar(select(WebhookSubscription))
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/webhooks/{subscription.id}")
    assert subscription.events == ["opportunity.won", "opportunity.lost"]
    assert subscription.payload_format.value == "wecom_markdown" and subscription.active
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) > 40
    page = admin.get(response.location).get_data(as_text=True)
    assert subscription.secret in page
    assert "Give its secret (below) to the receiver" in page
    listing = admin.get("/admin/webhooks/").get_data(as_text=True)
    assert "销售群机器人" in listing and "Opportunity won" in listing
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.entity_type == "webhook_subscriptions")
    )
    assert entry.actor_id == org["admin"].id
    assert subscription.secret not in str(entry.changes)  # the audit log never holds it


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "ftp://files.example.com/in", "starts with http:// or https://"),
        ("url", "qyapi.weixin.qq.com/send", "starts with http:// or https://"),
        ("url", "http://127.0.0.1:8080/hook", "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        ("url", "http://10.1.2.3/hook", "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        ("url", "http://localhost/hook", "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        ("url", "https://user:pw@example.com/hook", "no user name or password"),
        ("url", "https://example.com/" + "a" * 2000, "longer than 2000 characters"),
        ("url", "", "This field is required"),
        ("events", [], "Choose at least one event"),
        ("events", ["opportunity.won", "customer.vanished"], "is not a valid choice"),
        ("payload_format", "xml", "Not a valid choice"),
        ("name", "", "This field is required"),
        ("name", "x" * 101, "100 characters"),
    ],
)
def test_a_refused_form_says_why_and_changes_nothing(admin, field, value, message):
    response = admin.post("/admin/webhooks/new", data={**VALID, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(WebhookSubscription) == 0 and count(AuditEntry) == 0


def test_the_service_refuses_what_the_form_would_let_through(app, org):
    from crm.services.errors import DomainError, NotAllowed

    with pytest.raises(DomainError) as refused:
        create_subscription(actor=org["admin"], name="  ", url=VALID["url"], events=["x"])
    assert refused.value.field == "name"
    with pytest.raises(DomainError) as refused:
        create_subscription(actor=org["m1"], name="n", url=VALID["url"], events=VALID["events"])
    assert isinstance(refused.value, NotAllowed)


@pytest.mark.parametrize("app_overrides", [{"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}])
def test_a_deployment_that_allows_private_receivers_may_subscribe_them(admin):
    response = admin.post("/admin/webhooks/new", data={**VALID, "url": "http://10.1.2.3/hook"})
    assert response.status_code == 302
    assert db.session.scalar(select(WebhookSubscription.url)) == "http://10.1.2.3/hook"


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_every_change_needs_the_forms_token(admin, org):
    subscription = create_subscription(
        actor=org["admin"], name="n", url=VALID["url"], events=VALID["events"]
    )
    db.session.commit()
    secret = subscription.secret
    for path in (
        "new",
        f"{subscription.id}/edit",
        f"{subscription.id}/rotate-secret",
        f"{subscription.id}/delete",
        f"{subscription.id}/retry-failed",
    ):
        response = admin.post(f"/admin/webhooks/{path}", data={**VALID, "confirmed": "1"})
        assert response.status_code == 400, path
        assert "The form expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert count(WebhookSubscription) == 1 and subscription.secret == secret
    assert subscription.name == "n"


def test_editing_switches_off_and_a_stale_edit_is_refused(admin, org):
    subscription = create_subscription(
        actor=org["admin"], name="n", url=VALID["url"], events=VALID["events"]
    )
    db.session.commit()
    version = subscription.version
    form = {**VALID, "name": "数据仓库", "version": version}
    del form["active"]  # an unticked checkbox is not sent
    assert admin.post(f"/admin/webhooks/{subscription.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert (subscription.name, subscription.active) == ("数据仓库", False)

    stale = admin.post(f"/admin/webhooks/{subscription.id}/edit", data={**form, "name": "旧的"})
    assert stale.status_code == 409
    assert "Someone else saved this record" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert subscription.name == "数据仓库"


def test_rotating_the_secret_shows_a_new_one(admin, org):
    subscription = create_subscription(
        actor=org["admin"], name="n", url=VALID["url"], events=VALID["events"]
    )
    db.session.commit()
    old = subscription.secret
    response = admin.post(f"/admin/webhooks/{subscription.id}/rotate-secret")
    assert response.status_code == 302
    db.session.expire_all()
    assert subscription.secret != old and subscription.secret_rotated_at is not None
    page = admin.get(response.location).get_data(as_text=True)
    assert subscription.secret in page and old not in page


@pytest.mark.parametrize("app_overrides", [{"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}])
def test_the_delivery_log_shows_each_call_and_retries_a_failed_one(admin, org):
    with WebhookReceiver() as receiver:
        receiver.behaviour.statuses = [410]
        subscription = create_subscription(
            actor=org["admin"], name="n", url=receiver.url, events=["customer.created"]
        )
        create_customer(actor=org["m1"], name="日志里的客户")
        db.session.commit()
        deliver_due_webhooks()
        (delivery,) = db.session.scalars(select(WebhookDelivery)).all()

        page = admin.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
        row = re.search(rf'<tr class="delivery-row" data-id="{delivery.id}".*?</tr>', page, re.S)
        assert 'data-status="failed"' in row.group(0)
        assert "410" in row.group(0) and "HTTP 410" in row.group(0)
        failed_only = admin.get(f"/admin/webhooks/{subscription.id}?status=sent")
        assert "delivery-row" not in failed_only.get_data(as_text=True)
        call_page = admin.get(f"/admin/webhooks/deliveries/{delivery.id}").get_data(as_text=True)
        assert "日志里的客户" in call_page and delivery.key in call_page

        response = admin.post(f"/admin/webhooks/deliveries/{delivery.id}/retry")
        assert response.status_code == 302
        db.session.expire_all()
        assert (delivery.status, delivery.attempts) == (MessageStatus.PENDING, 0)
        deliver_due_webhooks()
        db.session.expire_all()
        assert delivery.status is MessageStatus.SENT
        assert len(receiver.received()) == 1


def test_retry_all_failed_and_delete(admin, org):
    subscription = create_subscription(
        actor=org["admin"], name="n", url=VALID["url"], events=VALID["events"]
    )
    db.session.flush()
    for n in range(2):
        db.session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                key=f"webhook:t:{n}",
                event="opportunity.won",
                event_id=str(n),
                body="{}",
                status=MessageStatus.FAILED,
                attempts=20,
            )
        )
    db.session.commit()
    response = admin.post(f"/admin/webhooks/{subscription.id}/retry-failed")
    assert response.status_code == 302
    assert "2 failed calls are queued again" in admin.get(response.location).get_data(as_text=True)
    assert set(db.session.scalars(select(WebhookDelivery.status))) == {MessageStatus.PENDING}

    asked = admin.post(f"/admin/webhooks/{subscription.id}/delete")  # without JS: asks first
    assert asked.status_code == 200 and count(WebhookSubscription) == 1
    done = admin.post(f"/admin/webhooks/{subscription.id}/delete", data={"confirmed": "1"})
    assert done.status_code == 302
    assert count(WebhookSubscription) == 0 and count(WebhookDelivery) == 0
