"""Every id-taking route, for every persona: in scope works, out of scope is 404 (or 403)."""

from __future__ import annotations

import pytest

from crm import create_app
from tests.routes import (
    ADMIN_ALLOWED,
    ADMIN_ONLY,
    CUSTOMER_SCOPE_ALLOWED,
    CUSTOMER_SCOPED,
    NOT_RECORDS,
    PERSONAS,
    World,
    persona_user,
)


def _id_rules():
    app = create_app("testing")
    return [
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint != "static"
        for method in sorted(rule.methods & {"GET", "POST"})
    ]


ID_RULES = _id_rules()


def test_every_id_route_is_classified():
    classified = set(CUSTOMER_SCOPED) | set(ADMIN_ONLY) | NOT_RECORDS
    missing = sorted({endpoint for endpoint, _ in ID_RULES} - classified)
    assert not missing, f"routes with ids but no scope rule in tests/routes.py: {missing}"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("endpoint", "method"), [r for r in ID_RULES if r[0] not in NOT_RECORDS])
def test_access(request, app, client, login, endpoint, method, persona):
    world = World.build(request)
    if endpoint in CUSTOMER_SCOPED:
        kwargs, allowed, refusal = CUSTOMER_SCOPED[endpoint](world), CUSTOMER_SCOPE_ALLOWED, 404
    else:
        kwargs, allowed, refusal = ADMIN_ONLY[endpoint](world), ADMIN_ALLOWED, 403
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **kwargs)
    user = persona_user(world, persona)
    if user is not None:
        login(client, user)

    response = client.open(url, method=method, data={})

    if persona == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    elif persona in allowed:
        assert response.status_code not in (403, 404, 405), (persona, url, response.status_code)
        assert response.status_code < 500
    else:
        assert response.status_code == refusal, (persona, url, response.status_code)
