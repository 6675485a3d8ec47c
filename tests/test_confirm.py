"""Destructive actions ask first: without JavaScript the first POST shows a confirm page.

With JavaScript the button's dialog asks (tests/browser/test_confirm_dialog.py) and sends
confirmed=1; without it the server answers the first POST with the question and a
CSRF-protected button that sends the same fields again, confirmed. Nothing changes
before that.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import url_for
from sqlalchemy import select

from crm.extensions import db
from models import OpportunityCompetitor, OpportunityContact, Phase
from tests.routes import ADMIN_ONLY, CUSTOMER_SCOPED, World

# Every POST that deletes, deactivates, retires, undoes or dismisses something.
DESTRUCTIVE = (
    "visits.delete",
    "competitors.delete_profile",
    "handovers.undo_handover",
    "handovers.decline_request",
    "reminders.dismiss",
    "opportunities.remove_contact",
    "opportunities.remove_competitor",
    "contacts.deactivate",
    "customers.delete",
    "stages.retire",
    "stages.delete",
    "reference.retire_industry",
    "reference.delete_industry",
    "reference.retire_competitor",
    "reference.delete_competitor",
    "admin.deactivate_user",
    "admin.remove_member",
    "calendar.revoke_link",
    "calendar.make_link",  # when a link exists: the old one stops working
)


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def _unused_stage(w: World) -> dict:
    from crm.services.pipeline import stages as stage_service

    stage = stage_service.create_stage(
        actor=w.org["admin"], name_zh="试点阶段", name_en="Pilot", phase=Phase.PRE_SALE,
        probability=50,
    )  # fmt: skip
    db.session.commit()
    return w.builds(stage, stage.name_zh, stage_id=stage.id)


def _calendar_link(w: World) -> dict:
    from crm.services.followups import calendar

    calendar.make_calendar_token(w.org["admin"], actor=w.org["admin"])
    db.session.commit()
    return {}


def _opportunity_with_contact(w: World) -> dict:
    from crm.services.pipeline import links as opportunity_links

    opportunity = w.make_opportunity(w.customer())
    contact = w.make_contact(opportunity.customer)
    opportunity_links.add_contact(opportunity, contact, actor=w.owner)
    db.session.commit()
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


BUILDERS = {
    **CUSTOMER_SCOPED,
    **ADMIN_ONLY,
    "opportunities.remove_contact": _opportunity_with_contact,
    "stages.delete": _unused_stage,  # a stage in use cannot be deleted at all
    "calendar.revoke_link": _calendar_link,
    "calendar.make_link": _calendar_link,
}


def _form_fields(w: World, endpoint: str) -> dict:
    """The fields the page's own form sends besides the CSRF token."""
    if endpoint == "opportunities.remove_contact":
        link = db.session.scalar(select(OpportunityContact).filter_by(opportunity=w.record))
        return {"contact_id": link.contact_id}
    if endpoint == "opportunities.remove_competitor":
        link = db.session.scalar(select(OpportunityCompetitor).filter_by(opportunity=w.record))
        return {"competitor_id": link.competitor_id}
    if endpoint == "reminders.dismiss":
        return {"version": w.record.version}
    return {}


def _snapshot():
    return {
        table.name: db.session.execute(select(table)).all() for table in db.metadata.sorted_tables
    }


def _token(client) -> str:
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def _confirm_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the confirm page's form, as a browser would send them."""
    question = page.split('id="confirm-question"', 1)[1]
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', question, re.S)
    assert form, "the confirm page has a form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[2]))
    return html.unescape(form[1]), {k: html.unescape(v) for k, v in fields.items()}


@pytest.mark.parametrize("endpoint", DESTRUCTIVE)
def test_a_destructive_post_asks_first_and_changes_nothing_until_confirmed(
    request, app, client, org, login, endpoint
):
    world = World.build(request)
    kwargs = BUILDERS[endpoint](world)
    with app.test_request_context():
        url = url_for(endpoint, **kwargs)
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    fields = {"csrf_token": _token(client), **_form_fields(world, endpoint)}
    before = _snapshot()

    asked = client.post(url, data=fields)

    page = asked.get_data(as_text=True)
    assert asked.status_code == 200, (endpoint, asked.status_code)
    assert 'id="confirm-question"' in page and 'id="confirm-yes"' in page
    assert 'id="confirm-cancel"' in page
    assert _snapshot() == before, f"{endpoint} changed data before it was confirmed"

    action, sent = _confirm_form(page)
    assert action == url and sent["confirmed"] == "1" and sent["csrf_token"]
    assert {k: v for k, v in sent.items() if k not in ("csrf_token", "confirmed")} == {
        k: str(v) for k, v in fields.items() if k != "csrf_token"
    }, "the confirm page sends the same fields again"

    done = client.post(action, data=sent)

    assert done.status_code == 302, (endpoint, done.status_code)
    assert _snapshot() != before, f"{endpoint} did nothing once confirmed"


def test_the_confirm_page_asks_in_the_users_language_and_cancel_goes_back(
    client, login, org, make_customer, make_visit
):
    visit = make_visit(make_customer(org["m1"], name="临江港口"), org["m1"])
    login(client, org["m1"])  # Chinese by default
    token = _token(client)

    page = client.post(
        f"/visits/{visit.id}/delete",
        data={"csrf_token": token},
        headers={"Referer": f"http://localhost/visits/{visit.id}"},
    ).get_data(as_text=True)

    assert "确认" in page and "临江港口" in page
    assert f'href="/visits/{visit.id}" id="confirm-cancel"' in page  # back where it was asked
    assert "data-confirm" not in page.split("<main", 1)[1], "the confirm page asks no second time"


def test_a_post_without_a_token_is_refused_not_asked(client, login, org, make_customer, make_visit):
    visit = make_visit(make_customer(org["m1"]), org["m1"])
    login(client, org["m1"])

    response = client.post(f"/visits/{visit.id}/delete", data={"confirmed": "1"})

    assert response.status_code == 400
    assert 'id="confirm-question"' not in response.get_data(as_text=True)


def test_the_buttons_of_destructive_actions_ask_with_javascript(
    client, login, org, make_customer, make_visit, make_profile, make_reminder
):
    customer = make_customer(org["m1"])
    visit = make_visit(customer, org["m1"])
    profile = make_profile(customer)
    reminder = make_reminder(customer, org["m1"])
    login(client, org["m1"])

    for url, action in (
        (f"/visits/{visit.id}", f"/visits/{visit.id}/delete"),
        (f"/competitors/profiles/{profile.id}/edit", f"/competitors/profiles/{profile.id}/delete"),
        (f"/customers/{customer.id}", f"/competitors/profiles/{profile.id}/delete"),
        ("/", f"/reminders/{reminder.id}/dismiss"),
        ("/reminders/", f"/reminders/{reminder.id}/dismiss"),
        (f"/reminders/{reminder.id}", f"/reminders/{reminder.id}/dismiss"),
    ):
        page = client.get(url).get_data(as_text=True)
        form = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>', page)
        assert form and "data-confirm=" in form[0], (url, form and form[0])
