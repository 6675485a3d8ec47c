"""A select whose preset would be saved unread starts on "choose" and must be chosen (item 5).

A new contact started as decision maker (so the "no decision maker" flag went quiet) and
as a supporter; a competitor profile started on the first competitor at medium threat.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import CompetitorProfile, Contact, Opportunity


def _select(html: str, name: str) -> tuple[list[str], list[str]]:
    """The option values of a select, and those marked selected."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, name
    options = re.findall(r"<option([^>]*)>", match[1])
    values = [re.search(r'value="([^"]*)"', o)[1] for o in options]
    selected = [v for v, o in zip(values, options, strict=True) if "selected" in o]
    return values, selected


@pytest.fixture
def manager(app, org, login):
    org["m1"].locale = "en"
    db.session.commit()
    return login(app.test_client(), org["m1"])


def test_a_new_contacts_role_and_attitude_start_unchosen(manager, org, make_customer):
    customer = make_customer(org["m1"])
    html = manager.get(f"/customers/{customer.id}/contacts/new").get_data(as_text=True)
    for name in ("role", "attitude"):
        values, selected = _select(html, name)
        assert values[0] == "" and selected in ([], [""]), name
    assert "— choose —" in html


@pytest.mark.parametrize(
    ("missing", "message"),
    [("role", "Choose a buying role."), ("attitude", "Choose the attitude to us.")],
)
def test_a_contact_without_a_chosen_role_or_attitude_is_refused(
    manager, org, make_customer, missing, message
):
    customer = make_customer(org["m1"])
    data = {"name": "王总", "role": "influencer", "attitude": "neutral", "strength": 3}
    data["reports_to_id"] = 0
    data[missing] = ""
    response = manager.post(f"/customers/{customer.id}/contacts/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_new_competitor_profile_starts_without_a_competitor_or_threat(
    manager, org, make_customer, make_competitor
):
    customer = make_customer(org["m1"])
    make_competitor("中国联通")
    html = manager.get(f"/customers/{customer.id}/competitors/new").get_data(as_text=True)
    values, selected = _select(html, "competitor_id")
    assert values[0] == "0" and selected in ([], ["0"])
    values, selected = _select(html, "threat")
    assert values[0] == "" and selected in ([], [""])


@pytest.mark.parametrize(
    ("missing", "message"),
    [("competitor_id", "Choose a competitor."), ("threat", "Choose the threat level.")],
)
def test_a_profile_without_a_chosen_competitor_or_threat_is_refused(
    manager, org, make_customer, make_competitor, missing, message
):
    customer = make_customer(org["m1"])
    unicom = make_competitor("中国联通")
    data = {"competitor_id": unicom.id, "threat": "high", "confirmed_on": date.today().isoformat()}
    data[missing] = "0" if missing == "competitor_id" else ""
    response = manager.post(f"/customers/{customer.id}/competitors/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CompetitorProfile)) == 0


def test_a_competitor_on_an_opportunity_starts_unchosen_and_must_be_chosen(
    manager, org, make_customer, make_competitor, make_opportunity
):
    opportunity = make_opportunity(make_customer(org["m1"]))
    make_competitor("中国联通")
    html = manager.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    values, selected = _select(html, "competitor_id")
    assert values[0] == "0" and selected in ([], ["0"])

    response = manager.post(
        f"/opportunities/{opportunity.id}/competitors", data={"competitor_id": 0, "offer": "9折"}
    )
    assert response.status_code == 400
    assert "Choose a competitor." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).competitors == []


def test_a_contact_on_an_opportunity_starts_unchosen_and_must_be_chosen(
    manager, org, make_customer, make_contact, make_opportunity
):
    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    make_contact(customer, "周总")
    html = manager.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    values, selected = _select(html, "contact_id")
    assert values[0] == "0" and selected in ([], ["0"])

    response = manager.post(
        f"/opportunities/{opportunity.id}/contacts", data={"contact_id": 0, "role": ""}
    )
    assert response.status_code == 400
    assert "Choose a contact." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).contacts == []
