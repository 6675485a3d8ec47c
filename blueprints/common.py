"""Form helpers every blueprint shares: the confirm button and showing a refused change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, make_response, render_template, request, url_for

from blueprints.forms_base import CrmForm
from crm.auth import safe_next_url
from crm.extensions import db
from crm.services.errors import DomainError

T = TypeVar("T")


class ConfirmForm(CrmForm):
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


def confirm_or_ask(question: str, *, button: str | None = None, back: str | None = None) -> None:
    """Go on only when the user confirmed this destructive POST; else answer "are you sure?".

    With JavaScript the button's dialog (static/js/confirm.js, a form with data-confirm)
    asked already and sent confirmed=1. Without it the first POST ends here: a page with
    the question and a button that posts the same fields again with confirmed=1; nothing
    changes before that. A POST without a valid CSRF token is refused (400) either way.
    """
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("confirmed") == "1":
        return
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", "confirmed")
    ]
    page = render_template(
        "confirm.html",
        question=question,
        button=button,
        action=request.full_path if request.query_string else request.path,
        fields=fields,
        back=safe_next_url(back) or safe_next_url(request.referrer) or url_for("main.home"),
    )
    abort(make_response(page, 200))


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
