"""Who calls the API: a personal access token in `Authorization: Bearer`, and nothing else.

The web's session cookie never signs an API call in: a page's cookie in the same browser
must not turn a cross-site request into an authenticated one (the API has no CSRF token).
So every API request starts anonymous, and only a valid token makes it someone.
A token is never read from the URL (URLs land in logs, proxies and browser history), and
the secret is never logged: log lines name the token by its short prefix.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import AnonymousUserMixin

from blueprints.api.problems import Problem, problem
from crm.extensions import db
from crm.services.people import tokens
from models import ApiToken, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Query keys that look like a token sent the wrong way: refused, never used.
TOKEN_QUERY_KEYS = ("access_token", "token", "api_key", "apikey")


def bearer_secret() -> str | None:
    """The token of the Authorization header, or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token (hashed, so the limiter's store never holds it)."""
    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "-")


def api_user() -> User:
    """The token's user of this request (authenticate() ran before every API view)."""
    return g.api_user


def api_token() -> ApiToken:
    return g.api_token


def _refuse(status: int, why: str, detail: str) -> None:
    current_app.logger.warning(
        "API token refused: status=%s why=%s path=%s ip=%s token=%s",
        status,
        why,
        request.path,
        request.remote_addr,
        g.get("api_token_prefix") or "-",
    )
    raise Problem(problem(status, detail, kind="token", headers=_challenge(status)))


def _challenge(status: int) -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else {}


def authenticate() -> None:
    """Before every API view: find the token's user, or answer 401/403 (problem+json)."""
    # Anonymous until a token says otherwise: Flask-Login would read the session cookie.
    g._login_user = AnonymousUserMixin()
    g.api_token = g.api_user = g.api_token_prefix = None
    if any(key in request.args for key in TOKEN_QUERY_KEYS):
        _refuse(
            400,
            "token in URL",
            _("Send the token in the Authorization header, never in the URL."),
        )
    secret = bearer_secret()
    if secret is None:
        _refuse(401, "no token", _("Send a token: Authorization: Bearer <token>."))
    token = tokens.token_by_secret(secret)
    if token is not None:
        g.api_token_prefix = token.prefix
    now = datetime.now(UTC)
    if not tokens.usable(token, now):
        why = "unknown" if token is None else "revoked, expired or user inactive"
        _refuse(401, why, _("This token is unknown, revoked or expired."))
    g.api_token, g.api_user = token, token.user
    g._login_user = token.user  # the owner's language and time zone for every message
    refresh()
    if tokens.record_use(token, now):
        db.session.commit()
    if request.method not in SAFE_METHODS and not token.can_write:
        _refuse(403, "read-only token", _("This token may only read; make a read-write token."))
