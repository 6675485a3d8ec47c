"""Jinja filters and globals: dates in the user's zone, money, enum labels, pagination."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from babel.numbers import parse_pattern
from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crm import labels
from crm.i18n import LANGUAGE_NAMES
from crm.request_cache import per_request


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = local_datetime
    app.jinja_env.filters["d"] = local_date
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["label"] = labels.label
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["list_url"] = list_url
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["ui_language"] = ui_language
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Format a UTC datetime in the current user's time zone."""
    return format_datetime(value, fmt) if value else ""


def local_date(value: date | None) -> str:
    return format_date(value, "yyyy-MM-dd") if value else ""


# Parsed once: format_decimal would parse the pattern on every call, and a board or a
# team table formats hundreds of amounts.
MONEY_PATTERN = parse_pattern("#,##0.##")


def money(value: Decimal | int | None) -> str:
    """¥ and the amount grouped as the user's locale groups it (as format_decimal does)."""
    if value is None:
        return ""
    return "¥" + MONEY_PATTERN.apply(value, get_locale(), numbering_system="latn")


def list_url(endpoint: str, **args) -> str:
    """url_for for a list page with query arguments only, its path built once per page view.

    A team table links every figure to its list: hundreds of url_for calls, each one a
    routing lookup for the same path. None values are left out, as url_for leaves them.
    """
    base = per_request(f"url:{endpoint}", lambda: url_for(endpoint))
    # Encoded as werkzeug's url_for encodes query arguments (the same safe characters).
    query = urlencode(
        [(key, value) for key, value in args.items() if value is not None], safe="!$'()*,/:;?@"
    )
    return f"{base}?{query}" if query else base


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (filters stay bookmarkable)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# (endpoint, label, roles that see it; None means everybody signed in)
NAV = (
    ("main.home", _l("Home"), None),
    ("customers.index", _l("Customers"), None),
    ("opportunities.board", _l("Opportunities"), None),
    ("visits.index", _l("Work log"), None),
    ("reminders.index", _l("My follow-ups"), None),
    ("reports.index", _l("Reports"), None),
    ("contacts.index", _l("Contacts"), None),
    ("competitors.index", _l("Competitors"), None),
    ("handovers.index", _l("Handovers"), None),
    ("admin.users", _l("Users"), {"admin"}),
    ("admin.teams", _l("Teams"), {"admin"}),
    ("reference.industries", _l("Reference data"), {"admin"}),
    ("stages.index", _l("Stages"), {"admin"}),
    ("cadences.edit", _l("Visit cadences"), {"admin"}),
    ("outbox_admin.index", _l("Outbox"), {"admin"}),
)


def nav_items() -> list[tuple[str, str]]:
    """The navigation entries the current user may open."""
    role = current_user.role.value if current_user.is_authenticated else None
    return [
        (endpoint, str(text)) for endpoint, text, roles in NAV if roles is None or role in roles
    ]


def ui_language() -> str:
    """The interface language as the app names it: "zh_CN" or "en".

    Babel spells the Chinese locale zh_Hans_CN, so compare languages, not strings.
    """
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"
