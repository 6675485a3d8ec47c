"""Template helpers that stand in for slower library calls must give the same text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import url_for
from flask_babel import format_decimal

from crm.templating import list_url, money


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"owner": 3, "status": "open"},
        {"owner": None, "status": "won", "closed_from": "2026-10-01", "closed_to": "2026-12-31"},
        {"q": "a b&c/é:+?#", "tier": "A+"},
    ],
)
def test_list_url_is_what_url_for_builds(app, args):
    with app.test_request_context("/"):
        for endpoint in ("opportunities.index", "customers.index", "visits.index"):
            assert list_url(endpoint, **args) == url_for(endpoint, **args)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize(
    "value", [Decimal("1234567.5"), Decimal("0"), Decimal("12.345"), Decimal("-5.10"), 42]
)
def test_money_formats_as_format_decimal_does(app, locale, value):
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        assert money(value) == "¥" + format_decimal(value, "#,##0.##")
    assert money(None) == ""
