"""Messages as built for SMTP: ASCII on the wire, and read back as they were written."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from crm.mail import build_email, message_id


@pytest.mark.parametrize("html", ["<p>您好，<b>张经理</b></p>", ""])
def test_a_chinese_message_survives_the_wire(html):
    email = build_email(
        key="reminder:7:2026-11-30T00:30:00:3",
        sender="客户经理 CRM <crm@example.cn>",
        to="zhang@example.cn",
        subject="跟进提醒：华东电力集团",
        text="您好，张经理：\n明天拜访华东电力集团。",
        html=html,
    )
    wire = bytes(email)
    assert wire.isascii()  # RFC 2047 headers, base64 bodies: any relay passes it on
    back = message_from_bytes(wire, policy=policy.default)
    assert back["From"].addresses[0].display_name == "客户经理 CRM"
    assert back["From"].addresses[0].addr_spec == "crm@example.cn"
    assert back["Subject"] == "跟进提醒：华东电力集团"
    assert back["X-CRM-Key"] == "reminder:7:2026-11-30T00:30:00:3"
    assert back["Message-ID"] == message_id("reminder:7:2026-11-30T00:30:00:3", "example.cn")
    assert back.get_body(("plain",)).get_content() == "您好，张经理：\n明天拜访华东电力集团。"
    if html:
        assert back.get_body(("html",)).get_content() == html
    else:
        assert back.get_content_type() == "text/plain"


def test_an_ascii_subject_is_left_readable():
    email = build_email(
        key="k", sender="crm@example.com", to="a@example.com", subject="Follow-up", text="x",
        html="",
    )  # fmt: skip
    assert b"Subject: Follow-up\n" in bytes(email)
