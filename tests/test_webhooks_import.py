"""Customers created by a CSV import are told to webhook receivers as the form's are: one
`customer.created` each, queued in the import's own transaction, signed, sent once."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.imports import batch as imports
from crm.services.webhooks.subscriptions import create_subscription
from crm.webhook_delivery import deliver_due_webhooks
from models import Customer, WebhookDelivery
from tests.webhook_receiver import WebhookReceiver

BASE_URL = "https://crm.example.cn"
HEADER = "name,parent,tier,owner"


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def app_overrides(tmp_path):
    return {
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        "BASE_URL": BASE_URL,
        "WEBHOOK_TIMEOUT": 5.0,
        "IMPORT_UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }


def _subscribe(org, url: str, events=("customer.created",)):
    subscription = create_subscription(
        actor=org["admin"], name="数据仓库", url=url, events=list(events)
    )
    db.session.commit()
    return subscription


def _queued() -> int:
    """Deliveries as this transaction sees them (the import's own, before its commit)."""
    return db.session.scalar(select(func.count(WebhookDelivery.id)))


def _import_through_the_page(client, text: str):
    """Upload (the dry run), then commit the kept file, as a manager does on the page."""
    checked = client.post(
        "/customers/import",
        data={
            "kind": "customers",
            "encoding": "auto",
            "file": (io.BytesIO(text.encode("utf-8")), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', checked.get_data(as_text=True))
    assert token, checked.get_data(as_text=True)
    return client.post("/customers/import/commit", data={"token": token.group(1)})


def test_each_imported_customer_reaches_the_receiver_once_signed(client, login, org, receiver):
    subscription = _subscribe(org, receiver.url)
    login(client, org["sup1"])  # a supervisor, who may give customers to the team
    text = "\n".join((HEADER, "东湖精密制造,华中集团,B,", "华中集团,,A,", "西山物流,,C,m2"))

    assert _import_through_the_page(client, text).status_code == 302
    report = deliver_due_webhooks(worker="test-sender")

    calls = receiver.received()
    assert report.sent == len(calls) == 3
    assert all(call.signed_with(subscription.secret) for call in calls)
    bodies = [call.json for call in calls]
    assert {body["event"] for body in bodies} == {"customer.created"}
    assert len({body["id"] for body in bodies}) == 3
    # In the file's order (the subsidiary was written after its group, but told first).
    assert [body["data"]["customer"]["name"] for body in bodies] == [
        "东湖精密制造",
        "华中集团",
        "西山物流",
    ]
    west = db.session.scalar(select(Customer).where(Customer.name == "西山物流"))
    assert bodies[2]["data"] == {
        "customer": {
            "id": west.id,
            "name": "西山物流",
            "tier": "C",
            "status": "prospect",
            "owner": {"id": org["m2"].id, "username": "m2", "name": "M2"},
            "url": f"{BASE_URL}/customers/{west.id}",
        },
        "actor": {"id": org["sup1"].id, "username": "sup1", "name": org["sup1"].display_name},
    }
    assert deliver_due_webhooks(worker="test-sender").sent == 0  # each once


def test_an_import_that_is_refused_or_rolled_back_tells_nothing(client, login, org, receiver):
    _subscribe(org, receiver.url)
    login(client, org["m1"])
    refused = "\n".join((HEADER, "好客户,,A,", "坏客户,,Z,"))  # tier Z: the file writes nothing
    with pytest.raises(imports.ImportNoLongerPasses):
        imports.import_file("customers", refused.encode(), "auto", actor=org["m1"])
    db.session.rollback()
    assert _queued() == 0

    # Queued in the import's transaction: undone with its customers.
    fine = "\n".join((HEADER, "好客户,,A,"))
    report = imports.import_file("customers", fine.encode(), "auto", actor=org["m1"])
    assert report.imported == 1 and _queued() == 1
    db.session.rollback()
    assert _queued() == 0 and db.session.scalar(select(func.count(Customer.id))) == 0


def test_an_import_with_no_subscriber_queues_nothing_and_reads_no_customer(
    org, receiver, count_queries
):
    _subscribe(org, receiver.url, events=("opportunity.won",))
    text = "\n".join((HEADER, "甲公司,,A,", "乙公司,,B,"))
    with count_queries() as statements:
        imports.import_file("customers", text.encode(), "auto", actor=org["m1"])
    db.session.commit()
    assert _queued() == 0
    # The new customers are not read back to tell nobody.
    assert not [s for s in statements if "customers.id IN" in s]
