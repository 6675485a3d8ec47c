"""Follow-ups over the API: my list and a teammate's for their supervisor, setting one for
the customer's owner, done (with the visit), dismiss, snooze and reschedule through the
reminder pages' services, with versions, read-only tokens and other teams' ids refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from models import Reminder, ReminderStatus, TokenScope, Visit
from tests.api_support import as_user, problem_of

URL = "/api/v1/follow-ups/"


def _count() -> int:
    return db.session.scalar(select(func.count(Reminder.id)))


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def _in(days: int, org) -> str:
    return (today_in(user_zone(org["m1"])) + timedelta(days=days)).isoformat()


def _due(reminder_days: int):
    return datetime.now(UTC) + timedelta(days=reminder_days)


# Lists --------------------------------------------------------------------------------


def test_my_list_is_mine_and_a_supervisor_opens_a_teammates(
    client, org, m1, make_customer, make_reminder
):
    customer = make_customer(org["m1"])
    mine = make_reminder(customer, due_at=_due(1))
    sooner = make_reminder(customer, due_at=_due(-2))
    teammates = make_reminder(make_customer(org["m2"]))
    assert _ids(client.get(URL, headers=m1)) == [sooner.id, mine.id]  # soonest first
    sup = as_user(org["sup1"])
    assert _ids(client.get(URL + f"?owner={org['m2'].id}", headers=sup)) == [teammates.id]
    assert _ids(client.get(URL, headers=sup)) == []  # the supervisor's own: none
    problem_of(client.get(URL + f"?owner={org['m2'].id}", headers=m1), 404)
    problem_of(client.get(URL + f"?owner={org['m3'].id}", headers=sup), 404)


def test_what_is_due_and_what_is_closed(client, org, m1, make_customer, make_reminder):
    customer = make_customer(org["m1"])
    overdue = make_reminder(customer, due_at=_due(-3))
    today = make_reminder(customer, due_at=datetime.now(UTC), due_on=today_in(user_zone(org["m1"])))
    later = make_reminder(customer, due_at=_due(30))
    done = make_reminder(customer, status=ReminderStatus.DONE)
    assert _ids(client.get(URL + "?due=overdue", headers=m1)) == [overdue.id]
    assert _ids(client.get(URL + "?due=today", headers=m1)) == [overdue.id, today.id]
    assert later.id not in _ids(client.get(URL + "?due=week", headers=m1))
    assert _ids(client.get(URL + "?status=done", headers=m1)) == [done.id]


def test_a_follow_up_of_another_team_is_not_found(client, org, m1, make_customer, make_reminder):
    theirs = make_reminder(make_customer(org["m3"]))
    problem_of(client.get(f"{URL}{theirs.id}", headers=m1), 404)
    for action, body in (("done", {"version": 1}), ("dismiss", {"version": 1})):
        problem_of(client.post(f"{URL}{theirs.id}/{action}", json=body, headers=m1), 404)
    problem_of(
        client.patch(f"{URL}{theirs.id}", json={"version": 1, "due_on": _in(3, org)}, headers=m1),
        404,
    )
    db.session.refresh(theirs)
    assert theirs.status is ReminderStatus.PENDING and theirs.version == 1


# Setting one ---------------------------------------------------------------------------


def test_a_supervisor_sets_one_for_the_customers_owner_in_the_owners_zone(
    client, org, make_customer
):
    org["m1"].timezone = "Asia/Urumqi"
    db.session.commit()
    customer = make_customer(org["m1"])
    response = client.post(
        URL,
        json={
            "customer_id": customer.id,
            "due_on": _in(2, org),
            "due_time": "09:30",
            "note": "续约",
        },
        headers=as_user(org["sup1"]),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["owner_id"] == org["m1"].id and body["due_time"] == "09:30"
    assert body["due_at"].endswith("T03:30:00Z")  # 09:30 in Urumqi (UTC+6)


def test_a_retried_create_with_the_same_key_sets_one_follow_up(client, org, m1, make_customer):
    body = {"customer_id": make_customer(org["m1"]).id, "due_on": _in(1, org)}
    headers = {**m1, "Idempotency-Key": "follow-up-1"}
    assert client.post(URL, json=body, headers=headers).status_code == 201
    again = client.post(URL, json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert _count() == 1


def test_the_reminder_forms_rules_hold(client, org, m1, make_customer, make_opportunity):
    customer = make_customer(org["m1"])
    past = problem_of(
        client.post(URL, json={"customer_id": customer.id, "due_on": _in(-1, org)}, headers=m1),
        422,
    )
    assert past["errors"][0]["field"] == "due_on"
    elsewhere = make_opportunity(make_customer(org["m1"]))  # in scope, another customer's
    wrong = problem_of(
        client.post(
            URL,
            json={
                "customer_id": customer.id,
                "due_on": _in(1, org),
                "opportunity_id": elsewhere.id,
            },
            headers=m1,
        ),
        422,
    )
    assert wrong["errors"][0]["field"] == "opportunity_id"
    assert _count() == 0


def test_ids_of_other_teams_in_the_body_are_not_found(
    client, org, m1, make_customer, make_opportunity
):
    theirs = make_customer(org["m3"])
    problem_of(
        client.post(URL, json={"customer_id": theirs.id, "due_on": _in(1, org)}, headers=m1), 404
    )
    body = {
        "customer_id": make_customer(org["m1"]).id,
        "due_on": _in(1, org),
        "opportunity_id": make_opportunity(theirs).id,
    }
    problem_of(client.post(URL, json=body, headers=m1), 404)
    assert _count() == 0


def test_a_read_only_token_cannot_set_or_close(client, org, make_customer, make_reminder):
    customer = make_customer(org["m1"])
    reminder = make_reminder(customer)
    reader = as_user(org["m1"], TokenScope.READ)
    problem_of(
        client.post(URL, json={"customer_id": customer.id, "due_on": _in(1, org)}, headers=reader),
        403,
    )
    problem_of(client.post(f"{URL}{reminder.id}/done", json={"version": 1}, headers=reader), 403)
    db.session.refresh(reminder)
    assert _count() == 1 and reminder.status is ReminderStatus.PENDING


# Its actions --------------------------------------------------------------------------


def test_done_with_the_visit_logs_both_and_a_stale_version_neither(
    client, org, m1, make_customer, make_reminder
):
    reminder = make_reminder(make_customer(org["m1"]), note="回访")
    url = f"{URL}{reminder.id}/done"
    visit = {"kind": "phone", "outcome": "满意"}
    stale = problem_of(client.post(url, json={"version": 2, "visit": visit}, headers=m1), 409)
    assert stale["current"]["version"] == 1 and stale["current"]["status"] == "pending"
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    done = client.post(url, json={"version": 1, "visit": visit}, headers=m1)
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert body["follow_up"]["status"] == "done"
    assert body["visit"]["purpose"] == "回访" and body["visit"]["outcome"] == "满意"
    again = problem_of(client.post(url, json={"version": 2}, headers=m1), 422)
    assert again["detail"]  # closed already, in the owner's words


def test_snooze_reschedule_and_dismiss(client, org, m1, make_customer, make_reminder):
    reminder = make_reminder(make_customer(org["m1"]), due_on=today_in(user_zone(org["m1"])))
    url = f"{URL}{reminder.id}"
    snoozed = client.post(url + "/snooze", json={"days": 3}, headers=m1)
    assert snoozed.get_json()["due_on"] == _in(3, org)
    problem_of(client.post(url + "/snooze", json={"days": 2}, headers=m1), 422)
    moved = client.patch(
        url, json={"version": 2, "due_on": _in(5, org), "due_time": "14:00"}, headers=m1
    )
    assert moved.status_code == 200 and moved.get_json()["due_time"] == "14:00"
    kept = client.patch(url, json={"version": 3, "due_on": _in(6, org)}, headers=m1)
    assert kept.get_json()["due_time"] == "14:00"  # an absent time keeps the time of day
    problem_of(client.patch(url, json={"version": 3, "due_on": _in(7, org)}, headers=m1), 409)
    dismissed = client.post(url + "/dismiss", json={"version": 4}, headers=m1)
    assert dismissed.get_json()["status"] == "dismissed"
