"""A scheduler killed in the middle of a webhook call, against a real receiver on loopback.

The guarantee (README, "Webhooks"), as for the emails: at least once. A call is made
again only if its sender died after the receiver took it and before the outcome was
committed, and the repeat carries the same X-CRM-Delivery and X-CRM-Event-Id, so the
receiver drops it; every other event arrives exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm.extensions import db
from crm.services.archive.customers import create_customer
from crm.services.webhooks.subscriptions import create_subscription
from models import MessageStatus, WebhookDelivery
from tests import test_outbox_processes
from tests.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 12
file_database_url = test_outbox_processes.file_database_url  # the same fixture


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def app_overrides(file_database_url, tmp_path):
    return {
        "SQLALCHEMY_DATABASE_URI": file_database_url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        "MAIL_DIR": str(tmp_path / "mail"),
    }


def process(database_url: str, tmp_path: Path, *command: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "CRM_MAIL_DIR": str(tmp_path / "mail"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "crm", *command],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sent_keys() -> set[str]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(WebhookDelivery.key).where(WebhookDelivery.status == MessageStatus.SENT)
        )
    )


@pytest.mark.slow
def test_a_scheduler_killed_mid_call_loses_no_event_and_repeats_at_most_one(
    org, receiver, file_database_url, tmp_path
):
    subscription = create_subscription(
        actor=org["admin"], name="数据仓库", url=receiver.url, events=["customer.created"]
    )
    for n in range(EVENTS):
        create_customer(actor=org["m1"], name=f"进程测试客户{n}")
    db.session.commit()
    keys = set(db.session.scalars(select(WebhookDelivery.key)))
    assert len(keys) == EVENTS

    receiver.behaviour.delay = 0.2
    victim = process(file_database_url, tmp_path, "scheduler")
    deadline = time.monotonic() + 60
    while len(receiver.received()) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    receiver.in_call.clear()
    assert receiver.in_call.wait(10), victim.stdout  # the scheduler is in the middle of a call
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    time.sleep(0.3)  # the receiver answers the held call into the dead socket
    receiver.behaviour.delay = 0

    acknowledged = sent_keys()
    assert 4 <= len(acknowledged) < EVENTS
    # The victim's claims would run out after OUTBOX_LEASE_SECONDS; let that time pass.
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == MessageStatus.SENDING)
        .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()

    rescuer = process(file_database_url, tmp_path, "send-outbox", "--worker", "rescuer")
    output = rescuer.communicate(timeout=60)[0]
    assert rescuer.returncode == 0, output
    assert "webhooks: sent=" in output

    taken = receiver.deliveries()
    assert set(taken) == keys  # nothing lost
    assert sent_keys() == keys
    repeated = {key for key, times in taken.items() if times > 1}
    assert not repeated & acknowledged  # nothing recorded as sent came twice
    assert len(repeated) <= 1  # only the call in flight when it died may repeat
    assert all(call.signed_with(subscription.secret) for call in receiver.received())
    for key in repeated:  # the repeat is the same call: the receiver can drop it
        calls = [call for call in receiver.received() if call.headers["X-CRM-Delivery"] == key]
        assert len({(call.body, call.headers["X-CRM-Event-Id"]) for call in calls}) == 1
