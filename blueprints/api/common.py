"""What every API resource module builds on: its blueprint, loading in scope, one commit.

`ApiBlueprint` gives a resource module, by construction: token authentication before
every view (blueprints/api/auth.py), read-only tokens refused for writes, problem+json
for every error (problems.py), no CSRF (no cookie signs an API call in), and the
per-token rate limit. Its decorators document and carry out the write conventions:

- `@blp.creates` (POST): one commit after the view; an `Idempotency-Key` makes a retry
  get the first answer instead of a second record.
- `@blp.updates` (PATCH, DELETE): one commit after the view; the body's `version` is the
  record's, and a stale one answers 409 with the stored record.
- `@blp.reads` (GET): documents the token's refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from blueprints.api import auth
from blueprints.api.problems import Problem, problem, register_handlers
from blueprints.api.uploads import MULTIPART, ApiParser, body_digest
from crm.extensions import csrf, db, limiter
from crm.permissions import get_in_scope_or_404
from crm.services import idempotency
from crm.services.control_characters import find_control_character

T = TypeVar("T")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX},
    "description": (
        "A key of your choice (a UUID) that makes the POST safe to retry: sent again with "
        "the same key and body, it answers the first answer again and creates nothing."
    ),
}


# What the docs page calls each resource (flask-smorest would show the blueprint's name,
# "api_follow_ups"); a new resource names its own with `tag=`.
TAGS = {
    "api_customers": "Customers",
    "api_contacts": "Contacts",
    "api_competitors": "Competitor profiles",
    "api_stages": "Stages",
    "api_opportunities": "Opportunities",
    "api_visits": "Visits",
    "api_follow_ups": "Follow-ups",
    "api_handovers": "Handovers",
    "api_people": "Users and teams",
}


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint of the API, authenticated, limited and answering problems."""

    # `location="multipart"`: an upload's files and fields in one body (uploads.py).
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": MULTIPART,
    }

    def __init__(self, name: str, import_name: str, *, tag: str | None = None, **kwargs: Any):
        super().__init__(name, import_name, **kwargs)
        # The group the docs page shows its operations under (register_api lists it).
        self.tag = tag or TAGS.get(name) or name.removeprefix("api_").replace("_", " ").title()
        self.before_request(auth.authenticate)
        register_handlers(self)
        csrf.exempt(self)
        # One budget per token across the whole API, not one per resource.
        limiter.shared_limit(
            lambda: current_app.config["API_RATE_LIMIT"],
            scope="api",
            key_func=auth.rate_limit_key,
        )(self)

    def add_url_rule(self, rule, endpoint=None, view_func=None, *args, tags=None, **options):
        """Every operation under the blueprint's readable tag, unless a route names its own."""
        super().add_url_rule(rule, endpoint, view_func, *args, tags=tags or [self.tag], **options)

    # Documentation of the refusals every route shares ---------------------------------

    def _refusals(self, func: Callable, *statuses: int) -> Callable:
        for status in (401, 429, *statuses):
            func = self.alt_response(status, response=_STATUS_RESPONSES[status])(func)
        return func

    def reads(self, func: Callable[..., T]) -> Callable[..., T]:
        """A GET: documents 401 and 429 (and 404 when the path names a record)."""
        return self._refusals(func, 404)

    def updates(self, func: Callable[..., T]) -> Callable[..., T]:
        """A PATCH or DELETE: one commit after the view; 403, 404, 409, 422 documented."""
        return self._refusals(_committing(func), 403, 404, 409, 422)

    def creates(self, func: Callable[..., T]) -> Callable[..., T]:
        """A POST: one commit after the view, and the Idempotency-Key convention."""
        wrapped = self._refusals(_idempotent(func), 403, 404, 409, 422)
        return self.doc(parameters=[IDEMPOTENCY_PARAMETER])(wrapped)


_STATUS_RESPONSES = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
}


def load(model: type[T], record_id: Any, *options: Any) -> T:
    """The record if it is in the token user's scope; else 404 (problem+json)."""
    return get_in_scope_or_404(model, record_id, auth.api_user(), *options)


def _committing(func: Callable[..., Response]) -> Callable[..., Response]:
    """Commit once after the view answered (a refusal rolled back in its error handler)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = func(*args, **kwargs)
        db.session.commit()
        return response

    return wrapper


def _idempotent(func: Callable[..., Response]) -> Callable[..., Response]:
    """Commit once; with an Idempotency-Key keep the answer, and give it again on a retry."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            response = func(*args, **kwargs)
            db.session.commit()
            return response
        _check_key(key)
        user = auth.api_user()
        fingerprint = idempotency.fingerprint(request.method, request.path, body_digest())
        stored = idempotency.stored_answer(user, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        response = func(*args, **kwargs)
        if not 200 <= response.status_code < 300:
            return response  # nothing was made: a retry may try again
        try:
            idempotency.keep_answer(
                user=user,
                token_id=auth.api_token().id,
                key=key,
                request_fingerprint=fingerprint,
                status=response.status_code,
                body=response.get_data(as_text=True),
                location=response.headers.get("Location"),
            )
            db.session.commit()
        except IntegrityError:
            # The same key committed a moment ago by a concurrent retry: ours is undone.
            db.session.rollback()
            stored = idempotency.stored_answer(user, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    return wrapper


def _check_key(key: str) -> None:
    if not key.strip() or len(key) > idempotency.KEY_MAX or find_control_character(key):
        raise Problem(
            problem(
                422,
                _("An Idempotency-Key has 1 to 200 printable characters."),
                kind="idempotency",
                errors=[
                    {
                        "field": IDEMPOTENCY_HEADER,
                        "location": "header",
                        "message": _("An Idempotency-Key has 1 to 200 printable characters."),
                    }
                ],
            )
        )


def _replay(stored: idempotency.StoredAnswer, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise Problem(
            problem(
                422,
                _(
                    "This Idempotency-Key was used for another request; "
                    "use a new key for a new request."
                ),
                kind="idempotency",
            )
        )
    response = current_app.response_class(
        stored.body, status=stored.status, mimetype="application/json"
    )
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
