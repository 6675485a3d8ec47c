"""Retries after an SMTP outage, killed senders' claims, and "Retry all failed".

Time is simulated: every sender run gets `now=`, as the scheduler's minute ticks would
see it; the SMTP server is a real one on loopback that is down (nothing listens on its
port: connections are refused) and then comes back on the same port.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.delivery import deliver_due
from crm.extensions import db
from crm.mail import transport_from_config
from crm.services.followups import outbox
from models import MessageKind, MessageStatus, OutboxMessage
from tests.smtp import SMTPServer, free_port

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_overrides(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_TIMEOUT": 5.0}


def write_messages(org, count: int, now: datetime = T0) -> None:
    recipients = [org[name] for name in ("m1", "m2", "m3", "m4")]
    outbox.enqueue(
        [
            outbox.message_row(
                key=f"outage:{i}",
                kind=MessageKind.REMINDER,
                recipient=recipients[i % 4],
                subject=f"message {i}",
                text=f"body {i}",
            )
            for i in range(count)
        ],
        now,
    )
    db.session.commit()


def send(app, now: datetime, worker: str = "sender"):
    """One scheduler tick's sending, at the simulated time `now`."""
    transport = transport_from_config(app.config)
    try:
        report = deliver_due(transport, worker=worker, now=now)
    finally:
        transport.close()
    db.session.expire_all()
    return report


def statuses() -> dict[str, MessageStatus]:
    return dict(db.session.execute(select(OutboxMessage.key, OutboxMessage.status)).all())


def test_smtp_down_for_longer_than_the_old_retry_schedule_then_back_delivers_each_once(
    app, org, smtp_port
):
    write_messages(org, 20)
    # Down for three hours: the old schedule (8 attempts, 30 s doubling) gave up after one.
    minute = T0
    while minute < T0 + timedelta(hours=3):
        report = send(app, minute)
        assert report.sent == 0 and report.failed == 0
        minute += timedelta(minutes=1)
    assert set(statuses().values()) == {MessageStatus.PENDING}
    attempts = set(db.session.scalars(select(OutboxMessage.attempts)))
    assert min(attempts) >= 8  # well past the old limit, still waiting

    with SMTPServer(port=smtp_port) as smtp:  # the server is back where it was
        back = minute
        while minute <= back + timedelta(minutes=31) and len(smtp.messages) < 20:
            send(app, minute)
            minute += timedelta(minutes=1)
        keys = smtp.keys("outage:")
    assert keys == {f"outage:{i}": 1 for i in range(20)}  # every one, exactly once
    assert minute - back <= timedelta(minutes=31)  # the pause is capped at half an hour
    assert set(statuses().values()) == {MessageStatus.SENT}


def test_still_refused_when_too_old_to_matter_it_fails_with_the_reason(app, org):
    write_messages(org, 1)
    send(app, T0)
    send(app, T0 + timedelta(hours=71, minutes=59))
    assert statuses() == {"outage:0": MessageStatus.PENDING}
    send(app, T0 + timedelta(hours=72))
    message = db.session.scalar(select(OutboxMessage))
    assert message.status is MessageStatus.FAILED
    assert message.attempts == 3
    assert message.last_error.startswith("gave up after 3 attempts in 72 hours: ")


def test_a_killed_senders_claim_expires_within_a_minute_and_was_no_attempt(app, org, smtp_port):
    write_messages(org, 1)
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    # A sender claims the message and is killed before it sends it.
    assert len(outbox.claim("victim", limit=10, lease=lease, now=T0)) == 1
    db.session.commit()

    with SMTPServer(port=smtp_port) as smtp:
        assert send(app, T0 + timedelta(seconds=30), "rescuer").sent == 0  # still claimed
        assert send(app, T0 + timedelta(seconds=61), "rescuer").sent == 1
        assert smtp.keys("outage:") == {"outage:0": 1}
    message = db.session.scalar(select(OutboxMessage))
    assert message.status is MessageStatus.SENT
    assert message.claimed_by == "rescuer"
    assert message.attempts == 1  # the victim's claim was no attempt


def test_an_expired_claim_does_not_shorten_the_next_pause(app, org):
    write_messages(org, 1)
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    outbox.claim("victim", limit=10, lease=lease, now=T0)
    db.session.commit()
    later = T0 + lease + timedelta(seconds=1)
    send(app, later, "rescuer")  # the server is down: a first, real attempt fails
    message = db.session.scalar(select(OutboxMessage))
    assert message.attempts == 1
    assert message.next_attempt_at == later + timedelta(seconds=30)  # the first pause


def test_a_permanent_refusal_still_fails_at_once(app, org, smtp_port):
    write_messages(org, 2)
    with SMTPServer(port=smtp_port) as smtp:
        smtp.faults.refuse_rcpt.add(org["m1"].email)
        send(app, T0)
        assert smtp.keys("outage:") == {"outage:1": 1}
    assert statuses() == {"outage:0": MessageStatus.FAILED, "outage:1": MessageStatus.SENT}
