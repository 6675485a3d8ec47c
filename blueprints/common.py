"""Form helpers every blueprint shares: the confirm button and showing a refused change."""

from __future__ import annotations

from flask import abort, flash
from flask_wtf import FlaskForm

from crm.services.errors import DomainError


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button."""


def show_error(form, error: DomainError) -> None:
    """Attach a refused change's message to its form field, or flash it."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def require_confirmation() -> None:
    """Abort with 400 unless the POST carries a valid CSRF token (a confirm button)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
