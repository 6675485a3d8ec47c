"""Tickets follow their customer's scope: another team's ticket is 404 in every route and
every place an id can arrive (path, query string, form field), and nothing changes.

The access matrix (tests/test_access_matrix.py with tests/routes.py) tries every route for
seven personas; this file names the service routes one by one, with the teammate, the other
team, a handover and the ids in queries and forms.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from models import ServiceTicket, TicketEvent
from tests.tickets import open_ticket, reloaded, ticket_in

# Each route with the status its ticket needs to accept the change, and a valid form.
ROUTES = {
    "show": ("GET", "open", {}),
    "start": ("POST", "open", {}),
    "resolve": ("POST", "in_progress", {"resolution": "已修复"}),
    "close": ("POST", "resolved", {"satisfaction": "5"}),
    "reopen": ("POST", "closed", {}),
    "handler": ("POST", "open", {"handler_id": None}),
}


def _snapshot() -> list:
    db.session.expire_all()
    tickets = db.session.execute(select(ServiceTicket.__table__)).all()
    events = db.session.execute(select(TicketEvent.__table__)).all()
    return [tickets, events]


def _url(ticket, route: str) -> str:
    return f"/service/{ticket.id}" + ("" if route == "show" else f"/{route}")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("persona", ["m2", "m3", "sup2"])
def test_a_ticket_out_of_scope_is_404_in_every_route(
    client, login, org, make_customer, route, persona
):
    method, status, form = ROUTES[route]
    ticket = ticket_in(make_customer(org["m1"]), status)
    data = {**form, "version": ticket.version}
    if "handler_id" in data:
        data["handler_id"] = org[persona].id
    before = _snapshot()
    login(client, org[persona])
    response = client.open(_url(ticket, route), method=method, data=data)
    assert response.status_code == 404
    assert "专线中断" not in response.get_data(as_text=True)
    assert _snapshot() == before


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("persona", ["m1", "sup1", "admin"])
def test_in_scope_every_route_does_its_work(client, login, org, make_customer, route, persona):
    method, status, form = ROUTES[route]
    ticket = ticket_in(make_customer(org["m1"]), status)
    seen = ticket.version
    data = {**form, "version": seen}
    if "handler_id" in data:
        data["handler_id"] = org["sup1"].id
    login(client, org[persona])
    response = client.open(_url(ticket, route), method=method, data=data)
    if method == "GET":
        assert response.status_code == 200 and "专线中断" in response.get_data(as_text=True)
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
        assert reloaded(ticket).version == seen + 1


def test_the_other_teams_ids_in_the_query_show_nothing_of_them(client, login, org, make_customer):
    theirs = make_customer(org["m3"], name="外队客户有限公司")
    open_ticket(theirs, title="外队工单")
    login(client, org["m1"])
    assert client.get(f"/service/new?customer_id={theirs.id}").status_code == 404
    for query in (f"customer={theirs.id}", f"owner={org['m3'].id}", "status=all"):
        page = client.get(f"/service/?{query}").get_data(as_text=True)
        assert "外队客户有限公司" not in page and "外队工单" not in page, query
    login(client, org["sup1"])
    page = client.get(f"/service/?owner={org['m3'].id}").get_data(as_text=True)
    assert "外队工单" not in page


def test_the_other_teams_ids_in_a_form_are_refused(client, login, org, make_customer, make_contact):
    mine = make_customer(org["m1"])
    other_contact = make_contact(make_customer(org["m3"]), name="外队联系人")
    login(client, org["m1"])
    fields = {"kind": "complaint", "category": "billing", "severity": "low", "title": "账单"}
    for name, value in (("raised_by_id", other_contact.id), ("handler_id", org["m3"].id)):
        response = client.post(f"/service/new?customer_id={mine.id}", data={**fields, name: value})
        assert response.status_code == 400, name
    assert db.session.scalar(select(ServiceTicket.id)) is None
    ticket = open_ticket(mine)
    before = _snapshot()
    login(client, org["sup1"])
    response = client.post(
        f"/service/{ticket.id}/handler",
        data={"version": ticket.version, "handler_id": org["m3"].id},
    )
    assert response.status_code == 400
    assert _snapshot() == before


def test_after_a_handover_the_tickets_are_the_new_owners(client, login, org, make_customer):
    customer = make_customer(org["m1"])
    ticket = open_ticket(customer)
    hand_over(
        actor=org["admin"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m3"],
        options=HandoverOptions(),
        note="调整",
        token="service-scope",
        expected_fingerprint=None,
    )
    db.session.commit()
    login(client, org["m1"])
    assert client.get(f"/service/{ticket.id}").status_code == 404
    login(client, org["m3"])
    page = client.get(f"/service/{ticket.id}").get_data(as_text=True)
    assert 'id="ticket-owner">M3</dd>' in page
    response = client.post(f"/service/{ticket.id}/start", data={"version": ticket.version})
    assert response.status_code == 302
    ticket = reloaded(ticket)
    assert (ticket.owner_id, ticket.handler_id) == (org["m3"].id, org["m3"].id)


@pytest.mark.parametrize("action", ["start", "assign"])
def test_the_services_refuse_a_ticket_out_of_scope_themselves(org, make_customer, action):
    """The pages load a ticket in scope first; the service asks the database again (the CLI,
    the scheduler and a handover that moved the customer meanwhile do not pass a page)."""
    from crm.services.errors import NotFound
    from crm.services.tickets import lifecycle

    ticket = open_ticket(make_customer(org["m1"]))
    before = _snapshot()
    with pytest.raises(NotFound):
        if action == "start":
            lifecycle.start(ticket, actor=org["m3"], version=ticket.version)
        else:
            lifecycle.assign_handler(
                ticket, actor=org["sup2"], version=ticket.version, handler_id=org["m1"].id
            )
    db.session.rollback()
    assert _snapshot() == before
