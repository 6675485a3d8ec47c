"""Settings an administrator changes at run time, declared by the area that reads them.

An area declares each of its settings once, at import time, with its type, default and
limits (`declare`); `value(key)` reads it (the stored value, else the default), and the
admin settings page lists every declared setting and saves through `change`. Only values
that differ from their default are stored (models/setting.py), so a new release's
default reaches every database that never changed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from crm.extensions import db
from crm.request_cache import per_request
from crm.services.errors import DomainError
from models import AppSetting, AuditAction, AuditEntry, User


@dataclass(frozen=True)
class Setting:
    key: str
    label: Any  # a lazy string: the admin page shows it in the reader's language
    default: Any
    parse: Callable[[str], Any]
    help: Any = None
    area: Any = None
    choices: tuple[tuple[str, Any], ...] = field(default=())

    def text(self, value: Any) -> str:
        """The form a value is stored and edited in."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, time):
            return value.strftime("%H:%M")
        return str(value)


SETTINGS: dict[str, Setting] = {}


def declare(setting: Setting) -> Setting:
    if setting.key in SETTINGS and SETTINGS[setting.key] != setting:
        raise ValueError(f"setting {setting.key} declared twice")
    SETTINGS[setting.key] = setting
    return setting


def _stored() -> dict[str, str]:
    return per_request(
        "app_settings",
        lambda: {
            row.key: row.value
            for row in db.session.execute(select(AppSetting.key, AppSetting.value))
        },
    )


def remember_stored(stored: dict[str, str]) -> None:
    """Keep the stored values read by another query for the rest of this request: a page
    held to a fixed number of statements reads them in a union with its own rows."""
    per_request("app_settings", lambda: stored)


def value(key: str) -> Any:
    """The setting's value: what an admin stored, else its default."""
    setting = SETTINGS[key]
    raw = _stored().get(key)
    if raw is None:
        return setting.default
    try:
        return setting.parse(raw)
    except DomainError:
        # A value stored under an older rule that no longer parses: the default serves.
        return setting.default


def change(key: str, raw: str, *, actor: User) -> Any:
    """Store a new value (admins only); refused with a message when it does not parse."""
    if not actor.is_admin:
        raise DomainError(_l("Only an administrator changes settings."))
    setting = SETTINGS[key]
    try:
        parsed = setting.parse(raw.strip())
    except DomainError as refused:
        raise DomainError(refused.message, field="value") from None  # the form's one field
    old = value(key)
    db.session.execute(delete(AppSetting).where(AppSetting.key == key))
    if parsed != setting.default:
        db.session.add(AppSetting(key=key, value=setting.text(parsed), updated_by_id=actor.id))
    db.session.flush()
    if parsed != old:
        # Settings have no numeric id: the entry names the key instead.
        db.session.add(
            AuditEntry(
                entity_type=AppSetting.__tablename__,
                entity_id=0,
                entity_label=key,
                action=AuditAction.UPDATE,
                changes={key: [setting.text(old), setting.text(parsed)]},
                actor_id=actor.id,
            )
        )
    return parsed


@dataclass(frozen=True)
class SettingLine:
    """A declared setting as the admin page shows it: the value in force and the default."""

    setting: Setting
    current: Any
    changed: bool  # an admin stored a value that differs from the default

    @property
    def kind(self) -> str:
        """How the page asks for a value: a choice, on/off, or typed text."""
        if self.setting.choices:
            return "choice"
        if self.setting.parse is switch:
            return "switch"
        return "text"


def settings_by_area() -> list[tuple[str, list[SettingLine]]]:
    """Every declared setting with its value in force, grouped by area (in the reader's
    language) and sorted by key within it."""
    stored = _stored()
    areas: dict[str, list[SettingLine]] = {}
    for key in sorted(SETTINGS):
        setting = SETTINGS[key]
        line = SettingLine(setting, value(key), key in stored)
        areas.setdefault(str(setting.area or _l("General")), []).append(line)
    return sorted(areas.items())


# Parsers: each turns the admin's text into a value or refuses it with a message.


def whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            number = int(raw)
        except ValueError:
            raise DomainError(_l("Enter a whole number.")) from None
        if not minimum <= number <= maximum:
            raise DomainError(
                _l("Enter a number from %(low)s to %(high)s.", low=minimum, high=maximum)
            )
        return number

    return parse


def clock_time(raw: str) -> time:
    try:
        hours, minutes = raw.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise DomainError(_l("Enter a time as HH:MM, for example 18:00.")) from None


def switch(raw: str) -> bool:
    if raw in ("1", "true", "on", "yes"):
        return True
    if raw in ("0", "false", "off", "no", ""):
        return False
    raise DomainError(_l("Choose on or off."))


def one_of(*codes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in codes:
            raise DomainError(_l("Choose one of the options."))
        return raw

    return parse
