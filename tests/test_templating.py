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


AMOUNTS = [Decimal(text) for text in ("0", "5", "10000.50", "1234567.89", "-42.10", "-0.001")]
AMOUNTS += [Decimal(text) for text in ("0.005", "0.015", "2.675", "999.995", "100.10")]
AMOUNTS += [Decimal("99999999999999.99"), Decimal(7) / 3, Decimal("1E+3"), Decimal("0E-5"), 42]
AMOUNTS += [Decimal(n * 7919 % 10**9) / 100 for n in range(200)]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_money_formats_as_format_decimal_does(app, language):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert [money(v) for v in AMOUNTS] == ["¥" + format_decimal(v, "#,##0.##") for v in AMOUNTS]
    assert money(None) == ""
