"""The service pages: the ticket list (filters, sort, pages, overdue flags), a new ticket from
the customer page, the customer's panel, the homes' overdue figure, CSRF, merge and delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.services.archive.merge import merge_customers
from models import Contact, Customer, ServiceTicket, TicketEvent
from tests.paging import walk_pages
from tests.tickets import open_ticket, reloaded, ticket_in


@pytest.fixture(autouse=True)
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


def _overdue(ticket, days: int = 2) -> None:
    """Move the ticket's opening and due time into the past: it is overdue now."""
    past = datetime.now(UTC) - timedelta(days=days)
    db.session.execute(
        update(ServiceTicket)
        .where(ServiceTicket.id == ticket.id)
        .values(opened_at=past - timedelta(hours=4), due_at=past)
    )
    db.session.commit()


def _listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', html)]


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# The list --------------------------------------------------------------------------------


def test_the_list_shows_the_viewers_scope_and_flags_overdue_tickets(
    client, login, org, make_customer
):
    mine = ticket_in(make_customer(org["m1"], name="本队客户"), "in_progress")
    late = open_ticket(make_customer(org["m2"], name="队友客户"))
    _overdue(late)
    theirs = open_ticket(make_customer(org["m3"], name="外队客户"))
    closed = ticket_in(make_customer(org["m1"]), "closed")

    login(client, org["m1"])
    assert _listed(client.get("/service/").get_data(as_text=True)) == [mine.id]
    login(client, org["sup1"])
    page = client.get("/service/").get_data(as_text=True)
    assert _listed(page) == [late.id, mine.id]  # by due time, the overdue one first
    assert "外队客户" not in page and theirs.id not in _listed(page)
    row = re.search(rf'<tr data-ticket-id="{late.id}"[^>]*>.*?</tr>', page, re.S)[0]
    assert "ticket-overdue" in row and "Overdue" in row
    assert "ticket-overdue" not in re.search(rf'<tr data-ticket-id="{mine.id}"[^>]*>', page)[0]
    everything = _listed(client.get("/service/?status=all").get_data(as_text=True))
    assert sorted(everything) == sorted([closed.id, late.id, mine.id])
    login(client, org["admin"])
    assert theirs.id in _listed(client.get("/service/").get_data(as_text=True))


def test_the_lists_filters(client, login, org, make_customer):
    one, two = make_customer(org["m1"]), make_customer(org["m2"])
    complaint = open_ticket(one, severity="critical", category="billing")
    request = open_ticket(two, kind="request", severity="low", category="installation")
    resolved = ticket_in(one, "resolved", severity="medium")
    _overdue(complaint)
    login(client, org["sup1"])

    def ids(query: str) -> set[int]:
        return set(_listed(client.get(f"/service/?{query}").get_data(as_text=True)))

    assert ids("") == {complaint.id, request.id, resolved.id}
    assert ids("status=resolved") == {resolved.id}
    assert ids("status=open") == {complaint.id, request.id}
    assert ids("overdue=1") == {complaint.id}
    assert ids("kind=request") == {request.id}
    assert ids("category=billing") == {complaint.id}
    assert ids("severity=low") == {request.id}
    assert ids(f"customer={one.id}") == {complaint.id, resolved.id}
    assert ids(f"owner={org['m2'].id}") == {request.id}
    assert ids("kind=nonsense&severity=9&status=x&sort=drop") == ids("")  # dropped, no error
    page = client.get(f"/service/?customer={one.id}").get_data(as_text=True)
    assert f'id="filter-customer-name">{one.name}</a>' in page
    assert f'href="/service/new?customer_id={one.id}"' in page


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("due", ["critical", "high", "low"]),
        ("-due", ["low", "high", "critical"]),
        ("severity", ["critical", "high", "low"]),
        ("-opened", ["low", "high", "critical"]),
    ],
)
def test_the_list_sorts(client, login, org, make_customer, sort, order):
    customer = make_customer(org["m1"])
    now = datetime.now(UTC)
    tickets = {
        severity: open_ticket(customer, severity=severity, now=now + timedelta(minutes=i))
        for i, severity in enumerate(("critical", "high", "low"))
    }
    login(client, org["m1"])
    listed = _listed(client.get(f"/service/?sort={sort}").get_data(as_text=True))
    assert listed == [tickets[severity].id for severity in order]


def test_the_list_goes_by_pages_and_its_statements_do_not_grow(
    app, client, login, org, make_customer, count_queries
):
    app.config["PAGE_SIZE"] = 5
    login(client, org["sup1"])
    counts = []
    for n in (2, 12):
        for _ in range(n):
            open_ticket(make_customer(org["m1"]))
        db.session.expire_all()
        with count_queries() as statements:
            page = client.get("/service/").get_data(as_text=True)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert len(_listed(page)) == 5
    assert "14 in all" in page
    third = client.get("/service/?page=3").get_data(as_text=True)
    assert len(_listed(third)) == 4
    assert client.get("/service/?page=99999999999").status_code == 200


def test_a_long_list_is_counted_up_to_a_bound_and_its_pages_give_every_ticket_once(
    app, client, login, org, make_customer, monkeypatch
):
    """An admin's list holds every team's tickets: counted a bound past the page."""
    from blueprints import paging

    monkeypatch.setattr(paging, "COUNT_AHEAD", 4)
    app.config["PAGE_SIZE"] = 3
    opened = [open_ticket(make_customer(org["m1" if i % 2 else "m3"])) for i in range(8)]
    login(client, org["admin"])
    first = client.get("/service/").get_data(as_text=True)
    assert "More than 4" in first and "in all" not in first
    pages = walk_pages(client, "/service/")
    seen = [ticket for page in pages for ticket in _listed(page)]
    assert sorted(seen) == sorted(ticket.id for ticket in opened) and len(seen) == 8
    assert "8 in all" in pages[-1]  # the last page counts to the end


# A new ticket ------------------------------------------------------------------------------


def test_a_new_ticket_from_the_customer_page(client, login, org, make_customer, make_contact):
    customer = make_customer(org["m1"], name="北辰能源集团有限公司")
    boss = make_contact(customer, name="王总")
    make_contact(customer, name="李工", active=False)  # left: not offered
    elsewhere = make_contact(make_customer(org["m1"]), name="别家联系人")
    login(client, org["m1"])
    panel = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f'href="/service/new?customer_id={customer.id}" id="new-ticket"' in panel

    form = client.get(f"/service/new?customer_id={customer.id}").get_data(as_text=True)
    assert "北辰能源集团有限公司" in form
    raised_by = re.search(r'<select[^>]*name="raised_by_id".*?</select>', form, re.S)[0]
    assert "王总" in raised_by and "李工" not in raised_by and "别家联系人" not in raised_by
    for name in ("kind", "category", "severity"):  # nothing chosen for the user
        options = re.search(rf'<select[^>]*name="{name}".*?</select>', form, re.S)[0]
        assert re.search(r'<option[^>]*selected[^>]*value="[^"]+"', options) is None, name
    handlers = re.search(r'<select[^>]*name="handler_id".*?</select>', form, re.S)[0]
    assert "M1" in handlers and "Sup1" in handlers and "M2" not in handlers

    data = {
        "kind": "complaint",
        "category": "network_quality",
        "severity": "high",
        "title": "总部专线中断",
        "description": "上午9点起中断",
        "raised_by_id": boss.id,
        "handler_id": org["m1"].id,
    }
    # A contact of another customer is refused, and nothing is saved.
    refused = client.post(
        f"/service/new?customer_id={customer.id}", data={**data, "raised_by_id": elsewhere.id}
    )
    assert refused.status_code == 400
    assert "Choose one of this customer" in refused.get_data(as_text=True)
    assert _count(ServiceTicket) == 0

    response = client.post(f"/service/new?customer_id={customer.id}", data=data)
    assert response.status_code == 302
    ticket = db.session.scalars(select(ServiceTicket)).one()
    assert response.location.endswith(f"/service/{ticket.id}")
    assert (ticket.customer_id, ticket.raised_by_id, ticket.handler_id, ticket.owner_id) == (
        customer.id,
        boss.id,
        org["m1"].id,
        org["m1"].id,
    )
    assert _count(TicketEvent, TicketEvent.ticket_id == ticket.id) == 1
    page = client.get(response.location).get_data(as_text=True)
    assert f"Ticket #{ticket.id} is open for 北辰能源集团有限公司" in page


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("kind", "Choose complaint or service request."),
        ("category", "Choose a category."),
        ("severity", "Choose the severity"),
        ("title", "Say what it is about."),
    ],
)
def test_a_new_ticket_needs_its_kind_category_severity_and_subject(
    client, login, org, make_customer, missing, message
):
    customer = make_customer(org["m1"])
    login(client, org["m1"])
    data = {"kind": "request", "category": "billing", "severity": "low", "title": "开票"}
    data[missing] = ""
    response = client.post(f"/service/new?customer_id={customer.id}", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(ServiceTicket) == 0


def test_without_a_customer_the_new_ticket_page_finds_one_first(client, login, org, make_customer):
    mine = make_customer(org["m1"], name="江城智慧交通集团")
    make_customer(org["m3"], name="江城外队集团")
    login(client, org["m1"])
    page = client.get("/service/new?q=江城").get_data(as_text=True)
    assert f'href="/service/new?customer_id={mine.id}"' in page
    assert "江城外队集团" not in page


# The customer page's panel ------------------------------------------------------------------


def test_the_customer_panel_counts_and_links_and_costs_one_statement(
    client, login, org, make_customer, count_queries
):
    customer = make_customer(org["m1"])
    login(client, org["m1"])

    def panel_and_statements():
        db.session.expire_all()
        with count_queries() as statements:
            page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
        return re.search(r'id="service-panel">.*?</section>', page, re.S)[0], len(statements)

    empty, before = panel_and_statements()
    assert "Not closed: 0" in empty and 'id="service-overdue"' not in empty
    late = open_ticket(customer)
    _overdue(late)
    ticket_in(customer, "in_progress")
    ticket_in(customer, "resolved")
    ticket_in(customer, "closed")
    panel, after = panel_and_statements()
    assert after == before, "the panel and the timeline's ticket entries cost one statement"
    assert "Not closed: 3" in panel
    assert (
        f'href="/service/?customer={customer.id}&amp;overdue=1" id="service-overdue">Overdue: 1'
        in panel
    )
    assert "To revisit: 1" in panel
    # Without the timeline's ticket entries the panel asks on its own, and counts the same.
    alone = client.get(f"/customers/{customer.id}?kinds=visit").get_data(as_text=True)
    assert "Not closed: 3" in alone and "Overdue: 1" in alone


# The homes -------------------------------------------------------------------------------------


def test_the_homes_count_overdue_tickets_and_link_the_list(client, login, org, make_customer):
    for owner in ("m1", "m1", "m2", "m3"):
        _overdue(open_ticket(make_customer(org[owner])))
    open_ticket(make_customer(org["m1"]))  # not due yet
    _overdue(ticket_in(make_customer(org["m1"]), "resolved"))  # resolved: not overdue

    def figure(user) -> tuple[str, int]:
        login(client, org[user])
        home = client.get("/").get_data(as_text=True)
        link = re.search(r'href="([^"]+)"\s+id="overdue-tickets">Overdue: (\d+)<', home)
        listed = _listed(client.get(link[1].replace("&amp;", "&")).get_data(as_text=True))
        assert len(listed) == int(link[2]), user
        return link[1], int(link[2])

    assert figure("m1") == ("/service/?overdue=1", 2)
    assert figure("m2")[1] == 1
    assert figure("sup1")[1] == 3
    assert figure("sup2")[1] == 1
    assert figure("admin")[1] == 4


# CSRF, merge and delete ----------------------------------------------------------------------


@pytest.fixture
def app_overrides(request):
    return {"WTF_CSRF_ENABLED": True} if "csrf" in request.node.name else {}


@pytest.mark.parametrize("action", ["start", "handler"])
def test_csrf_a_change_without_its_token_is_refused(client, login, org, make_customer, action):
    ticket = open_ticket(make_customer(org["m1"]))
    login(client, org["m1"])
    response = client.post(
        f"/service/{ticket.id}/{action}",
        data={"version": ticket.version, "handler_id": org["m1"].id},
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert reloaded(ticket).version == ticket.version and reloaded(ticket).status == "open"
    # With the token the page renders, the same change goes through.
    page = client.get(f"/service/{ticket.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    done = client.post(
        f"/service/{ticket.id}/{action}",
        data={"csrf_token": token, "version": ticket.version, "handler_id": org["m1"].id},
    )
    assert done.status_code == 302


def test_csrf_a_new_ticket_without_its_token_is_refused(client, login, org, make_customer):
    customer = make_customer(org["m1"])
    login(client, org["m1"])
    response = client.post(
        f"/service/new?customer_id={customer.id}",
        data={"kind": "request", "category": "billing", "severity": "low", "title": "开票"},
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert _count(ServiceTicket) == 0


def test_a_merge_moves_the_tickets_to_the_survivor(org, make_customer, make_contact):
    survivor, duplicate = make_customer(org["m1"]), make_customer(org["m1"])
    contact = make_contact(duplicate)
    ticket = ticket_in(duplicate, "resolved", raised_by_id=contact.id)
    merge_customers(survivor, duplicate, actor=org["admin"])
    db.session.commit()
    ticket = reloaded(ticket)
    assert ticket.customer_id == survivor.id
    assert db.session.get(Contact, ticket.raised_by_id).customer_id == survivor.id
    assert _count(TicketEvent, TicketEvent.ticket_id == ticket.id) == 3


def test_a_customer_with_tickets_cannot_be_deleted(client, login, org, make_customer):
    customer = make_customer(org["m1"])
    open_ticket(customer)
    login(client, org["admin"])
    response = client.post(f"/customers/{customer.id}/delete", data={"confirmed": "1"})
    assert response.status_code in (302, 400)
    assert db.session.get(Customer, customer.id) is not None
    assert _count(ServiceTicket) == 1


def test_the_demo_has_tickets_resolved_closed_open_and_overdue(app):
    from crm.services.demo.organisation import load_demo
    from crm.services.tickets import sla
    from models import Reminder, ReminderSource, TicketStatus, User

    load_demo()
    db.session.commit()
    by_status = dict(
        db.session.execute(
            select(ServiceTicket.status, func.count()).group_by(ServiceTicket.status)
        ).all()
    )
    assert set(by_status) == set(TicketStatus)
    closed = db.session.scalars(
        select(ServiceTicket).where(ServiceTicket.status == TicketStatus.CLOSED)
    ).all()
    assert all(1 <= t.satisfaction <= 5 for t in closed)
    assert {t.satisfaction for t in closed} >= {1, 5}
    assert _count(ServiceTicket, sla.overdue(datetime.now(UTC))) > 0
    # Every manager has a revisit to do and a ticket past its due time.
    for manager in db.session.scalars(select(User).where(User.username.like("manager%"))):
        mine = select(ServiceTicket).join(Customer).where(Customer.owner_id == manager.id)
        statuses = {t.status for t in db.session.scalars(mine)}
        assert TicketStatus.RESOLVED in statuses, manager.username
        assert db.session.scalars(mine.where(sla.overdue(datetime.now(UTC)))).first(), manager
    assert _count(Reminder, Reminder.source == ReminderSource.SERVICE) == by_status["resolved"]
    assert load_demo() and _count(ServiceTicket) == sum(by_status.values())  # twice: nothing added
