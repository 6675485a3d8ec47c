"""The API's access matrix: every id route of /api/v1/ for every persona, with a token.

In scope a route works (a GET shows the record, a write changes it); out of scope it
answers 404 and changes nothing; without a token 401. Ids in the query string and the JSON
(or multipart) body are read from the OpenAPI document: each integer field is classified in
tests/routes.py (API_ID_FIELDS), and the other team's id is refused there too.
"""

# ruff: noqa: F811  (the two_teams fixture is imported, then requested by name)
from __future__ import annotations

from importlib import import_module

import pytest

from blueprints.api import RESOURCES
from blueprints.api.uploads import MULTIPART
from crm import create_app
from tests.api_support import as_user, problem_of, send
from tests.routes import (
    API_ALLOWED,
    API_EFFECTS,
    API_ID_FIELDS,
    API_SCOPED,
    CUSTOMER_SCOPE_ALLOWED,
    PERSONAS,
    ApiIdCase,
    World,
    persona_user,
    reloaded,
)
from tests.test_access_matrix import _snapshot
from tests.test_access_query import two_teams  # noqa: F401  (fixture)

WRITES = {"POST", "PATCH", "PUT", "DELETE"}


def _record_first_use(client, headers) -> None:
    """Use the token once: its last-use time is written then, not during the request tried."""
    if headers:
        assert client.get("/api/v1/competitors/", headers=headers).status_code == 200


def _api_rules():
    app = create_app("testing")
    names = tuple(import_module(name).blp.name + "." for name in RESOURCES)
    return app, [
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(names) and rule.arguments
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


APP, ID_RULES = _api_rules()


def test_every_api_id_route_is_classified_and_every_write_has_an_effect():
    missing = sorted({endpoint for endpoint, _ in ID_RULES} - set(API_SCOPED))
    assert not missing, f"API routes with ids but no entry in tests/routes.py API_SCOPED: {missing}"
    writes = {(endpoint, method) for endpoint, method in ID_RULES if method in WRITES}
    assert writes == set(API_EFFECTS), "tests/routes.py API_EFFECTS: one per API id write"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("endpoint", "method"), ID_RULES)
def test_api_access(request, app, client, endpoint, method, persona):
    world = World.build(request)
    kwargs = API_SCOPED[endpoint](world)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **kwargs)
    user = persona_user(world, persona)
    headers = as_user(user) if user is not None else {}
    _record_first_use(client, headers)
    effect = API_EFFECTS.get((endpoint, method))
    body = effect.data(world) if effect else None
    allowed = API_ALLOWED.get(endpoint, CUSTOMER_SCOPE_ALLOWED)
    # Who sees the record but may not do this to it (a manager undoing a handover): 403.
    refused = effect is not None and effect.personas is not None and persona not in effect.personas
    before = _snapshot() if persona not in allowed or refused else None

    response = send(client, method, url, headers, body)

    if persona == "anonymous":
        problem_of(response, 401)
    elif persona not in allowed:
        problem_of(response, 404)
        assert _snapshot() == before, f"{persona} changed data through {method} {url}"
    elif refused:
        problem_of(response, 403)
        assert _snapshot() == before, f"{persona} changed data through {method} {url}"
    elif method == "GET":
        assert response.status_code == 200, (persona, url, response.get_json())
        if not response.is_json:  # a document's file: its bytes
            assert world.shown in response.get_data(as_text=True)
            return
        shown = response.get_json()
        # A record, or a page of the record's rows (a handover's customers).
        assert shown["items"] if "items" in shown else shown["id"] == world.record.id
    else:
        assert response.status_code in (200, 201, 204), (persona, url, response.get_json())
        assert effect.changed(reloaded(world.record)), (persona, method, url, "no change")


# Ids in the query and the body -------------------------------------------------------------


def _integer_fields() -> set[tuple[str, str, str]]:
    """Every integer query parameter and JSON body field of the OpenAPI document."""
    with APP.app_context():
        spec = APP.test_client().get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    found = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            key = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and resolve(parameter["schema"])["type"] == "integer":
                    found.add((key, "query", parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, where in (("application/json", "json"), (MULTIPART, "multipart")):
                if media_type not in content:
                    continue
                body = resolve(content[media_type]["schema"])
                for name, field in body.get("properties", {}).items():
                    if resolve(field).get("type") == "integer":
                        found.add((key, where, name))
    return found


def test_every_integer_field_of_the_api_is_classified():
    found = _integer_fields()
    everywhere = {(where, name) for key, where, name in API_ID_FIELDS if key == "*"}
    missing = sorted(k for k in found - set(API_ID_FIELDS) if k[1:] not in everywhere)
    assert not missing, f"classify these in tests/routes.py API_ID_FIELDS: {missing}"
    stale = sorted(k for k in set(API_ID_FIELDS) - found if k[0] != "*")
    assert not stale, f"no such field in the OpenAPI document any more: {stale}"


ID_CASES = [
    (key, persona)
    for key, case in API_ID_FIELDS.items()
    if isinstance(case, ApiIdCase)
    for persona in case.personas
]


@pytest.mark.parametrize(("key", "persona"), ID_CASES, ids=lambda v: str(v))
def test_an_id_of_the_other_team_in_query_or_body_is_refused(client, org, two_teams, key, persona):
    case: ApiIdCase = API_ID_FIELDS[key]
    user = org["m1"] if persona == "owner" else org["sup1"]
    headers = as_user(user)
    _record_first_use(client, headers)
    own, other = two_teams["own"], two_teams["other"]

    method, url, body = case.request(own, other)
    before = _snapshot()
    response = send(client, method, url, headers, body)
    problem = problem_of(response, case.refusal)
    assert other.customer.name not in str(problem) and other.contact.name not in str(problem)
    assert _snapshot() == before, f"{key}: the refused request changed data"

    method, url, body = case.request(own, own)
    response = send(client, method, url, headers, body)
    assert response.status_code < 300, (key, response.get_json())
    if method == "GET":
        names = {item.get("name") for item in response.get_json()["items"]}
        assert other.customer.name not in names
