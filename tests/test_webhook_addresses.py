"""Where a webhook may call: http(s) only, no private network unless the deployment allows it.

The form refuses what the URL says (an IP literal, localhost); the sender refuses what a
name resolves to when it calls, and connects to exactly the address it checked. HTTPS
receivers are verified against the system's certificate authorities, by host name.
"""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.archive.customers import create_customer
from crm.services.webhooks.addresses import url_problem
from crm.services.webhooks.subscriptions import create_subscription
from crm.webhook_delivery import deliver_due_webhooks
from models import MessageStatus, WebhookDelivery
from tests.webhook_receiver import WebhookReceiver


@pytest.mark.parametrize(
    "url",
    [
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
        "http://8.8.8.8/hook",
        "https://[2001:4860:4860::8888]:8443/hook",
        "https://warehouse.corp.example/in",  # a name: checked when the call is made
    ],
)
def test_public_addresses_are_accepted(app, url):
    assert url_problem(url, allow_private=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.10/hook",
        "http://100.64.0.1/hook",  # shared address space (carrier NAT)
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.5]/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_private_addresses_are_refused_unless_allowed(app, url):
    assert "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES" in str(url_problem(url, allow_private=False))
    assert url_problem(url, allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "example.com/hook", "https://", "http://example.com:99999/", ""],
)
def test_what_is_not_an_http_address_is_refused_either_way(app, url):
    assert url_problem(url, allow_private=True) is not None


@pytest.fixture
def app_overrides():
    return {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}


def subscribe_and_send(app, org, url: str) -> WebhookDelivery:
    create_subscription(actor=org["admin"], name="n", url=url, events=["customer.created"])
    create_customer(actor=org["m1"], name="地址测试")
    db.session.commit()
    deliver_due_webhooks()
    db.session.expire_all()
    return db.session.scalar(select(WebhookDelivery))


def test_a_name_that_resolves_to_a_private_address_is_not_called(app, org):
    with WebhookReceiver() as receiver:
        url = f"http://localhost:{receiver.port}/hook"
        create_subscription(actor=org["admin"], name="n", url=url, events=["customer.created"])
        app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False  # subscribed while allowed
        create_customer(actor=org["m1"], name="内网")
        db.session.commit()
        report = deliver_due_webhooks()
        db.session.expire_all()
        delivery = db.session.scalar(select(WebhookDelivery))
        assert report.failed == 1 and receiver.calls == []
        assert delivery.status is MessageStatus.FAILED and delivery.attempts == 1
        assert delivery.last_error.startswith("refused: localhost is ")


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for localhost and 127.0.0.1: (certificate, key) files."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_an_https_receiver_is_verified_by_its_name(app, org, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # the test's own authority
    with WebhookReceiver(tls=certificate) as receiver:
        delivery = subscribe_and_send(app, org, f"https://localhost:{receiver.port}/hook")
        assert delivery.status is MessageStatus.SENT
        assert len(receiver.received()) == 1


def test_an_https_receiver_whose_certificate_fails_is_not_sent_the_event(app, org, certificate):
    with WebhookReceiver(tls=certificate) as receiver:
        delivery = subscribe_and_send(app, org, f"https://localhost:{receiver.port}/hook")
        assert delivery.status is MessageStatus.PENDING  # retried: the receiver may fix it
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
        assert receiver.calls == []
