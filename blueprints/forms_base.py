"""The base class of every form: what any text field refuses, checked in one place."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import ValidationError

from crm.services.control_characters import control_character_message, find_control_character


def refuse_control_characters(form, field) -> None:
    """A text field holds no control character; only multi-line ones hold tabs and line breaks.

    Passwords are compared, never shown: one set long ago with a tab must still sign in.
    """
    if not isinstance(field.data, str):
        return
    multiline = isinstance(field, TextAreaField | PasswordField)
    char = find_control_character(field.data, multiline=multiline)
    if char is not None:
        raise ValidationError(str(control_character_message(char)))


class CrmForm(FlaskForm):
    """Every form of the app derives from this (tests/test_control_characters.py checks).

    Each text field (StringField and its kinds: TextAreaField, PasswordField, SearchField,
    HiddenField ...) gets refuse_control_characters after its own validators, so a form
    cannot forget it.
    """

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        extra = {name: list(chain) for name, chain in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField):
                extra.setdefault(name, []).append(refuse_control_characters)
        return super().validate(extra_validators=extra)
