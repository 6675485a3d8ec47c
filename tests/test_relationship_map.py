"""The relationship map: the org chart by reports-to, with role, attitude and strength."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale

from crm.extensions import db
from crm.services.archive import contacts as contact_service
from models import Attitude, BuyingRole, Contact


class OrgChart(HTMLParser):
    """Read the map's nested <li data-contact-id> items back into (id, [children]) trees."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[tuple[int, list]] = []
        self.stack: list[tuple[int, list]] = []
        self.open_li: list[bool] = []  # per open <li>: is it a contact node?
        self.facts: dict[int, dict[str, str]] = {}
        self.in_tree = False
        self.lists = 0  # <ul> depth inside the chart; back to 0 when the chart ends

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") == "org-tree":
            self.in_tree = True
        if not self.in_tree:
            return
        if tag == "ul":
            self.lists += 1
        elif tag == "li":
            is_node = "data-contact-id" in attrs
            self.open_li.append(is_node)
            if is_node:
                node = (int(attrs["data-contact-id"]), [])
                (self.stack[-1][1] if self.stack else self.roots).append(node)
                self.stack.append(node)
        elif self.stack:
            facts = self.facts.setdefault(self.stack[-1][0], {})
            for key in ("data-role", "data-attitude", "data-strength"):
                if key in attrs:
                    facts.setdefault(key, attrs[key])

    def handle_endtag(self, tag):
        if not self.in_tree:
            return
        if tag == "li" and self.open_li and self.open_li.pop():
            self.stack.pop()
        elif tag == "ul":
            self.lists -= 1
            self.in_tree = self.lists > 0


def chart(html: str) -> OrgChart:
    parser = OrgChart()
    parser.feed(html)
    return parser


@pytest.fixture(autouse=True)
def english(app):
    """Service messages are lazy strings: read them in English (the default locale is zh_CN)."""
    with force_locale("en"):
        yield


@pytest.fixture
def m1(org):
    org["m1"].locale = "en"
    db.session.commit()
    return org["m1"]


@pytest.fixture
def customer(m1, make_customer):
    return make_customer(m1, name="东方航空物流有限公司")


@pytest.fixture
def m1_client(client, login, m1):
    return login(client, m1)


def _map(client, customer):
    response = client.get(f"/customers/{customer.id}/map")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_map_nests_contacts_by_reports_to_decision_makers_first(m1_client, customer, make_contact):
    ceo = make_contact(
        customer,
        "Zhou CEO",
        role=BuyingRole.DECISION_MAKER,
        attitude=Attitude.SUPPORTER,
        strength=5,
    )
    cio = make_contact(
        customer, "Chen CIO", role=BuyingRole.INFLUENCER, attitude=Attitude.OPPONENT, reports_to=ceo
    )
    cfo = make_contact(customer, "Bai CFO", role=BuyingRole.INFLUENCER, reports_to=ceo)
    it = make_contact(customer, "Li IT", role=BuyingRole.USER, strength=1, reports_to=cio)
    gate = make_contact(customer, "An Gate", role=BuyingRole.CONTACT_PERSON)
    gone = make_contact(customer, "Gone Boss", active=False)
    orphan = make_contact(customer, "Orphan", reports_to=gone)  # manager left: a root now

    page = _map(m1_client, customer)
    parsed = chart(page)

    # Roots: the decision maker first, then by name; children by name.
    assert parsed.roots == [
        (ceo.id, [(cfo.id, []), (cio.id, [(it.id, [])])]),
        (gate.id, []),
        (orphan.id, []),
    ]
    assert parsed.facts[ceo.id] == {
        "data-role": "decision_maker",
        "data-attitude": "supporter",
        "data-strength": "5",
    }
    assert parsed.facts[cio.id]["data-attitude"] == "opponent"
    assert parsed.facts[it.id] == {
        "data-role": "user",
        "data-attitude": "neutral",
        "data-strength": "1",
    }
    # Attitude and role carry text, not colour alone; strength reads as dots.
    assert "Opponent" in page and "Supporter" in page and "Decision maker" in page
    assert "●●●●●" in page and "●○○○○" in page
    # The one who left is listed apart, not in the chart.
    assert gone.id not in parsed.facts
    assert "Gone Boss" in page.split('id="former-contacts"')[1]
    assert 'id="no-decision-maker"' not in page
    assert 'id="map-legend"' in page


def test_map_warns_when_no_active_decision_maker(m1_client, customer, make_contact):
    make_contact(customer, "Ex Boss", role=BuyingRole.DECISION_MAKER, active=False)
    make_contact(customer, "Gatekeeper", role=BuyingRole.CONTACT_PERSON)
    page = _map(m1_client, customer)
    assert 'id="no-decision-maker"' in page and "No decision maker" in page


def test_map_is_css_only_and_printable(m1_client, customer, make_contact):
    make_contact(customer, "Someone")
    page = _map(m1_client, customer)
    assert re.search(r"css/relationship-map\.[0-9a-f]{8}\.css", page)  # fingerprinted
    assert " style=" not in page and "<script>" not in page
    assert "d-print-none" in page


def test_map_of_an_out_of_scope_customer_is_404(
    client, login, org, customer, make_customer, make_contact
):
    make_contact(customer, "Secret")
    for persona in ("m2", "m3", "sup2"):
        login(client, org[persona])
        assert client.get(f"/customers/{customer.id}/map").status_code == 404
    login(client, org["sup1"])
    assert client.get(f"/customers/{customer.id}/map").status_code == 200


def test_relationship_tree_is_one_query_and_survives_an_old_loop(
    customer, make_contact, count_queries
):
    a = make_contact(customer, "A")
    b = make_contact(customer, "B", reports_to=a)
    # A loop written around the service (e.g. by an old import): the map must still show it.
    a.reports_to = b
    db.session.commit()
    db.session.expire_all()
    assert customer.name  # loads the customer, as the view has done before
    with count_queries() as statements:
        tree = contact_service.relationship_tree(customer)
    assert len(statements) == 1
    assert [n.contact.name for n in tree] == ["A"]
    assert [n.contact.name for n in tree[0].reports] == ["B"]


def test_map_statement_count_does_not_grow(m1_client, m1, customer, count_queries):
    boss = Contact(customer=customer, name="Boss", role=BuyingRole.DECISION_MAKER)
    db.session.add(boss)
    counts = {}
    for total in (5, 50):
        existing = db.session.query(Contact).count()
        managers = [boss, *db.session.query(Contact).filter(Contact.name.like("P%")).all()]
        db.session.add_all(
            Contact(customer=customer, name=f"P{i:02}", reports_to=managers[i % len(managers)])
            for i in range(existing, total)
        )
        db.session.commit()
        db.session.expire_all()
        with count_queries() as statements:
            page = _map(m1_client, customer)
        assert len(chart(page).facts) == total
        counts[total] = len(statements)
    assert counts[5] == counts[50]
