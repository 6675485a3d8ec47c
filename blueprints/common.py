"""Form helpers every blueprint shares: the confirm button and showing a refused change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash
from flask_wtf import FlaskForm

from crm.extensions import db
from crm.services.errors import DomainError

T = TypeVar("T")


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


def commit_change(change: Callable[[], T], form=None) -> T | None:
    """Run a service call and commit once; on refusal roll back, show why, return None.

    Views stay one shape: load in scope → validate → commit_change(...) → redirect.
    """
    try:
        result = change()
    except DomainError as error:
        db.session.rollback()
        if form is None:
            flash(str(error.message), "danger")
        else:
            show_error(form, error)
        return None
    db.session.commit()
    return result if result is not None else True  # type: ignore[return-value]
