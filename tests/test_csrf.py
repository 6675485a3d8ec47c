"""With CSRF on, every POST route refuses a request that carries no token."""

from __future__ import annotations

from importlib import import_module

import pytest
from flask import url_for
from sqlalchemy import select

from blueprints.api import RESOURCES
from crm import create_app
from crm.extensions import db
from tests.routes import (
    ADMIN_ONLY,
    CUSTOMER_SCOPED,
    NOT_RECORD_ARGS,
    OWN_OR_ADMIN,
    OWN_ROWS,
    TEAM_LED,
    World,
)

# The JSON API signs in by a token in a header, never by the cookie, so it needs no CSRF
# token: tests/test_api_tokens.py shows a signed-in browser's cookie gets it nowhere.
API_RESOURCES = tuple(import_module(name).blp.name + "." for name in RESOURCES)


def _post_rules():
    app = create_app("testing")
    return sorted(
        r.endpoint
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and not r.endpoint.startswith(API_RESOURCES)
    )


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("endpoint", _post_rules())
def test_post_without_token_is_refused(request, app, client, org, login, endpoint):
    """Signed in as admin, so only the missing token can be the reason for refusal."""
    world = World.build(request)
    builder = (
        CUSTOMER_SCOPED.get(endpoint)
        or ADMIN_ONLY.get(endpoint)
        or OWN_ROWS.get(endpoint)
        or OWN_OR_ADMIN.get(endpoint)
        or NOT_RECORD_ARGS.get(endpoint)
        or TEAM_LED.get(endpoint)
    )
    kwargs = builder(world) if builder else {}
    with app.test_request_context():
        url = url_for(endpoint, **kwargs)
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    before = _snapshot()

    response = client.post(url, data={"name": "x", "username": "x", "password": "y" * 10})

    assert response.status_code == 400, (endpoint, response.status_code)
    assert "The form expired" in response.get_data(as_text=True)
    assert _snapshot() == before, f"{endpoint} changed data without a CSRF token"


def _snapshot():
    return {
        table.name: db.session.execute(select(table)).all() for table in db.metadata.sorted_tables
    }


def test_login_without_token_is_refused(app, client, org):
    response = client.post("/login", data={"username": "m1", "password": "correct-horse-9"})
    assert response.status_code == 400
