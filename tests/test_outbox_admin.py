"""The admin outbox page: filters, paging, the scheduler's heartbeat, a message, retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.scheduler import tick
from crm.services.followups.scheduler_state import record_heartbeat
from models import MessageKind, MessageStatus, OutboxMessage
from tests.smtp import SMTPServer


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


_keys = iter(range(1, 1_000_000))


def message(recipient=None, **fields) -> OutboxMessage:
    n = next(_keys)
    fields.setdefault("kind", MessageKind.REMINDER)
    fields.setdefault("status", MessageStatus.PENDING)
    row = OutboxMessage(
        key=fields.pop("key", f"{fields['kind'].value}:{n}"),
        recipient=recipient,
        subject=fields.pop("subject", f"Subject {n}"),
        body_text=fields.pop("body_text", f"Body {n}"),
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="outbox-row" data-id="(\d+)"', html)]


@pytest.mark.parametrize("who", ["m1", "sup1"])
def test_only_admins_open_the_outbox(client, login, english, who):
    login(client, english[who])
    assert client.get("/admin/outbox/").status_code == 403


def test_the_outbox_is_in_the_admins_navigation_only(client, login, english):
    login(client, english["m1"])
    assert 'href="/admin/outbox/"' not in client.get("/").get_data(as_text=True)
    login(client, english["admin"])
    assert 'href="/admin/outbox/"' in client.get("/").get_data(as_text=True)


def test_list_filters_by_status_kind_recipient_and_days(client, login, english):
    now = datetime.now(UTC)
    m1, m2 = english["m1"], english["m2"]
    sent = message(m1, status=MessageStatus.SENT, sent_at=now, created_at=now - timedelta(hours=1))
    failed = message(m2, status=MessageStatus.FAILED, last_error="550 no such user")
    digest = message(m1, kind=MessageKind.DAILY_DIGEST, created_at=now - timedelta(days=10))
    outside = message(None, to_address="someone@partner.example")
    login(client, english["admin"])

    def ids(query: str) -> set[int]:
        response = client.get("/admin/outbox/" + query)
        assert response.status_code == 200
        return set(listed_ids(response.get_data(as_text=True)))

    assert ids("") == {sent.id, failed.id, digest.id, outside.id}
    assert ids("?status=failed") == {failed.id}
    assert ids("?kind=daily_digest") == {digest.id}
    assert ids("?recipient=M2") == {failed.id}  # display name
    assert ids("?recipient=partner.example") == {outside.id}  # an address without a user
    assert ids("?recipient=m1%40example.com&kind=reminder") == {sent.id}
    day = (now - timedelta(days=10)).astimezone(ZoneInfo(english["admin"].timezone)).date()
    assert ids(f"?since={day}&until={day}") == {digest.id}
    assert ids(f"?until={day - timedelta(days=1)}") == set()
    assert ids("?status=bogus&since=not-a-date") == {sent.id, failed.id, digest.id, outside.id}
    html = client.get("/admin/outbox/?status=failed").get_data(as_text=True)
    assert "550 no such user" in html and failed.key in html


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 3}])
def test_newest_first_in_pages(client, login, english):
    start = datetime.now(UTC) - timedelta(hours=1)
    rows = [message(english["m1"], created_at=start + timedelta(minutes=i)) for i in range(7)]
    login(client, english["admin"])
    first = listed_ids(client.get("/admin/outbox/").get_data(as_text=True))
    third = listed_ids(client.get("/admin/outbox/?page=3").get_data(as_text=True))
    assert first == [rows[6].id, rows[5].id, rows[4].id]
    assert third == [rows[0].id]


def test_heartbeat_and_backlog_at_the_top(client, login, english):
    message(english["m1"])
    message(english["m1"])
    message(english["m2"], status=MessageStatus.FAILED)
    login(client, english["admin"])
    html = client.get("/admin/outbox/").get_data(as_text=True)
    assert 'id="scheduler-quiet"' in html  # never ticked
    assert re.search(r'data-status="pending">\s*Queued <span class="badge [^"]+">2<', html)
    assert re.search(r'data-status="failed">\s*Failed <span class="badge [^"]+">1<', html)

    record_heartbeat(datetime.now(UTC))
    db.session.commit()
    html = client.get("/admin/outbox/").get_data(as_text=True)
    assert 'id="scheduler-quiet"' not in html


def test_list_statement_count_does_not_grow(client, login, english, count_queries):
    login(client, english["admin"])
    counts = []
    for added in (5, 45):
        for i in range(added):
            message(english["m1" if i % 2 else "m2"], status=list(MessageStatus)[i % 5])
        with count_queries() as statements:
            response = client.get("/admin/outbox/")
        assert response.status_code == 200
        counts.append(len(statements))
    assert len(listed_ids(response.get_data(as_text=True))) == 50
    assert counts[0] == counts[1], counts


class TestWithoutSMTP:
    @pytest.fixture
    def app_overrides(self, tmp_path):
        return {"SMTP_HOST": None, "MAIL_DIR": str(tmp_path / "mail")}

    def test_the_message_page_shows_the_text_and_offers_the_eml(
        self, client, login, english, make_customer, make_reminder, tmp_path
    ):
        customer = make_customer(english["m1"], name="江城智慧交通集团")
        make_reminder(customer, due_at=datetime.now(UTC) - timedelta(minutes=1), note="the quote")
        db.session.commit()
        tick()
        sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert sent.status is MessageStatus.SENT
        login(client, english["admin"])

        html = client.get(f"/admin/outbox/{sent.id}").get_data(as_text=True)
        assert "the quote" in html and "江城智慧交通集团" in html
        assert str(tmp_path / "mail") in html
        assert 'id="eml-download"' in html
        response = client.get(f"/admin/outbox/{sent.id}/eml")
        assert response.status_code == 200
        assert response.mimetype == "message/rfc822"
        assert sent.key.encode() in response.data

    def test_no_eml_no_download_and_no_way_out_of_the_mail_folder(
        self, client, login, english, tmp_path
    ):
        (tmp_path / "secret.eml").write_text("not for you")
        (tmp_path / "mail").mkdir()
        sneaky = message(english["m1"], key="../secret", status=MessageStatus.SENT)
        login(client, english["admin"])
        html = client.get(f"/admin/outbox/{sneaky.id}").get_data(as_text=True)
        assert 'id="eml-note"' in html and 'id="eml-download"' not in html
        assert client.get(f"/admin/outbox/{sneaky.id}/eml").status_code == 404
        assert client.get("/admin/outbox/999999").status_code == 404


class TestRetry:
    @pytest.fixture
    def smtp(self):
        with SMTPServer() as server:
            yield server

    @pytest.fixture
    def app_overrides(self, smtp):
        return smtp.config()

    def test_a_failed_message_retried_is_sent_at_the_next_tick(
        self, smtp, client, login, english, make_customer, make_reminder
    ):
        smtp.faults.refuse_rcpt.add(english["m1"].email)
        make_reminder(make_customer(english["m1"]), due_at=datetime.now(UTC))
        db.session.commit()
        tick()
        # Only the reminder matters here: depending on the hour and weekday the same
        # tick may also send a digest to someone else.
        failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        m1 = english["m1"].email
        assert failed.status is MessageStatus.FAILED
        assert [m for m in smtp.messages if m["To"] == m1] == []

        login(client, english["admin"])
        page = client.get(f"/admin/outbox/{failed.id}").get_data(as_text=True)
        assert 'id="retry"' in page and "550" in page
        smtp.faults.refuse_rcpt.clear()  # the mailbox exists now
        response = client.post(f"/admin/outbox/{failed.id}/retry")
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(OutboxMessage, failed.id).status is MessageStatus.PENDING

        tick()
        db.session.expire_all()
        assert db.session.get(OutboxMessage, failed.id).status is MessageStatus.SENT
        to_m1 = [m for m in smtp.messages if m["To"] == m1]
        assert [m["X-CRM-Key"] for m in to_m1] == [failed.key]

    def test_only_failed_messages_can_be_retried(self, client, login, english):
        sent = message(english["m1"], status=MessageStatus.SENT)
        login(client, english["admin"])
        assert 'id="retry"' not in client.get(f"/admin/outbox/{sent.id}").get_data(as_text=True)
        response = client.post(f"/admin/outbox/{sent.id}/retry", follow_redirects=True)
        assert "Only a failed message can be retried" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(OutboxMessage, sent.id).status is MessageStatus.SENT

    def test_non_admins_cannot_retry(self, client, login, english):
        failed = message(english["m1"], status=MessageStatus.FAILED)
        login(client, english["sup1"])
        assert client.post(f"/admin/outbox/{failed.id}/retry").status_code == 403
        db.session.expire_all()
        assert db.session.get(OutboxMessage, failed.id).status is MessageStatus.FAILED


class TestRetryAllFailed:
    def test_retries_every_failed_message_matching_the_filter_after_a_confirm_page(
        self, client, login, english
    ):
        m1, m2 = english["m1"], english["m2"]
        to_m1 = [message(m1, status=MessageStatus.FAILED, attempts=9) for _ in range(3)]
        digest = message(m1, kind=MessageKind.DAILY_DIGEST, status=MessageStatus.FAILED)
        to_m2 = message(m2, status=MessageStatus.FAILED)
        sent = message(m1, status=MessageStatus.SENT)
        login(client, english["admin"])

        listing = client.get("/admin/outbox/?kind=reminder&recipient=m1").get_data(as_text=True)
        link = re.search(r'id="retry-failed" href="([^"]+)"', listing).group(1)
        confirm = client.get(link.replace("&amp;", "&"))
        assert confirm.status_code == 200
        page = confirm.get_data(as_text=True)
        assert "Queue 3 failed messages again?" in page
        db.session.expire_all()
        assert all(
            db.session.get(OutboxMessage, m.id).status is MessageStatus.FAILED for m in to_m1
        )  # asking changed nothing

        action = re.search(r'action="([^"]+)"[^>]*id="retry-failed-form"', page).group(1)
        response = client.post(action.replace("&amp;", "&"))
        assert response.status_code == 302
        assert response.location == "/admin/outbox/?kind=reminder&recipient=m1"
        flashed = client.get(response.location).get_data(as_text=True)
        assert "3 failed messages are queued again" in flashed
        db.session.expire_all()
        for row in to_m1:
            row = db.session.get(OutboxMessage, row.id)
            assert (row.status, row.attempts) == (MessageStatus.PENDING, 0)
        for untouched, status in ((digest, "failed"), (to_m2, "failed"), (sent, "sent")):
            assert db.session.get(OutboxMessage, untouched.id).status == status

    def test_without_a_filter_all_are_retried_and_another_status_retries_none(
        self, client, login, english
    ):
        failed = [message(english[name], status=MessageStatus.FAILED) for name in ("m1", "m3")]
        login(client, english["admin"])
        page = client.get("/admin/outbox/?status=sent").get_data(as_text=True)
        assert 'id="retry-failed"' not in page  # nothing failed can match
        assert "retry-failed-none" in client.get("/admin/outbox/retry-failed?status=sent").get_data(
            as_text=True
        )
        client.post("/admin/outbox/retry-failed?status=sent")
        db.session.expire_all()
        assert {db.session.get(OutboxMessage, m.id).status for m in failed} == {"failed"}

        assert 'id="retry-failed"' in client.get("/admin/outbox/").get_data(as_text=True)
        assert client.post("/admin/outbox/retry-failed").status_code == 302
        db.session.expire_all()
        assert {db.session.get(OutboxMessage, m.id).status for m in failed} == {"pending"}

    def test_non_admins_cannot_retry_all(self, client, login, english):
        failed = message(english["m1"], status=MessageStatus.FAILED)
        login(client, english["sup1"])
        assert client.get("/admin/outbox/retry-failed").status_code == 403
        assert client.post("/admin/outbox/retry-failed").status_code == 403
        db.session.expire_all()
        assert db.session.get(OutboxMessage, failed.id).status is MessageStatus.FAILED
