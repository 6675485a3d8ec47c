"""Locale and time-zone selection, and time-zone helpers used by views and services."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_request_context, request, session
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user

__all__ = ["gettext", "lazy_gettext", "ngettext", "select_locale", "select_timezone"]

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else the browser's."""
    if not has_request_context():  # the CLI and the scheduler choose per message
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best == "en":
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


class Zoned(Protocol):
    """Whose local time a date is read in: a User, or a report's manager read as columns
    (crm/services/reporting/dashboards.py ManagerInView)."""

    timezone: str


def user_zone(user: Zoned | None) -> ZoneInfo:
    return ZoneInfo(getattr(user, "timezone", None) or "Asia/Shanghai")


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


def is_valid_timezone(name: str) -> bool:
    return name in _zones()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Urumqi",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "UTC",
)
