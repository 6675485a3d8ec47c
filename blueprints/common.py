"""Form helpers every blueprint shares: the confirm button and the one write path (`write`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from blueprints.forms_base import CrmForm
from crm.auth import safe_next_url
from crm.extensions import db
from crm.services.errors import DomainError, StaleEdit

T = TypeVar("T")


class ConfirmForm(CrmForm):
    """An empty form: a CSRF-protected button."""

    _tag = None

    def hidden_tag(self, *fields):
        """Its CSRF field, rendered once: a page carries one ConfirmForm under every
        button of a list (remove, tick, unlink ...), and the field is the same each time."""
        if fields:
            return super().hidden_tag(*fields)
        if self._tag is None:
            self._tag = super().hidden_tag()
        return self._tag


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


@dataclass
class Outcome(Generic[T]):
    """What a write view does next: return `response` when set, else re-render its form.

    `error` is the refusal (its message is on the form already, or flashed); `stale` is
    set when someone saved the record since the form was opened: the view shows the
    stored values beside the user's and answers `status` (409; 400 for other refusals).
    """

    response: ResponseReturnValue | None = None
    result: T | None = None
    error: DomainError | None = None

    @property
    def stale(self) -> StaleEdit | None:
        return self.error if isinstance(self.error, StaleEdit) else None

    @property
    def status(self) -> int:
        return 409 if self.stale else 400


def _stale_save() -> StaleEdit:
    """The refusal for a row whose version moved under the flush (SQLAlchemy's check)."""
    return StaleEdit(
        _l(
            "Someone else saved this record while you were editing it. "
            "Their version is shown below; your changes were not saved."
        ),
        current=None,
    )


def commit_once(change: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run one service call and commit once; on refusal roll back and return the error.

    For a view that answers a refusal its own way (JSON); the others use `write`.
    """
    try:
        result = change()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return None, error
    except StaleDataError:
        db.session.rollback()
        return None, _stale_save()
    return result, None


def write(
    change: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    to: str | Callable[[T], str],
    form=None,
    back: str | None = None,
    category: str | Callable[[T], str] = "success",
) -> Outcome[T]:
    """The one write path of a view: one service call, one commit, flash, redirect.

    A view reads: load in scope → validate the form → `outcome = write(lambda: service(...),
    done=message, to=url, form=form)`; `return outcome.response` when it is set, else
    re-render the form with `status=outcome.status` (and, when `outcome.stale`, the stored
    values beside the user's). `done` and `to` may take the service's result (a created
    record). On a DomainError the session rolls back and the message goes to its form
    field (`show_error`), or is flashed without a form. On a stale version (StaleEdit or
    SQLAlchemy's StaleDataError) the session rolls back, so the record reloads with what
    the other person saved. With `back` (a button without its own form page) a refusal is
    flashed and answered with a redirect there. `category` (or a function of the
    result) is the flash's on success.
    """
    result, error = commit_once(change)
    if error is None:
        flash(
            done(result) if callable(done) else done,
            category(result) if callable(category) else category,
        )
        return Outcome(response=redirect(to(result) if callable(to) else to), result=result)
    if back is not None:
        flash(str(error.message), "danger")
        return Outcome(response=redirect(back), error=error)
    outcome = Outcome(error=error)
    if outcome.stale is None:  # a stale save: the view shows the stored values instead
        show_error(form, error) if form is not None else flash(str(error.message), "danger")
    return outcome
