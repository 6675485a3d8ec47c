"""Opportunities over the API: the web list's filters in scope, the lifecycle's rules from
the same service as the web's forms, idempotent creates, stale versions, read-only tokens,
and ids of other teams' records refused in the path, the query and the body."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import LostReason, Opportunity, OpportunityStatus, TokenScope
from tests.api_support import as_user, problem_of

URL = "/api/v1/opportunities/"


def _count() -> int:
    return db.session.scalar(select(func.count(Opportunity.id)))


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


# Reading ----------------------------------------------------------------------------


def test_each_persona_lists_the_opportunities_of_its_scope(
    client, org, make_customer, make_opportunity
):
    mine = make_opportunity(make_customer(org["m1"]))
    teammate = make_opportunity(make_customer(org["m2"]))
    other = make_opportunity(make_customer(org["m3"]))
    assert set(_ids(client.get(URL, headers=as_user(org["m1"])))) == {mine.id}
    assert set(_ids(client.get(URL, headers=as_user(org["sup1"])))) == {mine.id, teammate.id}
    assert set(_ids(client.get(URL, headers=as_user(org["admin"])))) == {
        mine.id,
        teammate.id,
        other.id,
    }


def test_the_web_lists_filters_narrow_the_list(client, org, m1, make_customer, make_opportunity):
    customer = make_customer(org["m1"], name="星河银行")
    open_one = make_opportunity(customer, title="专线扩容")
    won = make_opportunity(customer, stage="Contract", status=OpportunityStatus.WON)
    lost = make_opportunity(customer, status=OpportunityStatus.LOST, lost_reason=LostReason.PRICE)
    later = make_opportunity(make_customer(org["m1"]), stage="Proposal")
    # Absent status: the live pipeline (open and won), as the web list's default.
    assert set(_ids(client.get(URL, headers=m1))) == {open_one.id, won.id, later.id}
    assert _ids(client.get(URL + "?status=lost&lost_reason=price", headers=m1)) == [lost.id]
    assert _ids(client.get(URL + "?q=专线", headers=m1)) == [open_one.id]
    assert set(_ids(client.get(URL + f"?customer_id={customer.id}", headers=m1))) == {
        open_one.id,
        won.id,
    }
    assert _ids(client.get(URL + f"?stage={later.stage_id}", headers=m1)) == [later.id]


def test_pages_follow_each_other_without_repeats_in_every_order(
    client, org, m1, make_customer, make_opportunity
):
    customer = make_customer(org["m1"])
    made = {
        make_opportunity(customer, amount=amount).id
        for amount in (Decimal(500), None, Decimal(500), Decimal(90), None)
    }
    for sort in ("updated", "amount", "close", "stage"):
        seen, cursor = [], None
        while True:
            query = f"?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(URL + query, headers=m1).get_json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(made), sort  # each once
    amounts = [
        item["amount"] for item in client.get(URL + "?sort=amount", headers=m1).get_json()["items"]
    ]
    assert amounts == ["500.00", "500.00", "90.00", None, None]  # the web's order: empty last


def test_a_record_of_another_team_is_not_found(client, org, m1, make_customer, make_opportunity):
    theirs = make_opportunity(make_customer(org["m3"]))
    problem_of(client.get(f"{URL}{theirs.id}", headers=m1), 404)
    assert client.get(f"{URL}{theirs.id}", headers=as_user(org["sup2"])).status_code == 200


def test_ids_of_other_teams_in_the_query_are_not_found(client, org, m1, make_customer):
    theirs = make_customer(org["m3"])
    problem_of(client.get(f"{URL}?customer_id={theirs.id}", headers=m1), 404)
    problem_of(client.get(f"{URL}?owner={org['m3'].id}", headers=as_user(org["sup1"])), 404)
    problem_of(client.get(f"{URL}?team={org['team2'].id}", headers=as_user(org["sup1"])), 404)


def test_the_team_filter_is_an_administrators_as_on_the_web(
    client, org, make_customer, make_opportunity
):
    ours = make_opportunity(make_customer(org["m1"]))
    make_opportunity(make_customer(org["m3"]))
    body = problem_of(
        client.get(f"{URL}?team={org['team1'].id}", headers=as_user(org["sup1"])), 422
    )
    assert body["errors"][0]["field"] == "team" and body["errors"][0]["location"] == "query"
    admin = as_user(org["admin"])
    assert _ids(client.get(f"{URL}?team={org['team1'].id}", headers=admin)) == [ours.id]


# Creating ---------------------------------------------------------------------------


def test_a_retried_create_with_the_same_key_creates_once(client, org, m1, make_customer):
    customer = make_customer(org["m1"])
    body = {"customer_id": customer.id, "title": "云专线", "amount": "1200000"}
    headers = {**m1, "Idempotency-Key": "8a1c0f1e-opportunity"}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json() and _count() == 1
    made = db.session.get(Opportunity, first.get_json()["id"])
    assert made.owner_id == org["m1"].id and made.stage.name_en == "Initial contact"
    assert first.headers["Location"].endswith(f"/api/v1/opportunities/{made.id}")


def test_a_create_for_another_teams_customer_is_not_found_and_makes_nothing(
    client, org, m1, make_customer
):
    theirs = make_customer(org["m3"])
    problem_of(client.post(URL, json={"customer_id": theirs.id, "title": "x"}, headers=m1), 404)
    assert _count() == 0


def test_a_read_only_token_cannot_create_or_change(client, org, make_customer, make_opportunity):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    reader = as_user(org["m1"], TokenScope.READ)
    problem_of(
        client.post(URL, json={"customer_id": customer.id, "title": "x"}, headers=reader), 403
    )
    problem_of(
        client.patch(f"{URL}{opportunity.id}", json={"version": 1, "title": "y"}, headers=reader),
        403,
    )
    stage_url = f"{URL}{opportunity.id}/stage"
    problem_of(client.post(stage_url, json={"stage_id": 2}, headers=reader), 403)
    db.session.refresh(opportunity)
    assert _count() == 1 and opportunity.title != "y" and opportunity.stage_id == 1


def test_a_new_one_starts_in_pre_sale_as_on_the_web_form(client, org, m1, make_customer, stages):
    customer = make_customer(org["m1"])
    body = {"customer_id": customer.id, "title": "x", "stage_id": stages["Trial"].id}
    problem = problem_of(client.post(URL, json=body, headers=m1), 422)
    assert problem["errors"][0]["field"] == "stage_id"
    assert _count() == 0


# Changing ---------------------------------------------------------------------------


def test_a_stale_version_is_refused_with_the_stored_record(
    client, org, m1, make_customer, make_opportunity
):
    opportunity = make_opportunity(make_customer(org["m1"]), title="原名")
    url = f"{URL}{opportunity.id}"
    assert client.patch(url, json={"version": 1, "title": "新名"}, headers=m1).status_code == 200
    problem = problem_of(client.patch(url, json={"version": 1, "title": "旧表"}, headers=m1), 409)
    assert problem["current"]["title"] == "新名" and problem["current"]["version"] == 2
    db.session.refresh(opportunity)
    assert opportunity.title == "新名"


def test_a_stale_version_of_a_move_is_refused(client, org, m1, make_customer, make_opportunity):
    opportunity = make_opportunity(make_customer(org["m1"]))
    url = f"{URL}{opportunity.id}/stage"
    assert client.post(url, json={"stage_id": 2, "version": 1}, headers=m1).status_code == 200
    problem_of(client.post(url, json={"stage_id": 3, "version": 1}, headers=m1), 409)
    db.session.refresh(opportunity)
    assert opportunity.stage_id == 2


def test_another_teams_record_cannot_be_changed(client, org, m1, make_customer, make_opportunity):
    theirs = make_opportunity(make_customer(org["m3"]), title="别人的")
    for url, body in (
        (f"{URL}{theirs.id}", {"version": 1, "title": "改"}),
        (f"{URL}{theirs.id}/stage", {"stage_id": 2}),
        (f"{URL}{theirs.id}/lost", {"reason": "price"}),
    ):
        problem_of(
            client.open(
                url,
                method="PATCH" if url.endswith(str(theirs.id)) else "POST",
                json=body,
                headers=m1,
            ),
            404,
        )
    db.session.refresh(theirs)
    assert theirs.title == "别人的" and theirs.status is OpportunityStatus.OPEN


def test_an_open_one_moves_within_pre_sale_and_is_won_at_the_contract_stage(
    client, org, m1, make_customer, make_opportunity, stages
):
    opportunity = make_opportunity(make_customer(org["m1"]))
    base = f"{URL}{opportunity.id}"
    refused = problem_of(
        client.post(base + "/stage", json={"stage_id": stages["Trial"].id}, headers=m1), 422
    )
    assert refused["errors"][0]["field"] == "stage_id"
    early = problem_of(
        client.post(base + "/won", json={"contract_date": "2026-05-01", "amount": "9"}, headers=m1),
        422,
    )
    assert early["errors"][0]["field"] == "stage_id"
    moved = client.post(base + "/stage", json={"stage_id": stages["Contract"].id}, headers=m1)
    assert moved.get_json()["probability"] == stages["Contract"].probability
    won = client.post(
        base + "/won", json={"contract_date": "2026-05-01", "amount": "880000"}, headers=m1
    )
    assert won.status_code == 200 and won.get_json()["status"] == "won"
    assert won.get_json()["amount"] == "880000.00"
    delivery = client.post(base + "/stage", json={"stage_id": stages["Trial"].id}, headers=m1)
    assert delivery.status_code == 200 and delivery.get_json()["stage_id"] == stages["Trial"].id


def test_losing_after_pre_sale_is_refused_as_the_web_form_refuses_it(
    client, app, login, org, make_customer, make_opportunity
):
    """The same service, the same message (in the owner's language) on the page and in the API."""
    opportunity = make_opportunity(make_customer(org["m1"]), stage="Order submitted")
    problem = problem_of(
        client.post(
            f"{URL}{opportunity.id}/lost", json={"reason": "price"}, headers=as_user(org["m1"])
        ),
        422,
    )
    web = app.test_client()
    login(web, org["m1"])
    page = web.post(f"/opportunities/{opportunity.id}/lost", data={"reason": "price"})
    assert page.status_code == 400
    assert problem["detail"] in page.get_data(as_text=True)
    assert problem["detail"] == "只有售前阶段的商机才能标记为丢单。"  # m1 reads Chinese
    db.session.refresh(opportunity)
    assert opportunity.status is OpportunityStatus.OPEN


def test_lost_to_a_competitor_names_it_and_reopening_brings_it_back(
    client, org, m1, make_customer, make_opportunity, make_competitor
):
    opportunity = make_opportunity(make_customer(org["m1"]))
    base = f"{URL}{opportunity.id}"
    missing = problem_of(
        client.post(base + "/lost", json={"reason": "competitor"}, headers=m1), 422
    )
    assert missing["errors"][0]["field"] == "competitor_id"
    rival = make_competitor(name="友商")
    lost = client.post(
        base + "/lost", json={"reason": "competitor", "competitor_id": rival.id}, headers=m1
    )
    assert lost.get_json()["status"] == "lost" and lost.get_json()["lost_to_id"] == rival.id
    reopened = client.post(base + "/reopen", json={}, headers=m1)
    assert reopened.get_json()["status"] == "open" and reopened.get_json()["lost_to_id"] is None


def test_an_owner_outside_the_team_is_refused_with_the_forms_message(
    client, org, m1, make_customer, make_opportunity
):
    opportunity = make_opportunity(make_customer(org["m1"]))
    problem = problem_of(
        client.patch(
            f"{URL}{opportunity.id}", json={"version": 1, "owner_id": org["m3"].id}, headers=m1
        ),
        422,
    )
    assert problem["errors"][0]["field"] == "owner_id"
    db.session.refresh(opportunity)
    assert opportunity.owner_id == org["m1"].id
