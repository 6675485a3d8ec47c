"""Every id-taking route, for every persona: in scope it works, out of scope it is 404 (or 403).

"Works" is the route's effect, not only its status: a page shows its record, a valid POST
changes it (tests/routes.py POST_EFFECTS) and a form submitted empty comes back with its
errors. Ids in query strings and form fields: tests/test_access_query.py and
tests/test_access_forms.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm import create_app
from crm.extensions import db
from tests.routes import (
    ADMIN_ALLOWED,
    ADMIN_ONLY,
    API_SCOPED,
    CUSTOMER_SCOPE_ALLOWED,
    CUSTOMER_SCOPED,
    NOT_RECORDS,
    OWN_OR_ADMIN,
    OWN_OR_ADMIN_ALLOWED,
    OWN_ROWS,
    OWN_ROWS_ALLOWED,
    PERSONAS,
    POST_EFFECTS,
    TEAM_LED,
    TEAM_LED_ALLOWED,
    World,
    persona_user,
    reloaded,
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
    classified = set(CUSTOMER_SCOPED) | set(ADMIN_ONLY) | set(OWN_ROWS) | NOT_RECORDS
    classified |= set(OWN_OR_ADMIN)  # API tokens: their user's and the admins'
    classified |= set(TEAM_LED)  # team sheets: their supervisor's and the admins'
    classified |= set(API_SCOPED)  # tried with tokens: tests/test_api_access.py
    missing = sorted({endpoint for endpoint, _ in ID_RULES} - classified)
    assert not missing, f"routes with ids but no scope rule in tests/routes.py: {missing}"


def test_every_effect_names_a_post_route():
    posts = {endpoint for endpoint, method in ID_RULES if method == "POST"}
    assert set(POST_EFFECTS) <= posts


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("endpoint", "method"), [r for r in ID_RULES if r[0] not in NOT_RECORDS | set(API_SCOPED)]
)
def test_access(request, app, client, login, endpoint, method, persona):
    world = World.build(request)
    if endpoint in CUSTOMER_SCOPED:
        kwargs, allowed, refusal = CUSTOMER_SCOPED[endpoint](world), CUSTOMER_SCOPE_ALLOWED, 404
    elif endpoint in TEAM_LED:
        kwargs, allowed, refusal = TEAM_LED[endpoint](world), TEAM_LED_ALLOWED, 404
    elif endpoint in OWN_ROWS:
        kwargs, allowed, refusal = OWN_ROWS[endpoint](world), OWN_ROWS_ALLOWED, 404
    elif endpoint in OWN_OR_ADMIN:
        kwargs, allowed, refusal = OWN_OR_ADMIN[endpoint](world), OWN_OR_ADMIN_ALLOWED, 404
    else:
        kwargs, allowed, refusal = ADMIN_ONLY[endpoint](world), ADMIN_ALLOWED, 403
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **kwargs)
    user = persona_user(world, persona)
    if user is not None:
        login(client, user)
    effect = POST_EFFECTS.get(endpoint) if method == "POST" else None
    # confirmed=1: the answer a destructive POST's "are you sure?" asks for.
    data = {"confirmed": "1", **(effect.data(world) if effect else {})}
    before = _snapshot() if persona not in allowed else None

    response = client.open(url, method=method, data=data)

    status = response.status_code
    if persona == "anonymous":
        assert status == 302 and "/login" in response.location
    elif persona not in allowed:
        assert status == refusal, (persona, url, status)
        assert _snapshot() == before, f"{persona} changed data through {url}"
    elif method == "GET":
        assert status == 200, (persona, url, status)
        if endpoint not in ("outbox_admin.download", "documents.thumbnail"):  # bytes
            assert world.shown in response.get_data(as_text=True), (persona, url, world.shown)
    elif effect is None and endpoint in ADMIN_ONLY:
        # Reference data and users: no customer scope, the role check above is the point.
        assert status < 500 and status not in (403, 404, 405), (persona, url, status)
    elif effect is None:
        # A form submitted empty: found in scope, refused for its missing fields.
        assert status == 400, (persona, url, status)
    elif effect.personas is None or persona in effect.personas:
        body = response.get_data(as_text=True)
        assert status in (302, 303), (persona, url, status, _errors(body))
        assert effect.changed(reloaded(world.record)), (persona, url, "no change")
    else:
        assert status < 500 and status not in (403, 404, 405), (persona, url, status)
        assert not effect.changed(reloaded(world.record)), (persona, url, "changed")


def _snapshot() -> dict:
    """Every row of every table, to show that a refused request changed nothing."""
    db.session.expire_all()
    return {
        table.name: db.session.execute(select(table)).all() for table in db.metadata.sorted_tables
    }


def _errors(body: str) -> list[str]:
    """The form errors and flashed messages of a page, for a readable failure."""
    import re

    return re.findall(r'class="(?:invalid-feedback|alert[^"]*)"[^>]*>\s*([^<]+)', body)
