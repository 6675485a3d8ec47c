"""Errors as RFC 9457 problem documents (application/problem+json).

Every refusal of the API answers here: HTTP errors (401, 403, 404, 405, 413, 429 ...),
refused input (422 with one entry per field), the rules of the services (DomainError:
the same message the web form shows), a stale version (409 with the stored record).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed, NotFound, StaleEdit

PROBLEM_JSON = "application/problem+json"
# Problem kinds beyond a plain HTTP status: their `type` points at the API guide.
TYPES = {
    "validation": "/api/v1/docs#problem-validation",
    "rule": "/api/v1/docs#problem-rule",
    "stale": "/api/v1/docs#problem-stale",
    "idempotency": "/api/v1/docs#problem-idempotency",
    "token": "/api/v1/docs#problem-token",
}

# model class -> function dumping a record as the API shows it (for a stale write's 409).
REPRESENTATIONS: dict[type, Callable[[Any], dict]] = {}


def represents(model: type, dump: Callable[[Any], dict]) -> None:
    """Say how the API shows a record of `model` (a resource module calls this once)."""
    REPRESENTATIONS[model] = dump


def _titles() -> dict[int, str]:
    """Short titles per status, translated per request (never at import)."""
    return {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        422: _("Invalid input"),
        429: _("Too many requests"),
        500: _("Server error"),
    }


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPES.get(kind or "", "about:blank"),
        "title": _titles().get(status) or str(status),
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = str(detail)
    body.update(extra)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Problem(HTTPException):
    """Raise to answer a problem from anywhere in a view or a decorator."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)
        self.code = response.status_code


def field_errors(messages: dict, location: str | None = None) -> list[dict[str, str]]:
    """marshmallow's nested {field: [messages]} as a flat list of {field, location, message}."""
    found: list[dict[str, str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path)
        else:
            entry = {"field": ".".join(path) or "_", "message": str(node)}
            if location:
                entry["location"] = location
            found.append(entry)

    walk(messages, [])
    return found


def _validation_problem(error: HTTPException) -> Response:
    """webargs' 422 for a body or query that does not fit the schema."""
    data = getattr(error, "data", None) or {}
    errors: list[dict[str, str]] = []
    for location, messages in (data.get("messages") or {}).items():
        errors += field_errors(messages, location)
    return problem(
        422,
        _("The request has invalid fields; nothing was changed."),
        kind="validation",
        errors=errors,
    )


def http_problem(error: HTTPException) -> Response:
    if isinstance(error, Problem) and error.response is not None:
        return error.response
    if error.code == 422 and getattr(error, "data", None):
        return _validation_problem(error)
    headers: dict[str, str] = {}
    if error.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if error.code == 429:
        current_app.logger.warning(
            "API rate limit reached: path=%s token=%s", request.path, g.get("api_token_prefix")
        )
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(int(retry_after))
    if error.code and error.code >= 500:
        db.session.rollback()
    code = error.code or 500
    return problem(code, _detail(code), headers=headers)


def _detail(status: int) -> str | None:
    return {
        401: _("Send a valid token: Authorization: Bearer <token>."),
        404: _("There is no such record, or it is not in your scope."),
        405: _("This address does not take that method."),
        413: _("The request is too large."),
        429: _("Too many requests for this token: wait and try again."),
        500: _("Something went wrong on the server; nothing was changed."),
    }.get(status)


def domain_problem(error: DomainError) -> Response:
    """A service's refusal, with the web form's message."""
    db.session.rollback()
    if isinstance(error, StaleEdit):
        return stale_problem(error)
    if isinstance(error, NotFound):
        return problem(404, str(error.message))
    status = 403 if isinstance(error, NotAllowed) and not error.field else 422
    extra: dict[str, Any] = {}
    if error.field:
        extra["errors"] = [
            {
                "field": error.field,
                "location": getattr(error, "location", "json"),  # refusals.in_path: "path"
                "message": str(error.message),
            }
        ]
    return problem(status, str(error.message), kind="rule", **extra)


def stale_problem(error: StaleEdit) -> Response:
    """409: someone saved the record since its `version` was read; here is what they saved."""
    extra: dict[str, Any] = {}
    record = error.current
    dump = REPRESENTATIONS.get(type(record)) if record is not None else None
    if dump is not None:
        try:
            db.session.refresh(record)
            extra["current"] = dump(record)
        except Exception:  # noqa: BLE001 - deleted meanwhile: the 409 goes without it
            db.session.rollback()
    return problem(409, str(error.message), kind="stale", **extra)


def stale_flush(error: StaleDataError) -> Response:
    db.session.rollback()
    current_app.logger.warning("API stale write refused: path=%s", request.path)
    return problem(409, _detail(409) or _("Someone else saved this record; read it again."))


def out_of_range(error: Exception) -> Response:
    """A number no column holds (an id of forty digits): no record can match."""
    if isinstance(error, DataError) and getattr(error.orig, "sqlstate", None) != "22003":
        raise error
    db.session.rollback()
    return problem(404, _detail(404))


def register_handlers(blueprint) -> None:
    """Answer every error of the blueprint's routes as a problem document."""
    blueprint.register_error_handler(HTTPException, http_problem)
    blueprint.register_error_handler(DomainError, domain_problem)
    blueprint.register_error_handler(StaleDataError, stale_flush)
    blueprint.register_error_handler(OverflowError, out_of_range)
    blueprint.register_error_handler(DataError, out_of_range)


def is_api_request() -> bool:
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")


def answer_error(status: int, error: Exception | None, message: str | None) -> Response | None:
    """The app's error pages ask this first (crm/errors.py): under /api/v1/ no HTML."""
    if not is_api_request():
        return None
    if isinstance(error, HTTPException):
        return http_problem(error)
    return problem(status, message or _detail(status))
