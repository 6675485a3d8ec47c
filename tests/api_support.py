"""Helpers of the API's tests: a token for a user, its header, and problem checks."""

from __future__ import annotations

from crm.extensions import db
from crm.services.people import tokens
from models import TokenScope

PROBLEM_JSON = "application/problem+json"


def token_for(user, scope: TokenScope | str = TokenScope.READ_WRITE, days: int = 30) -> str:
    """A new token of `user` (made through the service, as the account page does)."""
    made = tokens.create_token(
        actor=user, name=f"test {user.username}", scope=scope, lifetime_days=days
    )
    db.session.commit()
    return made.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def as_user(user, scope: TokenScope | str = TokenScope.READ_WRITE) -> dict[str, str]:
    """The Authorization header of a fresh token of `user`."""
    return bearer(token_for(user, scope))


def problem_of(response, status: int) -> dict:
    """The response's problem document, after checking its status and media type."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.content_type == PROBLEM_JSON, response.content_type
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    return body
