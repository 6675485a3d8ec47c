"""Contacts: reporting-line rules, leaving the company, stale edits, history, scope, list."""

from __future__ import annotations

import re

import pytest
from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from crm.extensions import db
from crm.services.archive import contacts as contact_service
from crm.services.errors import DomainError, NotFound, StaleEdit
from models import AuditAction, AuditEntry, BuyingRole, Contact
from tests.paging import walk_pages


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
    return make_customer(m1, name="华北钢铁有限公司")


@pytest.fixture
def m1_client(client, login, m1):
    return login(client, m1)


def _form(**values):
    data = {
        "name": "王五",
        "title": "",
        "department": "",
        "mobile": "",
        "office_phone": "",
        "email": "",
        "role": "user",
        "attitude": "neutral",
        "strength": "3",
        "reports_to_id": "0",
        "notes": "",
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


def _text(response) -> str:
    return response.get_data(as_text=True)


def _listed(client, query: str = "") -> set[str]:
    """Names of the contacts the /contacts/ list shows for a query string."""
    page = _text(client.get(f"/contacts/{query}"))
    return set(re.findall(r'href="/contacts/\d+">([^<]+)</a>', page))


# Reporting lines --------------------------------------------------------------


def test_a_contact_cannot_report_to_themselves(customer, m1, make_contact):
    boss = make_contact(customer, "张总")
    with pytest.raises(DomainError, match="cannot report to themselves") as refused:
        contact_service.update_contact(boss, actor=m1, version=boss.version, reports_to=boss)
    assert refused.value.field == "reports_to_id"
    db.session.rollback()
    assert db.session.get(Contact, boss.id).reports_to_id is None


def test_a_two_long_reporting_loop_is_refused(customer, m1, make_contact):
    boss = make_contact(customer, "张总")
    deputy = make_contact(customer, "李副总", reports_to=boss)
    with pytest.raises(DomainError, match="reporting loop"):
        contact_service.update_contact(boss, actor=m1, version=boss.version, reports_to=deputy.id)
    db.session.rollback()
    assert db.session.get(Contact, boss.id).reports_to_id is None


def test_a_three_long_reporting_loop_is_refused(customer, m1, make_contact):
    a = make_contact(customer, "A")
    b = make_contact(customer, "B", reports_to=a)
    c = make_contact(customer, "C", reports_to=b)
    with pytest.raises(DomainError, match="reporting loop"):
        contact_service.update_contact(a, actor=m1, version=a.version, reports_to=c)
    db.session.rollback()
    # Moving C under A directly is no loop: allowed.
    contact_service.update_contact(c, actor=m1, version=c.version, reports_to=a)
    db.session.commit()
    assert c.reports_to_id == a.id


def test_a_contact_of_another_customer_is_refused_as_manager(
    customer, m1, make_customer, make_contact
):
    sister = make_customer(m1, name="华北钢铁销售公司")  # in m1's scope too
    outsider = make_contact(sister, "外部经理")
    with pytest.raises(DomainError, match="same customer") as refused:
        contact_service.create_contact(customer, actor=m1, name="新人", reports_to=outsider)
    assert "外部经理" not in str(refused.value.message)
    db.session.rollback()
    assert db.session.scalar(select(Contact).where(Contact.name == "新人")) is None

    mine = make_contact(customer, "本公司员工")
    with pytest.raises(DomainError, match="same customer"):
        contact_service.update_contact(mine, actor=m1, version=mine.version, reports_to=outsider.id)


def test_the_form_refuses_a_manager_from_another_customer(
    m1_client, customer, m1, make_customer, make_contact
):
    outsider = make_contact(make_customer(m1), "外部经理")
    response = m1_client.post(
        f"/customers/{customer.id}/contacts/new", data=_form(reports_to_id=outsider.id)
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Contact).where(Contact.name == "王五")) is None


def test_someone_who_left_cannot_be_the_manager_of_a_new_contact(customer, m1, make_contact):
    gone = make_contact(customer, "离职总监", active=False)
    with pytest.raises(DomainError, match="has left the company"):
        contact_service.create_contact(customer, actor=m1, name="新人", reports_to=gone)


def test_strength_role_and_name_are_checked(customer, m1):
    with pytest.raises(DomainError, match="1 \\(weak\\) to 5") as refused:
        contact_service.create_contact(customer, actor=m1, name="X", strength=6)
    assert refused.value.field == "strength"
    with pytest.raises(DomainError, match="buying role"):
        contact_service.create_contact(customer, actor=m1, name="X", role="boss")
    with pytest.raises(DomainError, match="attitude"):
        contact_service.create_contact(customer, actor=m1, name="X", attitude="hostile")
    with pytest.raises(DomainError, match="needs a name"):
        contact_service.create_contact(customer, actor=m1, name="  ")


def test_the_service_refuses_an_actor_without_the_customer_in_scope(customer, org, make_contact):
    contact = make_contact(customer)
    with pytest.raises(NotFound):
        contact_service.create_contact(customer, actor=org["m3"], name="X")
    with pytest.raises(NotFound):
        contact_service.update_contact(contact, actor=org["m2"], version=1, name="Y")
    with pytest.raises(NotFound):
        contact_service.set_contact_active(contact, False, actor=org["sup2"])
    # The supervisor of the owner's team may.
    contact_service.set_contact_active(contact, False, actor=org["sup1"])
    assert contact.active is False


# Pages: add, edit, leave --------------------------------------------------------


def test_manager_adds_a_contact_reporting_to_a_colleague(m1_client, customer, make_contact):
    boss = make_contact(customer, "张总", role=BuyingRole.DECISION_MAKER)
    make_contact(customer, "已离职", active=False)
    form_page = _text(m1_client.get(f"/customers/{customer.id}/contacts/new"))
    assert "张总" in form_page and "已离职" not in form_page

    response = m1_client.post(
        f"/customers/{customer.id}/contacts/new",
        data=_form(
            name="李工",
            role="influencer",
            strength=4,
            mobile="138 0013 8000",
            reports_to_id=boss.id,
        ),
    )

    assert response.status_code == 302
    added = db.session.scalar(select(Contact).where(Contact.name == "李工"))
    assert (added.customer_id, added.reports_to_id, added.strength) == (customer.id, boss.id, 4)
    assert added.role is BuyingRole.INFLUENCER and added.mobile == "138 0013 8000"


def test_edit_offers_no_manager_below_or_equal_to_the_contact(m1_client, customer, make_contact):
    a = make_contact(customer, "Alpha")
    b = make_contact(customer, "Bravo", reports_to=a)
    c = make_contact(customer, "Charlie", reports_to=b)
    d = make_contact(customer, "Delta")
    page = _text(m1_client.get(f"/contacts/{b.id}/edit"))
    managers = page.split('name="reports_to_id"')[1].split("</select>")[0]
    offered = set(re.findall(r'<option[^>]*value="(\d+)"', managers))
    assert str(a.id) in offered and str(d.id) in offered
    assert str(b.id) not in offered and str(c.id) not in offered


def test_a_contact_who_left_is_kept_and_shown_as_inactive(app, m1_client, customer, make_contact):
    boss = make_contact(customer, "Boss", role=BuyingRole.DECISION_MAKER)
    leaver = make_contact(customer, "Aaron Leaver", reports_to=boss)

    response = m1_client.post(f"/contacts/{leaver.id}/deactivate", data={"confirmed": "1"})

    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Contact, leaver.id)
    assert kept is not None and kept.active is False and kept.reports_to_id == boss.id
    page = _text(m1_client.get(f"/contacts/{leaver.id}"))
    assert 'id="contact-inactive"' in page and "Left the company" in page
    assert _listed(m1_client, "?active=0") == {"Aaron Leaver"}
    assert _listed(m1_client, "?active=1") == {"Boss"}
    # On the customer page's contact box: greyed, after the active contacts.
    customer = kept.customer
    with app.test_request_context():
        box = render_template("contacts/_customer_contacts.html", customer=customer)
    rows = re.findall(r'<tr class="([^"]*)" data-contact-id="(\d+)"', box)
    assert rows == [("", str(boss.id)), ("contact-inactive", str(leaver.id))]

    m1_client.post(f"/contacts/{leaver.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(Contact, leaver.id).active is True


def test_customer_box_lists_decision_makers_first_with_role_attitude_strength_and_phone(
    app, customer, make_contact
):
    boss = make_contact(customer, "Zhang", role=BuyingRole.DECISION_MAKER, strength=4)
    aide = make_contact(customer, "Abel", mobile="13800138000", reports_to=boss)
    db.session.expire_all()
    with app.test_request_context():
        box = render_template("contacts/_customer_contacts.html", customer=customer)
    order = re.findall(r'<tr class="[^"]*" data-contact-id="(\d+)"', box)
    assert order == [str(boss.id), str(aide.id)]
    assert 'data-role="decision_maker"' in box and 'data-strength="4"' in box
    assert "●●●●○" in box and 'href="tel:13800138000"' in box
    assert (
        f"/customers/{customer.id}/map" in box and f"/customers/{customer.id}/contacts/new" in box
    )


# Stale edits -------------------------------------------------------------------


def test_second_edit_from_the_same_version_is_refused_and_nothing_is_lost(
    m1_client, customer, make_contact
):
    contact = make_contact(customer, "Old Name", title="CIO")
    version = contact.version

    first = m1_client.post(
        f"/contacts/{contact.id}/edit",
        data=_form(name="First Save", title="CIO", version=version),
    )
    second = m1_client.post(
        f"/contacts/{contact.id}/edit",
        data=_form(name="Second Save", title="CTO", version=version),
    )

    assert first.status_code == 302
    assert second.status_code == 409
    page = _text(second)
    assert 'id="stale-edit"' in page
    current = page.split('id="current-values"')[1].split("</dl>")[0]
    assert "First Save" in current  # the stored values, beside...
    assert 'value="Second Save"' in page  # ...the user's unsaved input
    db.session.expire_all()
    stored = db.session.get(Contact, contact.id)
    assert (stored.name, stored.title) == ("First Save", "CIO")
    # The form now carries the current version: saving again is a deliberate overwrite.
    assert f'name="version" type="hidden" value="{stored.version}"' in page


def test_the_service_refuses_a_stale_version(customer, m1, make_contact):
    contact = make_contact(customer, "X")
    contact_service.update_contact(contact, actor=m1, version=contact.version, title="A")
    db.session.commit()
    with pytest.raises(StaleEdit) as refused:
        contact_service.update_contact(contact, actor=m1, version=contact.version - 1, title="B")
    assert refused.value.current is contact and contact.title == "A"
    for garbled in (None, "", "x1", "²", "9" * 30):  # "²" passes str.isdigit(), not int()
        with pytest.raises(StaleEdit):
            contact_service.update_contact(contact, actor=m1, version=garbled, title="C")


# History -----------------------------------------------------------------------


def test_create_change_and_leave_write_audit_entries(m1_client, customer, m1, make_contact):
    boss = make_contact(customer, "Boss")
    contact = contact_service.create_contact(
        customer, actor=m1, name="Wang", role="influencer", strength=2
    )
    db.session.commit()
    contact_service.update_contact(
        contact, actor=m1, version=contact.version, strength=5, reports_to=boss
    )
    db.session.commit()
    contact_service.update_contact(contact, actor=m1, version=contact.version, strength=5)
    contact_service.set_contact_active(contact, False, actor=m1)
    db.session.commit()

    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "contacts", AuditEntry.entity_id == contact.id)
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.UPDATE,
    ]
    assert {e.customer_id for e in entries} == {customer.id}
    assert {e.actor_id for e in entries} == {m1.id}
    assert entries[0].changes["role"] == "influencer" and entries[0].changes["strength"] == 2
    assert entries[1].changes == {"strength": [2, 5], "reports_to_id": [None, boss.id]}
    assert entries[2].changes == {"active": [True, False]}

    page = _text(m1_client.get(f"/contacts/{contact.id}"))
    history = page.split('id="contact-history"')[1]
    assert history.count("<tr data-action=") == 3
    assert "Relationship strength" in history and "Boss" in history


# Scope and the list --------------------------------------------------------------


def test_out_of_scope_contacts_never_appear_and_answer_404(
    m1_client, customer, org, make_customer, make_contact
):
    mine = make_contact(customer, "Mine Person", mobile="13911112222")
    theirs = make_contact(
        make_customer(org["m3"], name="别人的客户"),
        "Their Person",
        mobile="13911113333",
        office_phone="010-66668888",
    )
    for query in (
        "",
        "?q=Person",
        "?q=139111",
        "?q=13911113333",
        "?q=66668888",
        "?q=别人的客户",
        "?role=contact_person",
        "?active=1",
    ):
        shown = _listed(m1_client, query)
        assert "Their Person" not in shown, query
    assert _listed(m1_client, "?q=139") == {"Mine Person"}
    assert _listed(m1_client, "?q=139 1111 2222") == {"Mine Person"}
    for url in (f"/contacts/{theirs.id}", f"/contacts/{theirs.id}/edit"):
        assert m1_client.get(url).status_code == 404
    assert m1_client.post(f"/contacts/{theirs.id}/deactivate").status_code == 404
    assert db.session.get(Contact, theirs.id).active is True
    assert m1_client.get(f"/contacts/{mine.id}").status_code == 200


def test_list_searches_by_name_phone_and_customer_and_filters_by_role(
    m1_client, customer, m1, make_customer, make_contact
):
    make_contact(customer, "Decider", role=BuyingRole.DECISION_MAKER, office_phone="01088886666")
    make_contact(customer, "Helper", role=BuyingRole.USER, mobile="13700001111")
    make_contact(make_customer(m1, name="Other Works"), "Outsider")

    def names(query):
        return _listed(m1_client, query)

    assert names("?q=decid") == {"Decider"}
    assert names("?q=8888") == {"Decider"}
    assert names("?q=1370000") == {"Helper"}
    assert names("?q=Other Works") == {"Outsider"}
    # Case aside for Latin letters (ILIKE); a query with no letter that has a case (Chinese)
    # is read with LIKE, which means the same (crm/services/filters.py contains_any_case).
    assert names("?q=oTHER wORKS") == {"Outsider"}
    make_contact(make_customer(m1, name="东湖精密制造"), "王精密")
    assert names("?q=精密") == {"王精密"}
    assert names("?q=湖精") == {"王精密"}  # the customer's name
    assert names("?role=user") == {"Helper"}
    assert names("?role=nonsense") == {"Decider", "Helper", "Outsider", "王精密"}
    page = _text(m1_client.get("/contacts/?q=help&role=user"))
    assert 'value="help"' in page  # the filter stays in the form, so the URL is shareable


def test_contact_list_statement_count_does_not_grow(m1_client, m1, make_customer, count_queries):
    customer = make_customer(m1)
    counts = {}
    for total in (5, 50):
        existing = db.session.query(Contact).filter(Contact.name.like("Staff%")).count()
        for i in range(existing, total):
            # Each listed contact has its own manager, who is not on the page.
            lead = Contact(customer=customer, name=f"Lead {i:02}", role=BuyingRole.DECISION_MAKER)
            db.session.add(Contact(customer=customer, name=f"Staff {i:02}", reports_to=lead))
        db.session.commit()
        db.session.expire_all()
        with count_queries() as statements:
            response = m1_client.get("/contacts/?q=Staff")
        assert response.status_code == 200
        assert _text(response).count("data-contact-id=") == total
        assert "Lead 00" in _text(response) and f"Lead {total - 1:02}" in _text(response)
        counts[total] = len(statements)
    assert counts[5] == counts[50]


def test_a_long_contact_list_is_counted_up_to_a_bound_and_paged_to_the_end(
    app, client, login, org, make_customer, make_contact, monkeypatch
):
    """An admin's search over every team: counted a bound past the page; the pages give
    every match once, and the last one counts to the end."""
    from blueprints import paging

    monkeypatch.setattr(paging, "COUNT_AHEAD", 4)
    app.config["PAGE_SIZE"] = 3
    made = [
        make_contact(make_customer(org["m1" if i % 2 else "m3"]), f"Buyer {i}") for i in range(8)
    ]
    make_contact(make_customer(org["m1"]), "Someone else")
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    first = _text(client.get("/contacts/?q=Buyer"))
    assert "More than 4" in first and "in all" not in first
    pages = walk_pages(client, "/contacts/?q=Buyer")
    seen = [int(i) for page in pages for i in re.findall(r'data-contact-id="(\d+)"', page)]
    assert sorted(seen) == sorted(contact.id for contact in made)
    assert "8 in all" in pages[-1]
