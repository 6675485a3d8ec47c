"""Jinja filters and globals: dates in the user's zone, money, enum labels, pagination."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlencode

from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol
from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from crm import labels
from crm.emails import as_pattern
from crm.i18n import LANGUAGE_NAMES
from crm.request_cache import per_request
from models import Tier


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = local_datetime
    app.jinja_env.filters["d"] = local_date
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["label"] = labels.label
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["list_url"] = list_url
    app.jinja_env.globals["url_shape"] = url_shape
    app.jinja_env.globals["tier_badge"] = tier_badge
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["settings_items"] = settings_items
    app.jinja_env.globals["in_settings"] = in_settings
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["ui_language"] = ui_language
    app.jinja_env.globals["text_limit"] = text_limit
    app.jinja_env.globals["limit_attrs"] = limit_attrs
    app.jinja_env.policies["ext.i18n.trimmed"] = True


# Patterns of digits only read the same in every locale: strftime does them without
# a Babel pattern run per row (a work log prints a time on every line).
NUMERIC_PATTERNS = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
    "HH:mm": "%H:%M",
}


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """Format a UTC datetime in the current user's time zone."""
    if not value:
        return ""
    if fmt in NUMERIC_PATTERNS and value.tzinfo is not None:
        return value.astimezone(get_timezone()).strftime(NUMERIC_PATTERNS[fmt])
    return format_datetime(value, fmt)


def local_date(value: date | datetime | None) -> str:
    """yyyy-MM-dd. A date is the same in every locale and zone (ISO, without a Babel
    pattern run per row); a datetime is first moved to the user's zone."""
    if not value:
        return ""
    if isinstance(value, datetime):
        return format_date(value, "yyyy-MM-dd")
    return value.isoformat()


CENT = Decimal("0.01")


def money(value: Decimal | int | None) -> str:
    """¥ and the amount as Babel's "#,##0.##" shows it in the user's locale.

    Done by hand because a board or a team table shows hundreds of amounts and Babel
    parses the pattern and looks up the locale's symbols on every call; tests hold this
    to format_decimal: up to two decimals, rounded half-even, no trailing zeros.
    """
    return money_format()(value)


def money_format() -> Callable[[Decimal | int | None], str]:
    """`money` for the current locale, its symbols looked up once: a board or a table
    formats hundreds of amounts, and the locale lookup was most of each call."""
    locale = get_locale()  # force_locale may change it within a request (an email)
    group_and_decimal, minus = per_request(f"money-symbols:{locale}", _number_symbols)

    def format_money(value: Decimal | int | None) -> str:
        if value is None:
            return ""
        rounded = Decimal(value).quantize(CENT, ROUND_HALF_EVEN)
        number = f"{abs(rounded):,f}".rstrip("0").rstrip(".").translate(group_and_decimal)
        return "¥" + (minus if rounded.is_signed() else "") + number

    return format_money


def _number_symbols() -> tuple[dict[int, str], str]:
    locale = get_locale()
    table = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    return table, get_minus_sign_symbol(locale)


def url_shape(endpoint: str, name: str) -> str:
    """url_for(endpoint, name=<id>) as a str.format pattern for the id: "/customers/{}".

    For a list's per-row links: the route is looked up once per page view, not per row.
    """

    return per_request(
        f"shape:{endpoint}:{name}",
        lambda: as_pattern(lambda id_: url_for(endpoint, **{name: id_})),
    )


TIER_BADGE_CLASSES = {
    Tier.A_PLUS: "text-bg-danger",
    Tier.A: "text-bg-warning",
    Tier.B: "text-bg-info",
    Tier.C: "text-bg-secondary",
}


def tier_badge(tier: Tier) -> Markup:
    """A customer's value tier as a coloured badge (a function, not a macro: lists show
    one per row, and a Jinja macro call costs several times more)."""
    return Markup('<span class="badge {}">{}</span>').format(
        TIER_BADGE_CLASSES[tier], labels.label(tier)
    )


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


# (endpoint, label, the Roles that see it; None means everybody signed in)
NAV = (
    ("main.home", _l("Home"), None),
    ("customers.index", _l("Customers"), None),
    ("opportunities.board", _l("Opportunities"), None),
    ("visits.index", _l("Work log"), None),
    ("plans.index", _l("Plans"), None),
    ("reminders.index", _l("My follow-ups"), None),
    ("reports.index", _l("Reports"), None),
    ("contacts.index", _l("Contacts"), None),
    ("competitors.index", _l("Competitors"), None),
    ("handovers.index", _l("Handovers"), None),
)

# The admin's pages: one "Settings" menu in the bar (ten more links wrapped the bar's
# words one character per line at 1366 px). Its link opens /admin/, the same list, so
# the menu works without JavaScript too.
SETTINGS = (
    ("admin.users", _l("Users")),
    ("admin.teams", _l("Teams")),
    ("reference.industries", _l("Reference data")),
    ("stages.index", _l("Stages")),
    ("cadences.edit", _l("Visit cadences")),
    ("outbox_admin.index", _l("Outbox")),
    ("webhooks_admin.index", _l("Webhooks")),
    ("assessment_admin.index", _l("Assessment weights")),
    ("admin.settings", _l("System settings")),
)
SETTINGS_BLUEPRINTS = frozenset(
    {
        "admin",
        "reference",
        "stages",
        "cadences",
        "outbox_admin",
        "document_kinds",
        "assessment_admin",
        "webhooks_admin",
    }
)


def nav_items() -> list[tuple[str, str]]:
    """The navigation entries the current user may open."""
    role = current_user.role if current_user.is_authenticated else None
    return [
        (endpoint, str(text)) for endpoint, text, roles in NAV if roles is None or role in roles
    ]


def settings_items() -> list[tuple[str, str]]:
    """The entries of the Settings menu: the admin's pages; none for anyone else."""
    if not (current_user.is_authenticated and current_user.is_admin):
        return []
    return [(endpoint, str(text)) for endpoint, text in SETTINGS]


def in_settings() -> bool:
    """Whether the page shown is one of the Settings menu's (the menu shows as active)."""
    return request.blueprint in SETTINGS_BLUEPRINTS


def ui_language() -> str:
    """The interface language as the app names it: "zh_CN" or "en".

    Babel spells the Chinese locale zh_Hans_CN, so compare languages, not strings.
    """
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


TEXT_FIELDS = {"StringField", "TextAreaField", "EmailField", "SearchField", "TelField", "URLField"}


def text_limit(field) -> int:
    """The most characters a text field takes (its Length(max=...)), 0 when unlimited."""
    if field.type not in TEXT_FIELDS:
        return 0
    limit = getattr(field.flags, "maxlength", 0)
    return limit if isinstance(limit, int) and limit > 0 else 0


def limit_attrs(field) -> dict:
    """Input attributes for a limited text field: counted by static/js/field-limits.js.

    No maxlength: a browser cuts a pasted text there without a word; the form's Length
    refuses a longer text with a message instead, and the hint says the limit.
    """
    limit = text_limit(field)
    if not limit:
        return {}
    return {"maxlength": False, "data-limit": limit, "aria-describedby": f"{field.id}-limit"}
