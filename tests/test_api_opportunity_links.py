"""An opportunity's contacts, competitors and stage history over the API: what a manager does
on the opportunity's page, through the same service (crm/services/pipeline/links.py), in
the same scope, with idempotent creates and read-only tokens refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import (
    BuyingRole,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityHistory,
    TokenScope,
)
from tests.api_support import as_user, problem_of

URL = "/api/v1/opportunities/"


def _links(model=OpportunityContact) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


def _walk(client, url: str, headers, limit: int = 1) -> list[dict]:
    """Every item of a list, a page of `limit` at a time, following next_cursor."""
    items, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url + query, headers=headers)
        assert response.status_code == 200, response.get_json()
        items += response.get_json()["items"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return items


# Contacts -----------------------------------------------------------------------------------


def test_contacts_are_put_on_listed_as_the_page_lists_them_and_taken_off(
    client, org, m1, make_customer, make_opportunity, make_contact
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    user = make_contact(customer, name="乙用户", role=BuyingRole.USER, title="运维")
    boss = make_contact(customer, name="甲总", role=BuyingRole.DECISION_MAKER)
    gatekeeper = make_contact(customer, name="丙联络", role=BuyingRole.CONTACT_PERSON)
    base = f"{URL}{opportunity.id}/contacts"

    added = client.post(base, json={"contact_id": user.id}, headers=m1)
    assert added.status_code == 201, added.get_json()
    # Their role at the customer by default, as the page's form.
    assert added.get_json() == {
        "contact_id": user.id,
        "name": "乙用户",
        "title": "运维",
        "role": "user",
        "is_primary": False,
        "active": True,
    }
    client.post(base, json={"contact_id": boss.id}, headers=m1)
    # Primary, with a role on this opportunity other than theirs at the customer.
    primary = client.post(
        base,
        json={"contact_id": gatekeeper.id, "role": "influencer", "is_primary": True},
        headers=m1,
    )
    assert primary.get_json()["role"] == "influencer" and primary.get_json()["is_primary"]

    # The page's order: primary first, then by role (decision makers first), then name.
    listed = _walk(client, base, m1)
    assert [item["contact_id"] for item in listed] == [gatekeeper.id, boss.id, user.id]

    assert client.delete(f"{base}/{boss.id}", headers=m1).status_code == 204
    assert [item["name"] for item in _walk(client, base, m1, limit=50)] == ["丙联络", "乙用户"]
    assert _links() == 2
    db.session.refresh(boss)
    assert boss.active  # the contact stays with the customer


def test_a_contact_of_another_customer_is_refused_as_on_the_web(
    client, app, login, org, m1, make_customer, make_opportunity, make_contact
):
    """The web offers the customer's own contacts; the service refuses another customer's,
    and the API meets that rule: a 422 on the field, in the owner's language, nothing linked."""
    opportunity = make_opportunity(make_customer(org["m1"]))
    elsewhere = make_contact(make_customer(org["m1"], name="另一个客户"))  # m1's too: in scope
    problem = problem_of(
        client.post(
            f"{URL}{opportunity.id}/contacts", json={"contact_id": elsewhere.id}, headers=m1
        ),
        422,
    )
    assert problem["errors"] == [
        {"field": "contact_id", "location": "json", "message": "请选择该客户的联系人。"}
    ]
    web = app.test_client()
    login(web, org["m1"])
    page = web.post(
        f"/opportunities/{opportunity.id}/contacts", data={"contact_id": elsewhere.id, "role": ""}
    )
    assert page.status_code == 400
    assert _links() == 0


def test_a_contact_who_left_or_is_on_it_already_is_refused_with_the_services_words(
    client, org, m1, make_customer, make_opportunity, make_contact
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    left = make_contact(customer, active=False)
    on_it = make_contact(customer)
    base = f"{URL}{opportunity.id}/contacts"
    assert client.post(base, json={"contact_id": on_it.id}, headers=m1).status_code == 201
    for contact, message in ((left, "该联系人已离开该客户。"), (on_it, "该联系人已在此商机中。")):
        problem = problem_of(client.post(base, json={"contact_id": contact.id}, headers=m1), 422)
        assert problem["detail"] == message
    assert _links() == 1


def test_taking_off_a_contact_not_on_it_is_refused_with_the_pages_message(
    client, app, login, org, m1, make_customer, make_opportunity, make_contact
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    contact = make_contact(customer)
    problem = problem_of(
        client.delete(f"{URL}{opportunity.id}/contacts/{contact.id}", headers=m1), 422
    )
    assert problem["errors"] == [
        {"field": "contact_id", "location": "path", "message": "该联系人不在此商机中。"}
    ]
    web = app.test_client()
    login(web, org["m1"])
    web.post(
        f"/opportunities/{opportunity.id}/contacts/remove",
        data={"contact_id": contact.id, "confirmed": "1"},
    )
    assert problem["detail"] in web.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)


def test_another_teams_opportunity_or_contact_is_not_found(
    client, org, m1, make_customer, make_opportunity, make_contact
):
    ours = make_opportunity(make_customer(org["m1"]))
    their_customer = make_customer(org["m3"])
    theirs = make_opportunity(their_customer)
    their_contact = make_contact(their_customer, name="外队联系人")
    db.session.add(OpportunityContact(opportunity=theirs, contact=their_contact, role="user"))
    db.session.commit()

    for method, url, body in (
        ("GET", f"{URL}{theirs.id}/contacts", None),
        ("GET", f"{URL}{theirs.id}/competitors", None),
        ("GET", f"{URL}{theirs.id}/history", None),
        ("DELETE", f"{URL}{theirs.id}/contacts/{their_contact.id}", None),
        # Their contact named for our opportunity: not found, as their opportunity is.
        ("POST", f"{URL}{ours.id}/contacts", {"contact_id": their_contact.id}),
    ):
        problem = problem_of(client.open(url, method=method, json=body, headers=m1), 404)
        assert "外队联系人" not in str(problem)
    assert _links() == 1
    # Their supervisor sees them.
    sup2 = as_user(org["sup2"])
    assert [i["name"] for i in _walk(client, f"{URL}{theirs.id}/contacts", sup2)] == ["外队联系人"]


def test_a_read_only_token_reads_but_cannot_put_on_or_take_off(
    client, org, make_customer, make_opportunity, make_contact, make_competitor
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    on_it, other = make_contact(customer), make_contact(customer)
    rival = make_competitor()
    db.session.add(OpportunityContact(opportunity=opportunity, contact=on_it, role="user"))
    db.session.add(OpportunityCompetitor(opportunity=opportunity, competitor=rival))
    db.session.commit()
    reader = as_user(org["m1"], TokenScope.READ)
    base = f"{URL}{opportunity.id}"

    assert client.get(base + "/contacts", headers=reader).status_code == 200
    assert client.get(base + "/competitors", headers=reader).status_code == 200
    assert client.get(base + "/history", headers=reader).status_code == 200
    for method, url, body in (
        ("POST", base + "/contacts", {"contact_id": other.id}),
        ("DELETE", f"{base}/contacts/{on_it.id}", None),
        ("POST", base + "/competitors", {"competitor_id": make_competitor().id}),
        ("DELETE", f"{base}/competitors/{rival.id}", None),
    ):
        problem_of(client.open(url, method=method, json=body, headers=reader), 403)
    assert _links() == 1 and _links(OpportunityCompetitor) == 1


def test_a_retried_post_with_the_same_key_puts_on_once(
    client, org, m1, make_customer, make_opportunity, make_contact, make_competitor
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    for path, body, model in (
        ("contacts", {"contact_id": make_contact(customer).id}, OpportunityContact),
        (
            "competitors",
            {"competitor_id": make_competitor().id, "offer": "八折"},
            OpportunityCompetitor,
        ),
    ):
        headers = {**m1, "Idempotency-Key": f"retry-{path}"}
        first = client.post(f"{URL}{opportunity.id}/{path}", json=body, headers=headers)
        again = client.post(f"{URL}{opportunity.id}/{path}", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
        assert _links(model) == 1
        # Without the key, a second one is the service's refusal: already on it.
        problem_of(client.post(f"{URL}{opportunity.id}/{path}", json=body, headers=m1), 422)


# Competitors --------------------------------------------------------------------------------


def test_competitors_bid_with_their_offer_and_the_registrys_rules_hold(
    client, org, m1, make_customer, make_opportunity, make_competitor
):
    opportunity = make_opportunity(make_customer(org["m1"]))
    base = f"{URL}{opportunity.id}/competitors"
    first, second = make_competitor(name="某移动"), make_competitor(name="某联通")
    retired = make_competitor(name="已停用", active=False)

    added = client.post(
        base, json={"competitor_id": first.id, "offer": " 八折\n免安装费 "}, headers=m1
    )
    assert added.get_json() == {
        "competitor_id": first.id,
        "name": "某移动",
        "offer": "八折\n免安装费",  # trimmed by the service, as on the page
        "active": True,
    }
    client.post(base, json={"competitor_id": second.id}, headers=m1)
    assert [(i["name"], i["offer"]) for i in _walk(client, base, m1)] == [
        ("某移动", "八折\n免安装费"),
        ("某联通", None),
    ]

    refused = problem_of(client.post(base, json={"competitor_id": retired.id}, headers=m1), 422)
    assert refused["detail"] == "该竞争对手已从竞争对手库中停用。"
    unknown = problem_of(client.post(base, json={"competitor_id": 999999}, headers=m1), 422)
    assert unknown["errors"][0]["field"] == "competitor_id"

    assert client.delete(f"{base}/{first.id}", headers=m1).status_code == 204
    gone = problem_of(client.delete(f"{base}/{first.id}", headers=m1), 422)
    assert gone["errors"][0] == {
        "field": "competitor_id",
        "location": "path",
        "message": gone["detail"],
    }
    assert [i["name"] for i in _walk(client, base, m1)] == ["某联通"]


# Stage history ------------------------------------------------------------------------------


def test_the_stage_history_is_listed_newest_first_with_what_each_row_changed(
    client, org, m1, make_customer, stages
):
    customer = make_customer(org["m1"])
    created = client.post(URL, json={"customer_id": customer.id, "title": "专线"}, headers=m1)
    opportunity = created.get_json()
    base = f"{URL}{opportunity['id']}"
    moved = client.post(
        base + "/stage", json={"stage_id": stages["Needs discovery"].id}, headers=m1
    )
    client.patch(
        base, json={"amount": "120000.50", "version": moved.get_json()["version"]}, headers=m1
    )

    rows = _walk(client, base + "/history", m1)
    assert len(rows) == 3
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    latest, move, first = rows
    assert latest["amount"] == "120000.50" and latest["actor_id"] == org["m1"].id
    assert latest["changes"] == [{"field": "amount", "old": None, "new": "120000.50"}]
    assert move["stage_id"] == stages["Needs discovery"].id and move["status"] == "open"
    assert {"field": "stage_id", "old": stages["Initial contact"].id, "new": move["stage_id"]} in (
        move["changes"]
    )
    assert first["changes"] == [] and first["at"].endswith("Z")


def test_a_page_of_contacts_or_history_takes_a_fixed_number_of_statements(
    client, org, m1, make_customer, make_opportunity, make_contact, count_queries
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)

    def add(count: int) -> None:
        for _ in range(count):
            contact = make_contact(customer)
            db.session.add(
                OpportunityContact(opportunity=opportunity, contact=contact, role="user")
            )
            db.session.add(
                OpportunityHistory(
                    opportunity=opportunity,
                    stage_id=opportunity.stage_id,
                    status=opportunity.status,
                    probability=opportunity.probability,
                    changes={},
                )
            )
        db.session.commit()

    for path in ("contacts", "history"):
        client.get(f"{URL}{opportunity.id}/{path}", headers=m1)  # the token's use recorded
    add(2)
    counts = {}
    for size in (2, 22):
        if size == 22:
            add(20)
        for path in ("contacts", "history"):
            with count_queries() as statements:
                items = client.get(f"{URL}{opportunity.id}/{path}", headers=m1).get_json()["items"]
            assert len(items) == size
            counts.setdefault(path, set()).add(len(statements))
    assert all(len(seen) == 1 for seen in counts.values()), counts
