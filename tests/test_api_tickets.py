"""Service tickets over the API: the /service/ list's filters in scope, opening a ticket and
its whole life through the ticket page's service, with the web's rules: a resolution is
required, the satisfaction is recorded once, each change only from its statuses, a stale
version refused with the stored ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.extensions import db
from crm.services.tickets import lifecycle
from models import ServiceTicket
from models.base import utcnow
from tests.api_support import as_user, problem_of

URL = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


def _open(customer, actor, **fields) -> ServiceTicket:
    values = {"kind": "complaint", "category": "billing", "severity": "high", "title": "多收费"}
    ticket = lifecycle.open_ticket(customer, actor=actor, **{**values, **fields})
    db.session.commit()
    return ticket


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _post(client, headers, ticket: dict, action: str, **body):
    return client.post(
        f"{URL}{ticket['id']}/{action}",
        headers=headers,
        json={"version": ticket["version"], **body},
    )


def test_the_list_shows_each_persona_its_scope_with_the_webs_filters(
    client, org, customer, make_customer
):
    mine = _open(customer, org["m1"], severity="low", kind="request")
    teammate = _open(make_customer(org["m2"]), org["m2"], severity="critical")
    other = _open(make_customer(org["m3"]), org["m3"])
    late = _open(customer, org["m1"], now=utcnow() - timedelta(days=5))
    m1, sup1 = as_user(org["m1"]), as_user(org["sup1"])
    assert set(_ids(client.get(URL, headers=m1))) == {mine.id, late.id}
    assert set(_ids(client.get(URL, headers=sup1))) == {mine.id, teammate.id, late.id}
    assert other.id in _ids(client.get(URL, headers=as_user(org["admin"])))
    assert _ids(client.get(URL + "?overdue=true", headers=m1)) == [late.id]
    assert _ids(client.get(URL + "?kind=request", headers=m1)) == [mine.id]
    assert _ids(client.get(URL + "?sort=severity", headers=sup1)) == [teammate.id, late.id, mine.id]
    assert _ids(client.get(URL + f"?owner={org['m2'].id}", headers=sup1)) == [teammate.id]
    # Pages in a stable order: two pages of one hold what one page of three does.
    first = client.get(URL + "?sort=severity&limit=2", headers=sup1).get_json()
    rest = client.get(URL + f"?sort=severity&cursor={first['next_cursor']}", headers=sup1)
    assert [t["id"] for t in first["items"]] + _ids(rest) == [teammate.id, late.id, mine.id]
    # Closed ones are history: listed with status=all or status=closed.
    problem_of(client.get(URL + f"?customer_id={other.customer_id}", headers=m1), 404)
    problem_of(client.get(URL + f"?owner={org['m3'].id}", headers=sup1), 404)


def test_opening_a_ticket_takes_the_forms_rules(client, org, m1, customer, make_contact):
    contact = make_contact(customer)
    body = {
        "customer_id": customer.id,
        "kind": "complaint",
        "category": "network_quality",
        "severity": "critical",
        "title": "专线中断",
        "raised_by_id": contact.id,
    }
    response = client.post(URL, headers=m1, json=body)
    assert response.status_code == 201, response.get_json()
    ticket = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tickets/{ticket['id']}"
    assert (ticket["status"], ticket["owner_id"], ticket["raised_by_id"]) == (
        "open",
        org["m1"].id,
        contact.id,
    )
    assert ticket["allowed_actions"] == ["assign", "start"]
    assert [e["to_status"] for e in ticket["events"]] == ["open"]
    # Another customer's contact, or a handler who cannot see the customer: the web's words.
    stranger = make_contact(customer=_other_customer(org))
    problem = problem_of(
        client.post(URL, headers=m1, json={**body, "raised_by_id": stranger.id}), 422
    )
    assert problem["errors"] == [
        {
            "field": "raised_by_id",
            "location": "json",
            "message": "Choose one of this customer's contacts.",
        }
    ]
    problem = problem_of(
        client.post(URL, headers=m1, json={**body, "handler_id": org["m3"].id}), 422
    )
    assert problem["errors"][0]["field"] == "handler_id"


def _other_customer(org):
    from models import Customer

    customer = Customer(name="外队客户", owner=org["m3"])
    db.session.add(customer)
    db.session.commit()
    return customer


def test_a_ticket_lives_through_the_pages_rules(client, org, m1, customer):
    ticket = client.get(f"{URL}{_open(customer, org['m1']).id}", headers=m1).get_json()
    problem = problem_of(_post(client, m1, ticket, "close", satisfaction=5), 422)
    assert problem["detail"] == "Only a resolved ticket can be closed; this one is Open."
    ticket = _post(client, m1, ticket, "start").get_json()
    assert (ticket["status"], ticket["handler_id"]) == ("in_progress", org["m1"].id)

    # A resolution is required, as on the ticket page; the refusal changes nothing.
    problem = problem_of(_post(client, m1, ticket, "resolve", resolution="  "), 422)
    assert problem["errors"] == [
        {
            "field": "resolution",
            "location": "json",
            "message": "Say how it was resolved: the revisit asks the customer about it.",
        }
    ]
    assert client.get(f"{URL}{ticket['id']}", headers=m1).get_json() == ticket
    ticket = _post(client, m1, ticket, "resolve", resolution="已退还多收费用").get_json()
    assert ticket["status"] == "resolved" and ticket["revisit_follow_up_id"]
    revisit = client.get(f"/api/v1/follow-ups/{ticket['revisit_follow_up_id']}", headers=m1)
    assert revisit.status_code == 200 and revisit.get_json()["status"] == "pending"

    problem = problem_of(_post(client, m1, ticket, "close"), 422)
    assert problem["errors"][0]["field"] == "satisfaction"
    ticket = _post(client, m1, ticket, "close", satisfaction=4, comment="满意").get_json()
    assert (ticket["status"], ticket["satisfaction"]) == ("closed", 4)
    assert client.get(revisit.request.path, headers=m1).get_json()["status"] == "done"

    # Reopened and resolved again, it closes without a second score: recorded once.
    ticket = _post(client, m1, ticket, "reopen", note="又多收了").get_json()
    assert (ticket["status"], ticket["reopened_count"]) == ("open", 1)
    ticket = _post(client, m1, ticket, "start").get_json()
    ticket = _post(client, m1, ticket, "resolve", resolution="系统已修正").get_json()
    problem = problem_of(_post(client, m1, ticket, "close", satisfaction=2), 422)
    assert problem["errors"][0] == {
        "field": "satisfaction",
        "location": "json",
        "message": "The customer's satisfaction was recorded at the first revisit; it is not "
        "recorded again.",
    }
    ticket = _post(client, m1, ticket, "close").get_json()
    assert (ticket["status"], ticket["satisfaction"], ticket["satisfaction_comment"]) == (
        "closed",
        4,
        "满意",
    )
    assert [e["to_status"] for e in ticket["events"]] == [
        "open",
        "in_progress",
        "resolved",
        "closed",
        "open",
        "in_progress",
        "resolved",
        "closed",
    ]


def test_a_stale_version_is_refused_with_the_stored_ticket(client, org, m1, customer):
    ticket = client.get(f"{URL}{_open(customer, org['m1']).id}", headers=m1).get_json()
    assert _post(client, m1, ticket, "start").status_code == 200
    problem = problem_of(
        _post(client, as_user(org["sup1"]), ticket, "handler", handler_id=org["sup1"].id), 409
    )
    assert problem["current"]["status"] == "in_progress"
    assert problem["current"]["handler_id"] == org["m1"].id
