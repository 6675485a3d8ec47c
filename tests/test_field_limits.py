"""A text limit is said and counted, and a longer text refused with a message (item 12).

The browser used to cut anything past maxlength without a word (a pasted outcome lost
its end). Now the shared field macro says "up to N characters", static/js/field-limits.js
counts "12/200" as one types, and the server refuses a longer text, saving nothing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import Contact


def _input(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match[0]


@pytest.mark.parametrize(
    ("language", "hint"), [("zh_CN", "最多 100 字。"), ("en", "Up to 100 characters.")]
)
def test_a_field_with_a_limit_says_it_and_is_counted_not_cut(
    app, org, login, make_customer, language, hint
):
    org["m1"].locale = language
    db.session.commit()
    customer = make_customer(org["m1"])
    client = login(app.test_client(), org["m1"])
    html = client.get(f"/customers/{customer.id}/contacts/new").get_data(as_text=True)
    name = _input(html, "name")
    assert "maxlength" not in name  # nothing is cut short in the browser
    assert 'data-limit="100"' in name and 'aria-describedby="name-limit"' in name
    limit = re.search(r'<div class="form-text field-limit" id="name-limit">(.*?)</div>', html, re.S)
    assert limit and hint in limit[1] and 'data-count-for="name"' in limit[1]
    assert re.search(r"/static/js/field-limits\.[0-9a-f]{8}\.js", html)  # fingerprinted
    assert "maxlength" not in html.split("<textarea", 1)[1].split(">", 1)[0]  # notes, too


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh_CN", "不能超过 100 个字符"), ("en", "cannot be longer than 100 characters")],
)
def test_a_text_over_the_limit_is_refused_with_a_message_and_nothing_saved(
    app, org, login, make_customer, language, message
):
    org["m1"].locale = language
    db.session.commit()
    customer = make_customer(org["m1"])
    client = login(app.test_client(), org["m1"])
    response = client.post(
        f"/customers/{customer.id}/contacts/new",
        data={"name": "张" * 101, "role": "influencer", "attitude": "neutral", "strength": 3},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_no_page_cuts_text_and_every_limited_field_says_its_limit(
    app, org, login, make_customer, make_reminder
):
    """The form pages a manager fills in: nothing carries maxlength, every limit is said."""
    customer = make_customer(org["m1"])
    make_reminder(customer)
    client = login(app.test_client(), org["m1"])
    pages = [
        f"/customers/{customer.id}/contacts/new",
        f"/customers/{customer.id}/competitors/new",
        f"/customers/{customer.id}/edit",
        "/customers/new",
        f"/opportunities/new?customer_id={customer.id}",
        f"/visits/new?customer_id={customer.id}",
        f"/reminders/new?customer_id={customer.id}",
        "/reminders/",
        "/",
    ]
    limited = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "maxlength" not in html, url
        for field_id, limit in re.findall(r'id="([^"]+)"[^>]*data-limit="(\d+)"', html) + [
            (i, n) for n, i in re.findall(r'data-limit="(\d+)"[^>]*id="([^"]+)"', html)
        ]:
            hint = re.search(rf'id="{re.escape(field_id)}-limit">(.*?)</div>', html, re.S)
            assert hint and f"最多 {limit} 字" in hint[1], (url, field_id)
            assert f'data-count-for="{field_id}"' in hint[1], (url, field_id)
            limited += 1
    assert limited > 20
