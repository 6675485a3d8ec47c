"""Handover emails: one each to the new owner, the previous owner and the supervisor, via SMTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.scheduler import tick
from crm.services.archive.search import CustomerFilters
from crm.services.handover.notices import enqueue_handover_notices
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from models import Handover, MessageKind, OutboxMessage
from tests.smtp import SMTPServer

BASE_URL = "https://crm.example.cn"


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": BASE_URL}


def run_tick():
    db.session.commit()
    tick()
    db.session.expire_all()


def test_each_person_gets_one_email_in_their_language(smtp, org, make_customer, make_reminder):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    m1.locale = "en"
    m2.locale = "zh_CN"
    customer = make_customer(m2, name="华中钢铁集团")
    make_reminder(customer, note="Send the renewal offer")
    handover = hand_over(
        actor=sup1,
        selection=Selection(filters=CustomerFilters(owner=str(m2.id))),
        to_owner=m1,
        options=HandoverOptions(),
        note="The CFO prefers WeChat.",
        token="mail",
        expected_fingerprint=None,
    )
    run_tick()
    enqueue_handover_notices(db.session.get(Handover, handover.id))  # written again: no-op
    run_tick()

    keys = smtp.keys("handover:")
    assert keys == {
        f"handover:{handover.id}:{m1.id}": 1,
        f"handover:{handover.id}:{m2.id}": 1,
        f"handover:{handover.id}:{sup1.id}": 1,
    }
    by_recipient = {m["To"]: m for m in smtp.of_kind("handover:")}
    to_new = by_recipient[m1.email]
    body = to_new.get_body(("plain",)).get_content()
    assert "Handed over to you: 1 customers" in to_new["Subject"]
    assert "华中钢铁集团" in body
    assert "The CFO prefers WeChat." in body
    assert "Send the renewal offer" in body  # the follow-up that is now theirs
    assert f"{BASE_URL}/handovers/{handover.id}" in body
    assert "M1" in by_recipient[m2.email]["Subject"]  # whom their customers went to
    # Each in their own language (the zh catalog is filled in by the translation pass).
    assert 'lang="en"' in to_new.get_body(("html",)).get_content()
    assert 'lang="zh-CN"' in by_recipient[m2.email].get_body(("html",)).get_content()
    assert (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == MessageKind.HANDOVER)
        )
        == 3
    )
