"""Reminder emails through the outbox, delivered to a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.scheduler import tick
from crm.services.followups import outbox
from crm.services.followups.scheduler_state import last_tick
from models import MessageStatus, OutboxMessage, ReminderStatus
from tests.smtp import SMTPServer

BASE_URL = "https://crm.example.cn"


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": BASE_URL, "REMINDER_MAX_AGE_HOURS": 2.0}


def now_utc():
    return datetime.now(UTC).replace(microsecond=0)


def due_reminder(make_customer, make_reminder, owner, *, at=None, **fields):
    customer = make_customer(owner, name=fields.pop("customer_name", "江城智慧交通集团"))
    at = at or now_utc() - timedelta(minutes=1)
    return make_reminder(customer, owner, due_at=at, due_on=at.date(), has_time=True, **fields)


def run_tick(now=None):
    db.session.commit()
    report = tick(now)
    db.session.expire_all()
    return report


def test_due_reminder_is_delivered_once_in_the_owners_language_and_zone(
    smtp, org, make_customer, make_reminder
):
    owner = org["m1"]
    owner.locale, owner.timezone = "en", "America/New_York"
    at = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 09:30 in New York
    reminder = due_reminder(make_customer, make_reminder, owner, at=at, note="bring the quote")

    run_tick(at + timedelta(minutes=1))
    run_tick(at + timedelta(minutes=2))

    assert len(smtp.of_kind("reminder:")) == 1
    message = smtp.of_kind("reminder:")[0]
    assert message["To"] == owner.email
    assert "Follow-up due" in message["Subject"] and "江城智慧交通集团" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "2026-11-23 09:30" in text  # New York time, not UTC
    assert "bring the quote" in text
    link = f"{BASE_URL}/reminders/{reminder.id}"
    assert link in text and f'href="{link}"' in html


def test_the_link_in_the_email_opens_the_reminder(
    client, login, smtp, org, make_customer, make_reminder
):
    reminder = due_reminder(make_customer, make_reminder, org["m1"])
    run_tick()
    path = (
        smtp.of_kind("reminder:")[0]
        .get_body(("plain",))
        .get_content()
        .split(BASE_URL)[1]
        .split()[0]
    )
    login(client, org["m1"])
    assert path == f"/reminders/{reminder.id}"
    assert client.get(path).status_code == 200


def test_chinese_recipient_gets_chinese_email(smtp, org, make_customer, make_reminder, app):
    owner = org["m2"]
    owner.locale = "zh_CN"
    due_reminder(make_customer, make_reminder, owner)
    run_tick()
    from pathlib import Path

    catalog = Path(app.root_path) / "translations/zh_Hans_CN/LC_MESSAGES/messages.mo"
    if not catalog.exists():
        pytest.skip("the zh_CN catalog is not compiled (scripts/_setup.sh compiles it)")
    assert "跟进" in smtp.of_kind("reminder:")[0]["Subject"]


def test_reminder_closed_before_its_time_sends_nothing(smtp, org, make_customer, make_reminder):
    soon = now_utc() + timedelta(minutes=30)
    done = due_reminder(make_customer, make_reminder, org["m1"], at=soon)
    dismissed = due_reminder(make_customer, make_reminder, org["m1"], at=soon)
    done.status = ReminderStatus.DONE
    dismissed.status = ReminderStatus.DISMISSED
    run_tick(soon + timedelta(minutes=1))
    assert smtp.of_kind("reminder:") == []


def test_closing_a_reminder_cancels_its_queued_email(smtp, org, make_customer, make_reminder):
    reminder = due_reminder(make_customer, make_reminder, org["m1"])
    from crm.services.followups import notifications

    notifications.enqueue_due_reminders(now_utc())
    reminder.status = ReminderStatus.DONE
    outbox.cancel_reminder_messages(reminder.id)
    run_tick()
    assert smtp.of_kind("reminder:") == []
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert message.status is MessageStatus.CANCELLED


def test_rescheduled_after_sending_is_sent_again(smtp, org, make_customer, make_reminder):
    reminder = due_reminder(make_customer, make_reminder, org["m1"])
    run_tick()
    later = now_utc() + timedelta(hours=3)
    reminder.due_at, reminder.due_on = later, later.date()
    run_tick()  # not yet due again
    assert len(smtp.of_kind("reminder:")) == 1
    run_tick(later + timedelta(minutes=1))
    assert len(smtp.of_kind("reminder:")) == 2
    assert len(set(smtp.keys("reminder:"))) == 2


def test_lead_time_sends_early(smtp, org, make_customer, make_reminder):
    owner = org["m1"]
    owner.reminder_lead_minutes = 60
    at = now_utc() + timedelta(minutes=45)
    due_reminder(make_customer, make_reminder, owner, at=at)
    run_tick()
    assert len(smtp.of_kind("reminder:")) == 1


def test_switched_off_reminder_emails_are_not_sent(smtp, org, make_customer, make_reminder):
    org["m1"].email_reminders = False
    due_reminder(make_customer, make_reminder, org["m1"])
    run_tick()
    assert smtp.of_kind("reminder:") == []


def test_permanent_failures_do_not_hold_up_the_others(smtp, org, make_customer, make_reminder):
    smtp.faults.refuse_rcpt.add(org["m2"].email)
    org["m3"].email = None
    for owner in ("m1", "m2", "m3", "m4"):
        due_reminder(make_customer, make_reminder, org[owner], customer_name=f"客户{owner}")
    run_tick()
    assert sorted(m["To"] for m in smtp.of_kind("reminder:")) == sorted(
        [org["m1"].email, org["m4"].email]
    )
    failed = {
        m.recipient.username: m.last_error
        for m in db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status == MessageStatus.FAILED, OutboxMessage.kind == "reminder"
            )
        )
    }
    assert set(failed) == {"m2", "m3"}
    assert "550" in failed["m2"]
    assert failed["m3"] == "recipient has no email address"


def test_deactivated_recipient_is_failed_with_a_reason(smtp, org, make_customer, make_reminder):
    due_reminder(make_customer, make_reminder, org["m2"])
    org["m2"].active = False
    run_tick()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert message.status is MessageStatus.FAILED
    assert message.last_error == "recipient is deactivated"
    assert smtp.of_kind("reminder:") == []


def test_temporary_failures_and_dropped_connections_still_deliver_exactly_once(
    smtp, org, make_customer, make_reminder
):
    smtp.faults.temporary_every = 3
    smtp.faults.drop_every = 7
    customer = make_customer(org["m1"])
    start = now_utc() - timedelta(minutes=1)
    for i in range(40):
        make_reminder(customer, org["m1"], due_at=start, due_on=start.date(), note=f"n{i}")
    run_tick()
    for _ in range(20):  # time passes: retries come due
        pending = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == MessageStatus.PENDING)
        ).all()
        if not pending:
            break
        for message in pending:
            message.next_attempt_at = now_utc() - timedelta(seconds=1)
        run_tick()
    keys = smtp.keys("reminder:")
    assert len(keys) == 40
    assert set(keys.values()) == {1}
    statuses = set(
        db.session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "reminder"))
    )
    assert statuses == {MessageStatus.SENT}


def test_retry_waits_longer_each_time_up_to_half_an_hour(app, org):
    now = now_utc()
    message = OutboxMessage(key="k", kind="reminder", status=MessageStatus.SENDING, created_at=now)
    pauses = []
    for attempts in range(1, 13):
        message.attempts = attempts
        outbox.mark_retry(message, "451", now)
        assert message.status is MessageStatus.PENDING  # young: never given up
        pauses.append(message.next_attempt_at - now)
    assert pauses[0] == timedelta(seconds=30)
    assert pauses[1] == pauses[0] * 2
    assert max(pauses) == pauses[-1] == timedelta(minutes=30)


def test_a_temporary_failure_of_a_message_older_than_the_give_up_age_fails_it(app, org):
    written = now_utc()
    message = OutboxMessage(key="k", kind="reminder", status=MessageStatus.SENDING, attempts=3)
    message.created_at = written
    outbox.mark_retry(message, "451 busy", written + timedelta(hours=71))
    assert message.status is MessageStatus.PENDING
    message.status = MessageStatus.SENDING
    outbox.mark_retry(message, "451 busy", written + timedelta(hours=72))
    assert message.status is MessageStatus.FAILED
    assert message.last_error.startswith("gave up after 3 attempts in 72 hours: 451 busy")


def test_after_downtime_recent_ones_are_sent_once_and_old_ones_wait_for_the_digest(
    smtp, org, make_customer, make_reminder
):
    owner = org["m1"]
    owner.timezone = "Asia/Shanghai"
    # The scheduler was down from 06:00 to 09:00 Shanghai time (22:00–01:00 UTC).
    restart = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    old = due_reminder(
        make_customer, make_reminder, owner, at=restart - timedelta(hours=2, minutes=50)
    )
    recent = due_reminder(make_customer, make_reminder, owner, at=restart - timedelta(minutes=30))

    run_tick(restart)
    run_tick(restart + timedelta(minutes=1))

    reminder_mails = smtp.of_kind("reminder:")
    assert [m["X-CRM-Key"] for m in reminder_mails] == [
        outbox.reminder_key(recent.id, recent.due_at, owner.id)
    ]
    digests = smtp.of_kind("daily:")
    assert len(digests) == 1  # 09:00 in Shanghai: the day's digest, once
    body = digests[0].get_body(("plain",)).get_content()
    assert f"/reminders/{old.id}" in body and f"/reminders/{recent.id}" in body


def test_tick_records_its_heartbeat(smtp, org):
    run_tick(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    assert last_tick() == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_daily_digest_at_eight_in_each_users_zone(smtp, org, make_customer, make_reminder):
    shanghai, new_york = org["m1"], org["m3"]
    shanghai.timezone, new_york.timezone = "Asia/Shanghai", "America/New_York"
    new_york.daily_digest_on = date(2026, 11, 23)  # New York's 23rd is over: sent then
    for user in (shanghai, new_york):
        customer = make_customer(user)
        day = date(2026, 11, 24)
        make_reminder(
            customer, user, due_at=datetime(2026, 11, 23, 3, tzinfo=UTC), due_on=date(2026, 11, 23)
        )
        make_reminder(customer, user, due_at=datetime(2026, 11, 24, 3, tzinfo=UTC), due_on=day)

    def digests():
        return sorted(m["To"] for m in smtp.of_kind("daily:"))

    run_tick(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))  # 07:59 in Shanghai
    assert digests() == []
    run_tick(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai
    assert digests() == [shanghai.email]
    run_tick(datetime(2026, 11, 24, 12, 59, tzinfo=UTC))  # 07:59 in New York
    assert digests() == [shanghai.email]
    run_tick(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # 08:00 in New York
    run_tick(datetime(2026, 11, 24, 13, 1, tzinfo=UTC))
    assert digests() == sorted([shanghai.email, new_york.email])


def test_no_digest_on_an_empty_day(smtp, org):
    run_tick(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    assert smtp.of_kind("daily:") == []


def test_switched_off_digest_is_not_sent(smtp, org, make_customer, make_reminder):
    org["m1"].email_daily_digest = False
    org["m1"].email_reminders = False
    customer = make_customer(org["m1"])
    make_reminder(
        customer, org["m1"], due_at=datetime(2026, 11, 20, tzinfo=UTC), due_on=date(2026, 11, 20)
    )
    run_tick(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    # The supervisor's weekly digest may mention it; m1 gets nothing.
    assert [m for m in smtp.messages if m["To"] == org["m1"].email] == []
