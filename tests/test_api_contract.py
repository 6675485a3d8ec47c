"""Contract fuzzing: Schemathesis sends what the OpenAPI document allows (and what it does
not) to every operation, as a manager, a supervisor and an admin, and checks each answer
against the document: no 5xx, documented statuses and media types, bodies that match their
schemas. The document is the contract; this holds the API to it.

Bounded for CI on two cores: a fixed number of examples per operation and persona, with a
fixed seed (derandomized), so a run is repeatable and takes seconds, not minutes.
"""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.extensions import db
from tests.api_support import bearer, token_for

EXAMPLES = 10
PERSONAS = ("m1", "sup1", "admin")
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)


@pytest.fixture
def app_overrides():
    # Hundreds of calls a minute per token: the limit itself is tested in test_api_conventions.
    return {"API_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def api_world(org, make_customer, make_contact, make_profile):
    """A little of everything, so that reads find rows and ids 1, 2, 3 ... exist."""
    for owner in (org["m1"], org["m2"], org["m3"]):
        customer = make_customer(owner)
        make_contact(customer)
        make_profile(customer)
        _document_and_ticket(customer, owner)
        _opportunity_with_parts(customer, owner)
    return {name: token_for(org[name]) for name in PERSONAS}


def _opportunity_with_parts(customer, owner) -> None:
    """An opportunity with a contact, a competitor and history rows, made as the web does."""
    from crm.services.archive.competitors import active_competitors
    from crm.services.pipeline import links
    from crm.services.pipeline import opportunities as pipeline

    opportunity = pipeline.create_opportunity(customer, actor=owner, title="商机", amount=100)
    pipeline.update_opportunity(opportunity, actor=owner, version=opportunity.version, amount=200)
    links.add_contact(opportunity, customer.contacts[0], actor=owner, is_primary=True)
    links.add_competitor(opportunity, active_competitors()[0], actor=owner, offer="八折")
    db.session.commit()


def _document_and_ticket(customer, owner) -> None:
    from crm.services.documents import library
    from crm.services.tickets import lifecycle

    library.upload(
        customer=customer,
        actor=owner,
        uploads=[library.Upload(io.BytesIO(b"%PDF-1.4\n(contract)\n%%EOF\n"), "a.pdf")],
        kind_id=library.kind_by_code("proposal").id,
    )
    lifecycle.open_ticket(
        customer, actor=owner, kind="request", category="other", severity="low", title="工单"
    )
    db.session.commit()


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_keeps_its_contract(app, api_world, persona):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(api_world[persona])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()


# Every status the document names, and the test that reaches it (the fuzzing above meets
# most of them by chance; these make sure of each). A new status fails until it is named.
STATUSES_REACHED = {
    "200": "tests/test_api_resources.py (every read and change)",
    "201": "tests/test_api_conventions.py::test_a_retried_create_with_the_same_key_...",
    "204": "tests/test_api_access.py::test_api_access (DELETE of a profile)",
    "400": "tests/test_api_tokens.py::test_a_token_in_the_url_is_refused_and_not_used",
    "401": "tests/test_api_tokens.py::test_expired_unknown_and_malformed_tokens_answer_401",
    "403": "tests/test_api_tokens.py::test_a_read_only_token_reads_but_cannot_write",
    "404": "tests/test_api_access.py (out-of-scope ids in path, query and body)",
    "409": "tests/test_api_conventions.py::test_a_stale_version_answers_409_with_...",
    "422": "tests/test_api_conventions.py::test_refused_input_is_a_problem_with_...",
    "429": "tests/test_api_conventions.py::TestRateLimit",
    "413": "tests/test_api_documents.py::test_a_file_over_the_size_limit_answers_413_...",
    "503": "tests/test_api_documents.py::test_a_lost_object_answers_503_not_a_server_error",
    "default": "any other refusal, as a problem document (405, 413 ...)",
}


def test_every_documented_status_is_reached_or_explained(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {
        status
        for operations in spec["paths"].values()
        for method, operation in operations.items()
        if method != "parameters"
        for status in operation["responses"]
    }
    assert documented <= set(STATUSES_REACHED), sorted(documented - set(STATUSES_REACHED))


def test_every_operation_is_grouped_under_a_readable_tag_with_its_description(app):
    """The docs page groups operations by tag: "Customers", not the blueprint's api_customers."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    described = {tag["name"]: tag["description"] for tag in spec["tags"]}
    used = {
        tag
        for operations in spec["paths"].values()
        for method, operation in operations.items()
        if method != "parameters"
        for tag in operation["tags"]
    }
    assert used == set(described)
    assert all(described.values())
    assert not [name for name in described if name.startswith("api_") or "_" in name]
    assert {"Customers", "Follow-ups", "Documents", "Service tickets"} <= used
