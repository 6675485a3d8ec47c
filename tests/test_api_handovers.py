"""Handovers over the API: read by those who may see them, each seeing only its own
customers; preview and hand over by supervisors and admins with the web flow's rules
(the new owner in the team, a note, a reason for a junior owner, the preview's
fingerprint), a retried handover made once, undo, and other teams' ids refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from models import Customer, Handover, HandoverRequest, Opportunity, Tier, TokenScope
from tests.api_support import as_user, problem_of

URL = "/api/v1/handovers/"


def _handovers() -> int:
    return db.session.scalar(select(func.count(Handover.id)))


@pytest.fixture
def sup1(org):
    return as_user(org["sup1"])


def _body(to_owner, ids, **extra) -> dict:
    return {"to_owner_id": to_owner.id, "selection": {"ids": ids}, **extra}


def _preview(client, headers, to_owner, ids, **extra) -> dict:
    response = client.post(URL + "preview", json=_body(to_owner, ids, **extra), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _made(org, customers, to_owner=None):
    """A handover made on the web's service (sup1 to m1 unless told)."""
    handover = hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[c.id for c in customers]),
        to_owner=to_owner or org["m1"],
        options=HandoverOptions(),
        note="交接",
        token=f"test-{customers[0].id}",
        expected_fingerprint=None,
    )
    db.session.commit()
    return handover


# Preview and hand over ----------------------------------------------------------------


def test_preview_then_hand_over_as_on_the_web(client, org, sup1, make_customer, make_opportunity):
    customers = [make_customer(org["m1"]) for _ in range(2)]
    opportunity = make_opportunity(customers[0])
    preview = _preview(client, sup1, org["m2"], [c.id for c in customers])
    assert preview["customers"] == 2 and preview["opportunities"] == 1
    assert preview["from_owners"] == [{"owner_id": org["m1"].id, "customers": 2}]
    assert _handovers() == 0  # a preview moves nothing
    body = _body(
        org["m2"],
        [c.id for c in customers],
        note="客户关系良好",
        fingerprint=preview["fingerprint"],
    )
    response = client.post(URL, json=body, headers={**sup1, "Idempotency-Key": "ho-1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["customers_count"] == 2 and made["customers_visible"] == 2
    assert made["to_owner_id"] == org["m2"].id and made["from_owner_id"] == org["m1"].id
    again = client.post(URL, json=body, headers={**sup1, "Idempotency-Key": "ho-1"})
    assert again.status_code == 201 and again.get_json()["id"] == made["id"]
    assert _handovers() == 1
    db.session.expire_all()
    assert {c.owner_id for c in customers} == {org["m2"].id}
    assert db.session.get(Opportunity, opportunity.id).owner_id == org["m2"].id


def test_a_changed_selection_since_the_preview_moves_nothing(client, org, sup1, make_customer):
    first = make_customer(org["m1"], region="浦东")
    preview = _preview(client, sup1, org["m2"], [], selection={"region": "浦东"})
    make_customer(org["m1"], region="浦东")  # one more matches now
    body = {
        "to_owner_id": org["m2"].id,
        "selection": {"region": "浦东"},
        "note": "交接",
        "fingerprint": preview["fingerprint"],
    }
    problem = problem_of(client.post(URL, json=body, headers=sup1), 422)
    assert problem["errors"][0]["field"] == "fingerprint"
    db.session.refresh(first)
    assert first.owner_id == org["m1"].id and _handovers() == 0


def test_a_junior_owner_needs_a_reason_as_on_the_web(client, org, sup1, make_customer):
    key = make_customer(org["m1"], tier=Tier.A_PLUS)
    preview = _preview(client, sup1, org["m2"], [key.id])  # m2 is junior
    assert preview["needs_reason"] is True
    assert preview["tier_warnings"] == [{"tier": "A+", "customers": 1, "level": "senior"}]
    body = _body(org["m2"], [key.id], note="交接", fingerprint=preview["fingerprint"])
    problem = problem_of(client.post(URL, json=body, headers=sup1), 422)
    assert problem["errors"][0]["field"] == "reason"
    body["reason"] = "高级经理已满负荷"
    assert client.post(URL, json=body, headers=sup1).status_code == 201


def test_a_manager_cannot_hand_over_and_a_supervisor_only_to_the_team(
    client, org, sup1, make_customer
):
    customer = make_customer(org["m1"])
    m1 = as_user(org["m1"])
    problem_of(client.post(URL + "preview", json=_body(org["m2"], [customer.id]), headers=m1), 403)
    outside = problem_of(
        client.post(URL + "preview", json=_body(org["m3"], [customer.id]), headers=sup1), 422
    )
    assert outside["errors"][0]["field"] == "to_owner_id"


def test_other_teams_customers_and_owners_in_the_body_are_not_found(
    client, org, sup1, make_customer
):
    mine, theirs = make_customer(org["m1"]), make_customer(org["m3"])
    problem_of(
        client.post(URL + "preview", json=_body(org["m2"], [mine.id, theirs.id]), headers=sup1),
        404,
    )
    by_owner = {"to_owner_id": org["m2"].id, "selection": {"owner": org["m3"].id}}
    problem_of(client.post(URL + "preview", json=by_owner, headers=sup1), 404)
    body = _body(org["m2"], [theirs.id], note="x", fingerprint="0" * 32)
    problem_of(client.post(URL, json=body, headers=sup1), 404)
    db.session.refresh(theirs)
    assert theirs.owner_id == org["m3"].id and _handovers() == 0


def test_a_read_only_token_cannot_preview_or_hand_over(client, org, make_customer):
    customer = make_customer(org["m1"])
    reader = as_user(org["sup1"], TokenScope.READ)
    problem_of(
        client.post(URL + "preview", json=_body(org["m2"], [customer.id]), headers=reader), 403
    )
    body = _body(org["m2"], [customer.id], note="x", fingerprint="0" * 32)
    problem_of(client.post(URL, json=body, headers=reader), 403)
    assert _handovers() == 0


def test_answering_a_managers_request_approves_it(client, org, sup1, make_customer):
    from crm.services.handover.requests import request_handover

    customer = make_customer(org["m1"])
    asked = request_handover(customer, actor=org["m1"], to_owner=org["m2"], note="搬家")
    other = request_handover(make_customer(org["m3"]), actor=org["m3"], note="搬家")
    db.session.commit()
    preview = _preview(client, sup1, org["m2"], [customer.id])
    body = _body(org["m2"], [customer.id], note="同意", fingerprint=preview["fingerprint"])
    problem_of(client.post(URL, json={**body, "request_id": other.id}, headers=sup1), 404)
    made = client.post(URL, json={**body, "request_id": asked.id}, headers=sup1)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert db.session.get(HandoverRequest, asked.id).handover_id == made.get_json()["id"]


# Reading ----------------------------------------------------------------------------------


def test_each_sees_the_handovers_and_customers_of_its_scope(client, org, make_customer):
    ours = make_customer(org["sup1"], name="甲公司")
    handover = _made(org, [ours])
    for persona, seen in (
        ("m1", True),
        ("sup1", True),
        ("admin", True),
        ("m2", False),
        ("m3", False),
    ):
        headers = as_user(org[persona])
        listed = [item["id"] for item in client.get(URL, headers=headers).get_json()["items"]]
        assert (handover.id in listed) is seen, persona
        record = client.get(f"{URL}{handover.id}", headers=headers)
        assert record.status_code == (200 if seen else 404), persona
    rows = client.get(f"{URL}{handover.id}/customers", headers=as_user(org["m1"])).get_json()
    assert rows["items"] == [
        {
            "customer_id": ours.id,
            "customer_name": "甲公司",
            "from_owner_id": org["sup1"].id,
            "owner_id": org["m1"].id,
        }
    ]
    problem_of(client.get(f"{URL}{handover.id}/customers", headers=as_user(org["m3"])), 404)


def test_an_admins_handover_across_teams_names_each_only_their_customers(
    client, org, make_customer
):
    ours, theirs = make_customer(org["m1"]), make_customer(org["m3"])
    handover = hand_over(
        actor=org["admin"],
        selection=Selection(ids=[ours.id, theirs.id]),
        to_owner=org["sup1"],
        options=HandoverOptions(),
        note="整合",
        token="admin-across",
        expected_fingerprint=None,
    )
    db.session.commit()
    m3 = as_user(org["m3"])
    record = client.get(f"{URL}{handover.id}", headers=m3).get_json()
    assert record["customers_count"] == 2 and record["customers_visible"] == 1
    rows = client.get(f"{URL}{handover.id}/customers", headers=m3).get_json()["items"]
    # m3 sees the customer that came from them, no longer with whom it is now.
    assert rows == [
        {
            "customer_id": theirs.id,
            "customer_name": theirs.name,
            "from_owner_id": org["m3"].id,
            "owner_id": None,
        }
    ]


def test_undo_hands_the_customers_back(client, org, sup1, make_customer):
    customer = make_customer(org["m1"])
    handover = _made(org, [customer], to_owner=org["m2"])
    problem_of(client.post(f"{URL}{handover.id}/undo", json={}, headers=as_user(org["m2"])), 403)
    undone = client.post(f"{URL}{handover.id}/undo", json={}, headers=sup1)
    assert undone.status_code == 200, undone.get_data(as_text=True)
    assert undone.get_json()["moved_back"] == 1
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).owner_id == org["m1"].id
    problem_of(client.post(f"{URL}{handover.id}/undo", json={}, headers=sup1), 422)
