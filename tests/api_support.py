"""Helpers of the API's tests: a token for a user, its header, and problem checks."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

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


class Multipart(dict):
    """A multipart/form-data body: text values, and files as (filename, bytes) or a list
    of them."""


def send(client, method: str, url: str, headers: dict[str, str], body=None):
    """One API request: a dict body as JSON, a Multipart body as multipart/form-data.

    Encoded here, in memory: the test client spools a large body to a file it never closes.
    """
    if not isinstance(body, Multipart):
        return client.open(url, method=method, headers=headers, json=body)
    fields = MultiDict()
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                filename, content = item
                item = FileStorage(io.BytesIO(content), filename=filename)
            fields.add(name, item)
    boundary, data = encode_multipart(fields)
    return client.open(
        url,
        method=method,
        headers=headers,
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
