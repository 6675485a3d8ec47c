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


def test_dates_print_as_iso_and_datetimes_in_the_users_zone(app):
    from datetime import UTC, date, datetime

    from crm.templating import local_date

    with app.test_request_context("/"):
        assert local_date(date(2026, 1, 5)) == "2026-01-05"
        assert local_date(None) == ""
        # 23:30 UTC on 31 Jan is 1 Feb in Shanghai (the default zone).
        assert local_date(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == "2026-02-01"


def test_labels_follow_the_language_within_one_request(app):
    from flask_babel import force_locale

    from crm.labels import label
    from models import Tier, VisitKind

    with app.test_request_context("/"):
        with force_locale("en"):
            assert label(VisitKind.PHONE) == "Phone call"
        with force_locale("zh_CN"):
            assert label(VisitKind.PHONE) == "电话沟通"
        assert label(Tier.A_PLUS) == "A+"


@pytest.mark.parametrize("pattern", ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "HH:mm", "MMM d"])
def test_times_print_as_babel_prints_them_in_the_users_zone(app, pattern):
    from datetime import UTC, datetime

    from flask_babel import format_datetime

    from crm.templating import local_datetime

    with app.test_request_context("/"):
        late = datetime(2026, 1, 31, 23, 30, 5, tzinfo=UTC)
        summer = datetime(2026, 6, 1, tzinfo=UTC)
        for value in (late, summer):
            assert local_datetime(value, pattern) == format_datetime(value, pattern)
        assert local_datetime(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == "2026-02-01 07:30"


def test_tier_badges(app):
    from crm.templating import tier_badge
    from models import Tier

    with app.test_request_context("/"):
        assert str(tier_badge(Tier.A_PLUS)) == '<span class="badge text-bg-danger">A+</span>'
        assert str(tier_badge(Tier.C)) == '<span class="badge text-bg-secondary">C</span>'


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        ("customers.show", "customer_id"),
        ("visits.show", "visit_id"),
        ("reminders.done", "reminder_id"),
        ("opportunities.show", "opportunity_id"),
        ("opportunities.move", "opportunity_id"),
    ],
)
def test_url_shape_gives_what_url_for_builds(app, endpoint, name):
    """url_shape stands in for url_for on per-row links: the same URL for every id."""
    from crm.templating import url_shape

    ids = [1, 7, 42, 98765, 987654321, 9876543210, 1987654321]  # and the marker inside others
    for base_url in ("http://localhost/", "http://localhost/crm/"):  # mounted under a path too
        with app.test_request_context("/", base_url=base_url):
            shape = url_shape(endpoint, name)
            assert [shape.format(i) for i in ids] == [url_for(endpoint, **{name: i}) for i in ids]


def test_money_follows_a_language_forced_within_a_request(app):
    """An email in its reader's language can be written during someone else's page view."""
    from flask_babel import force_locale

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for language in ("en", "de_DE", "fr_FR", "zh_CN", "en"):
            with force_locale(language):
                assert [money(v) for v in AMOUNTS] == [
                    "¥" + format_decimal(v, "#,##0.##") for v in AMOUNTS
                ]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_dates_print_as_babel_prints_them(app, language):
    """local_date writes a date's ISO form by hand: Babel's yyyy-MM-dd in either language."""
    from datetime import UTC, date, datetime

    from flask_babel import format_date

    from crm.templating import local_date

    days = [date(2026, 1, 5), date(1999, 12, 31), date(2028, 2, 29)]
    moments = [datetime(2026, 1, 31, 23, 30, tzinfo=UTC), datetime(2026, 6, 30, 16, tzinfo=UTC)]
    with app.test_request_context("/", headers={"Accept-Language": language}):
        for value in days + moments:
            assert local_date(value) == format_date(value, "yyyy-MM-dd")
