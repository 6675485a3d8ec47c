"""Translated display names for the domain's enums, in one place for views and forms."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from models import Level, Role

LABELS: dict[enum.Enum, object] = {
    Role.MANAGER: _l("Account manager"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("Administrator"),
    Level.JUNIOR: _l("Junior"),
    Level.INTERMEDIATE: _l("Intermediate"),
    Level.SENIOR: _l("Senior"),
}


def label(value: enum.Enum | None) -> str:
    """The user-facing name of an enum member, in the current language."""
    if value is None:
        return ""
    return str(LABELS.get(value, value.value))


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Select-field choices from (value, label) pairs."""
    return [SelectChoice(value, str(text)) for value, text in pairs]


def choices(enum_cls: type[enum.Enum]) -> list[SelectChoice]:
    """Select-field choices for an enum, labelled in the current language."""
    return options((member.value, label(member)) for member in enum_cls)
