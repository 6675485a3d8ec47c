"""The handover pages: select → preview → commit in the browser's forms, the record, requests."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.errors import DomainError
from crm.services.people import users as user_service
from models import (
    Customer,
    Handover,
    HandoverRequest,
    HandoverRequestStatus,
    OpportunityStatus,
    Tier,
)


@pytest.fixture
def app_overrides():
    return {"PAGE_SIZE": 2}  # m2's five customers span three pages


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else ""


def preview_form(client, to_owner, **selection):
    data = {"to_owner": to_owner.id, "open_opportunities": "y", "pending_reminders": "y"}
    data.update({f"sel_{k}": v for k, v in selection.items()})
    response = client.post("/handovers/new", data={**data, "preview": "1"})
    return response, data


def commit_data(response, data, note="Call Mr Li before the 15th; the renewal is promised."):
    html = response.get_data(as_text=True)
    return {
        **data,
        "token": hidden(html, "token"),
        "fingerprint": hidden(html, "fingerprint"),
        "note": note,
        "commit": "1",
    }


def owners(ids):
    return set(db.session.scalars(select(Customer.owner_id).where(Customer.id.in_(ids))))


def test_all_of_a_managers_customers_move_not_only_the_visible_page(
    client, login, org, english, make_customer, make_reminder
):
    m1, m2 = org["m1"], org["m2"]
    ids = [make_customer(m2, name=f"Key account {i}").id for i in range(5)]
    make_reminder(db.session.get(Customer, ids[4]))
    login(client, org["sup1"])

    page = client.get(f"/handovers/new?owner={m2.id}")
    assert page.status_code == 200
    assert "5 customers match" in page.get_data(as_text=True)

    response, data = preview_form(client, m1, owner=str(m2.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="preview-customers">5<' in html
    assert 'id="preview-reminders">1<' in html
    assert "0 customers now, 5 after the handover" in html

    done = client.post("/handovers/new", data=commit_data(response, data))
    assert done.status_code == 302
    handover = db.session.scalar(select(Handover))
    assert done.location.endswith(f"/handovers/{handover.id}")
    assert owners(ids) == {m1.id}
    assert handover.customers_count == 5 and handover.reminders_count == 1

    shown = client.get(done.location).get_data(as_text=True)
    assert "Call Mr Li before the 15th" in shown
    assert "Key account 4" in client.get(done.location + "?page=3").get_data(as_text=True)


def test_double_submit_hands_over_once(client, login, org, make_customer):
    ids = [make_customer(org["m2"]).id for _ in range(2)]
    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], owner=str(org["m2"].id))
    form = commit_data(response, data)
    first = client.post("/handovers/new", data=form)
    second = client.post("/handovers/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert db.session.scalar(select(func.count(Handover.id))) == 1
    assert owners(ids) == {org["m1"].id}


def test_change_during_the_preview_shows_it_again(
    client, login, org, english, make_customer, make_reminder
):
    customer = make_customer(org["m2"])
    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], owner=str(org["m2"].id))
    added = make_customer(org["m2"])  # m2 takes on a customer while the supervisor reads

    refused = client.post("/handovers/new", data=commit_data(response, data))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "changed since the preview" in html
    assert 'id="preview-customers">2<' in html
    assert owners([customer.id, added.id]) == {org["m2"].id}

    done = client.post("/handovers/new", data=commit_data(refused, data))
    assert done.status_code == 302
    assert owners([customer.id, added.id]) == {org["m1"].id}


def test_follow_ups_added_during_the_preview_move_along(
    client, login, org, english, make_customer, make_reminder
):
    """Only what moves refuses a handover: new work on the customers goes with them."""
    customer = make_customer(org["m2"])
    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], owner=str(org["m2"].id))
    make_reminder(customer)  # m2 adds a follow-up while the supervisor reads the preview

    done = client.post("/handovers/new", data=commit_data(response, data))
    assert done.status_code == 302
    assert owners([customer.id]) == {org["m1"].id}
    assert db.session.scalar(select(Handover.reminders_count)) == 1


def test_tier_warning_on_the_preview_and_reason_required(
    client, login, org, english, make_customer
):
    customer = make_customer(org["m1"], tier=Tier.A_PLUS)
    login(client, org["sup1"])
    response, data = preview_form(client, org["m2"], ids=str(customer.id))
    html = response.get_data(as_text=True)
    assert "tier A+ need a Senior manager" in html
    refused = client.post("/handovers/new", data=commit_data(response, data))
    assert refused.status_code == 400
    assert "write the reason" in refused.get_data(as_text=True)
    assert owners([customer.id]) == {org["m1"].id}
    form = {**commit_data(response, data), "reason": "Only m2 speaks the customer's dialect."}
    assert client.post("/handovers/new", data=form).status_code == 302
    assert owners([customer.id]) == {org["m2"].id}


def test_deactivated_target_cannot_be_chosen(client, login, org, make_customer):
    make_customer(org["m2"])
    org["m1"].active = False
    db.session.commit()
    login(client, org["sup1"])
    response, _ = preview_form(client, org["m1"], owner=str(org["m2"].id))
    assert response.status_code == 400
    assert 'id="preview-customers"' not in response.get_data(as_text=True)


def test_managers_cannot_open_the_handover_form(client, login, org):
    login(client, org["m1"])
    assert client.get("/handovers/new").status_code == 403
    assert client.post("/handovers/new", data={"to_owner": org["m2"].id}).status_code == 403


def test_scope_follows_ownership(client, login, org, make_customer):
    customer = make_customer(org["m2"])
    url = f"/customers/{customer.id}"
    login(client, org["m1"])
    assert client.get(url).status_code == 404

    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], ids=str(customer.id))
    assert client.post("/handovers/new", data=commit_data(response, data)).status_code == 302

    login(client, org["m1"])
    assert client.get(url).status_code == 200
    login(client, org["m2"])
    assert client.get(url).status_code == 404
    login(client, org["sup1"])  # still in the supervisor's team scope
    assert client.get(url).status_code == 200


def test_request_and_approve(client, login, org, english, make_customer):
    customer = make_customer(org["m2"], name="Asked-for customer")
    login(client, org["m2"])
    asked = client.post(
        f"/handovers/requests/new?customer={customer.id}",
        data={"to_owner": org["m1"].id, "note": "I move to the Hankou office."},
    )
    assert asked.status_code == 302
    request = db.session.scalar(select(HandoverRequest))
    assert request.status is HandoverRequestStatus.PENDING
    assert client.get(f"/handovers/new?request={request.id}").status_code == 403

    login(client, org["sup1"])
    listed = client.get("/handovers/requests").get_data(as_text=True)
    assert "Asked-for customer" in listed and "I move to the Hankou office." in listed
    form_page = client.get(f"/handovers/new?request={request.id}").get_data(as_text=True)
    assert "1 customers match" in form_page
    data = {
        "to_owner": org["m1"].id,
        "open_opportunities": "y",
        "pending_reminders": "y",
        "request_id": str(request.id),
        "sel_ids": str(customer.id),
    }
    response = client.post("/handovers/new", data={**data, "preview": "1"})
    assert client.post("/handovers/new", data=commit_data(response, data)).status_code == 302

    db.session.expire_all()
    assert request.status is HandoverRequestStatus.APPROVED
    assert request.handover_id is not None and request.decided_by_id == org["sup1"].id
    assert owners([customer.id]) == {org["m1"].id}


def test_request_declined(client, login, org, make_customer):
    customer = make_customer(org["m2"])
    login(client, org["m2"])
    client.post(
        f"/handovers/requests/new?customer={customer.id}", data={"to_owner": 0, "note": "x"}
    )
    request = db.session.scalar(select(HandoverRequest))
    # The manager cannot decide their own request.
    client.post(f"/handovers/requests/{request.id}/decline", data={"confirmed": "1"})
    db.session.expire_all()
    assert request.status is HandoverRequestStatus.PENDING

    login(client, org["sup1"])
    client.post(
        f"/handovers/requests/{request.id}/decline",
        data={"note": "Not before Q3.", "confirmed": "1"},
    )
    db.session.expire_all()
    assert request.status is HandoverRequestStatus.DECLINED
    assert request.decision_note == "Not before Q3."
    assert owners([customer.id]) == {org["m2"].id}


def test_a_manager_asks_only_about_their_own_customers(client, login, org, make_customer):
    theirs = make_customer(org["m1"])
    login(client, org["m2"])
    response = client.get(f"/handovers/requests/new?customer={theirs.id}")
    assert response.status_code == 404


def test_undo_from_the_page(client, login, org, english, make_customer):
    customer = make_customer(org["m2"])
    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], ids=str(customer.id))
    done = client.post("/handovers/new", data=commit_data(response, data))
    assert 'id="undo-handover"' in client.get(done.location).get_data(as_text=True)
    undone = client.post(done.location + "/undo", data={"confirmed": "1"})
    assert undone.status_code == 302
    assert owners([customer.id]) == {org["m2"].id}
    assert db.session.scalar(select(func.count(Handover.id))) == 2

    history = client.get(f"/handovers/customers/{customer.id}").get_data(as_text=True)
    assert history.count("/handovers/") >= 2 and "M1" in history and "M2" in history


def test_deactivation_refused_while_owning(org, make_customer, make_opportunity, make_reminder):
    admin, m2 = org["admin"], org["m2"]
    customer = make_customer(m2)
    with force_locale("en"), pytest.raises(DomainError, match="owns 1 customers"):
        user_service.deactivate_user(m2, actor=admin)
    # The customer went to m1, but an opportunity and a follow-up on it are still m2's.
    customer.owner = org["m1"]
    opportunity = make_opportunity(customer, owner=m2)
    reminder = make_reminder(customer, m2)
    with force_locale("en"), pytest.raises(DomainError, match="open opportunities or pending"):
        user_service.deactivate_user(m2, actor=admin)
    opportunity.status = OpportunityStatus.WON
    db.session.commit()
    with force_locale("en"), pytest.raises(DomainError, match="open opportunities or pending"):
        user_service.deactivate_user(m2, actor=admin)
    reminder.owner = org["m1"]
    db.session.commit()
    user_service.deactivate_user(m2, actor=admin)
    assert not m2.active


def test_user_page_offers_the_handover(client, login, org, english, make_customer):
    make_customer(org["m2"])
    login(client, org["admin"])
    html = client.get(f"/admin/users/{org['m2'].id}").get_data(as_text=True)
    assert f'href="/handovers/new?owner={org["m2"].id}"' in html


def test_handover_list_statements_do_not_grow(
    client, login, org, make_customer, count_queries, app
):
    app.config["PAGE_SIZE"] = 50
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over

    def make(n, start):
        for i in range(n):
            customer = make_customer(org["m2"] if i % 2 else org["m1"])
            target = org["m1"] if i % 2 else org["m2"]
            hand_over(
                actor=org["sup1"],
                selection=Selection(ids=[customer.id]),
                to_owner=target,
                options=HandoverOptions(),
                note="n",
                token=f"list-{start + i}",
                expected_fingerprint=None,
            )
        db.session.commit()

    login(client, org["sup1"])
    make(5, 0)
    db.session.expire_all()
    with count_queries() as few:
        assert client.get("/handovers/").status_code == 200
    make(45, 100)
    db.session.expire_all()
    with count_queries() as many:
        html = client.get("/handovers/").get_data(as_text=True)
    assert html.count("data-handover-id=") == 50
    assert len(many) == len(few)


def test_the_customer_timeline_shows_the_handover(client, login, org, english, make_customer):
    customer = make_customer(org["m2"])
    login(client, org["sup1"])
    response, data = preview_form(client, org["m1"], ids=str(customer.id))
    client.post("/handovers/new", data=commit_data(response, data, note="Keep the CFO close."))

    login(client, org["m1"])
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'data-kind="handover"' in html
    assert "Keep the CFO close." in html and "M2 → M1" in html


def test_a_manager_finds_their_customer_to_ask_about(client, login, org, make_customer):
    mine = make_customer(org["m2"], name="湖北港口集团")
    make_customer(org["m1"], name="湖北交投集团")  # a teammate's: not offered
    login(client, org["m2"])
    html = client.get("/handovers/requests?q=湖北").get_data(as_text=True)
    assert f"/handovers/requests/new?customer={mine.id}" in html
    assert "湖北交投集团" not in html
