"""Visits over the API: the work log's filters in scope, logging through the web form's
service (contacts met, opportunity, check-in, the follow-up it schedules), changing with
the version read, and other teams' ids refused in the path, the query and the body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from models import Reminder, ReminderSource, TokenScope, Visit
from tests.api_support import as_user, problem_of

URL = "/api/v1/visits/"


def _count() -> int:
    return db.session.scalar(select(func.count(Visit.id)))


def _ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


# The work log ------------------------------------------------------------------------


def test_the_work_log_shows_each_persona_the_visits_of_its_scope(
    client, org, make_customer, make_visit
):
    mine = make_visit(make_customer(org["m1"]))
    teammate = make_visit(make_customer(org["m2"]))
    other = make_visit(make_customer(org["m3"]))
    assert _ids(client.get(URL, headers=as_user(org["m1"]))) == [mine.id]
    assert set(_ids(client.get(URL, headers=as_user(org["sup1"])))) == {mine.id, teammate.id}
    admin = set(_ids(client.get(URL, headers=as_user(org["admin"]))))
    assert admin == {mine.id, teammate.id, other.id}


def test_the_work_logs_week_range_and_member_filters(client, org, make_customer, make_visit):
    customer = make_customer(org["m1"])
    now = make_visit(customer)
    old = make_visit(customer, occurred_at=datetime.now(UTC) - timedelta(days=30))
    teammate = make_visit(make_customer(org["m2"]))
    sup = as_user(org["sup1"])
    assert _ids(client.get(URL + f"?member={org['m2'].id}", headers=sup)) == [teammate.id]
    today = today_in(user_zone(org["m1"]))  # the range is in the viewer's local days
    first, last = (today - timedelta(days=40)).isoformat(), today.isoformat()
    ranged = _ids(client.get(URL + f"?from={first}&to={last}", headers=as_user(org["m1"])))
    assert ranged == [now.id, old.id]  # newest first
    iso = (today - timedelta(days=30)).isocalendar()
    week = _ids(client.get(URL + f"?week={iso.year}-W{iso.week:02d}", headers=as_user(org["m1"])))
    assert old.id in week and now.id not in week


def test_bad_ranges_and_other_teams_people_are_refused(client, org, m1):
    problem = problem_of(client.get(URL + "?from=2026-01-01&to=2026-06-30", headers=m1), 422)
    assert problem["errors"][0] == {
        "field": "from",
        "location": "query",
        "message": problem["errors"][0]["message"],
    }
    problem_of(client.get(URL + "?week=2026-W60", headers=m1), 422)
    problem_of(client.get(URL + f"?member={org['m3'].id}", headers=as_user(org["sup1"])), 404)
    problem_of(client.get(URL + f"?member={org['m2'].id}", headers=m1), 404)
    problem_of(client.get(URL + f"?team={org['team2'].id}", headers=as_user(org["sup1"])), 404)


def test_a_visit_of_another_team_is_not_found(client, org, m1, make_customer, make_visit):
    theirs = make_visit(make_customer(org["m3"]))
    problem_of(client.get(f"{URL}{theirs.id}", headers=m1), 404)
    problem_of(
        client.patch(f"{URL}{theirs.id}", json={"version": 1, "outcome": "x"}, headers=m1), 404
    )
    problem_of(client.delete(f"{URL}{theirs.id}", headers=m1), 404)
    db.session.refresh(theirs)
    assert theirs.outcome is None and _count() == 1


# Logging a visit ---------------------------------------------------------------------


def test_logging_a_visit_keeps_what_the_web_form_keeps(
    client, org, m1, make_customer, make_contact, make_opportunity
):
    customer = make_customer(org["m1"])
    contact = make_contact(customer)
    opportunity = make_opportunity(customer)
    follow_up = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    response = client.post(
        URL,
        json={
            "customer_id": customer.id,
            "occurred_at": _ago(hours=2),
            "kind": "meeting",
            "contact_ids": [contact.id],
            "opportunity_id": opportunity.id,
            "purpose": "方案交流",
            "next_step": "报价",
            "follow_up_on": follow_up,
            "check_in_lat": 31.2304,
            "check_in_lng": 121.4737,
            "check_in_accuracy_m": 25,
            "confirm_site": True,
        },
        headers=m1,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["contact_ids"] == [contact.id] and body["opportunity_id"] == opportunity.id
    assert body["check_in"]["placement"] == "on_site" and body["user_id"] == org["m1"].id
    db.session.expire_all()
    assert (customer.site_lat, customer.site_lng) == (31.2304, 121.4737)
    assert customer.last_visit_at is not None and contact.last_contacted_at is not None
    reminder = db.session.scalar(select(Reminder).where(Reminder.visit_id == body["id"]))
    assert reminder.source is ReminderSource.VISIT and reminder.note == "报价"


def test_a_retried_log_with_the_same_key_logs_once(client, org, m1, make_customer):
    body = {"customer_id": make_customer(org["m1"]).id, "occurred_at": _ago(minutes=5)}
    headers = {**m1, "Idempotency-Key": "visit-2026-12-07-0930"}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] and _count() == 1


def test_the_web_forms_rules_hold(client, org, m1, make_customer, make_contact):
    customer = make_customer(org["m1"])
    future = problem_of(
        client.post(
            URL, json={"customer_id": customer.id, "occurred_at": _ago(hours=-3)}, headers=m1
        ),
        422,
    )
    assert future["errors"][0]["field"] == "occurred_at"
    half = problem_of(
        client.post(
            URL,
            json={"customer_id": customer.id, "occurred_at": _ago(hours=1), "check_in_lat": 31.2},
            headers=m1,
        ),
        422,
    )
    assert half["errors"][0]["field"] == "check_in_lat"
    # Another customer's contact (in scope): the service's rule, with its message.
    stranger = make_contact(make_customer(org["m1"]))
    wrong = problem_of(
        client.post(
            URL,
            json={
                "customer_id": customer.id,
                "occurred_at": _ago(hours=1),
                "contact_ids": [stranger.id],
            },
            headers=m1,
        ),
        422,
    )
    assert wrong["errors"][0]["field"] == "contact_ids"
    assert _count() == 0


def test_ids_of_other_teams_in_the_body_are_not_found(
    client, org, m1, make_customer, make_contact, make_opportunity
):
    mine = make_customer(org["m1"])
    theirs = make_customer(org["m3"])
    at = _ago(hours=1)
    for body in (
        {"customer_id": theirs.id, "occurred_at": at},
        {"customer_id": mine.id, "occurred_at": at, "contact_ids": [make_contact(theirs).id]},
        {"customer_id": mine.id, "occurred_at": at, "opportunity_id": make_opportunity(theirs).id},
    ):
        problem_of(client.post(URL, json=body, headers=m1), 404)
    assert _count() == 0


def test_a_read_only_token_cannot_log_change_or_delete(client, org, make_customer, make_visit):
    customer = make_customer(org["m1"])
    visit = make_visit(customer)
    reader = as_user(org["m1"], TokenScope.READ)
    body = {"customer_id": customer.id, "occurred_at": _ago(hours=1)}
    problem_of(client.post(URL, json=body, headers=reader), 403)
    problem_of(
        client.patch(f"{URL}{visit.id}", json={"version": 1, "outcome": "x"}, headers=reader), 403
    )
    problem_of(client.delete(f"{URL}{visit.id}", headers=reader), 403)
    db.session.refresh(visit)
    assert _count() == 1 and visit.outcome is None


# Changing a visit --------------------------------------------------------------------


def test_a_change_keeps_what_it_does_not_name_and_a_stale_one_is_refused(
    client, org, m1, make_customer, make_contact, make_visit
):
    customer = make_customer(org["m1"])
    contact = make_contact(customer)
    visit = make_visit(customer, purpose="初访", contacts=[contact])
    url = f"{URL}{visit.id}"
    changed = client.patch(url, json={"version": 1, "outcome": "谈妥"}, headers=m1)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    assert body["purpose"] == "初访" and body["outcome"] == "谈妥"
    assert body["contact_ids"] == [contact.id] and body["version"] == 2
    stale = problem_of(client.patch(url, json={"version": 1, "outcome": "旧的"}, headers=m1), 409)
    assert stale["current"]["outcome"] == "谈妥"
    db.session.refresh(visit)
    assert visit.outcome == "谈妥"


def test_deleting_a_visit_as_the_web_does(client, org, m1, make_customer, make_visit):
    visit = make_visit(make_customer(org["m1"]))
    assert client.delete(f"{URL}{visit.id}", headers=m1).status_code == 204
    assert _count() == 0
