"""A service ticket's life: open → in progress → resolved → closed, or reopened; every refused
move; the resolution; the revisit follow-up; the satisfaction recorded once; stale forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.labels import label
from crm.services.errors import DomainError, StaleEdit
from crm.services.tickets import lifecycle
from models import (
    Reminder,
    ReminderSource,
    ReminderStatus,
    ServiceTicket,
    TicketEvent,
    TicketStatus,
)
from tests.tickets import STEPS, advance, events, open_ticket, reloaded, ticket_in

STATUSES = tuple(STEPS)


@pytest.fixture(autouse=True)
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"])


def _act(ticket, action: str, actor, **fields):
    """Call the service's change named `action` with what it needs, from the stored version."""
    version = fields.pop("version", ticket.version)
    call = {
        "start": lambda: lifecycle.start(ticket, actor=actor, version=version),
        "resolve": lambda: lifecycle.resolve(
            ticket, actor=actor, version=version, resolution=fields.get("resolution", "已修复")
        ),
        "close": lambda: lifecycle.close(
            ticket, actor=actor, version=version, satisfaction=fields.get("satisfaction", 5)
        ),
        "reopen": lambda: lifecycle.reopen(ticket, actor=actor, version=version),
        "assign": lambda: lifecycle.assign_handler(
            ticket, actor=actor, version=version, handler_id=fields.get("handler_id")
        ),
    }[action]
    return call()


def _state(ticket) -> tuple:
    db.session.expire_all()
    row = db.session.get(ServiceTicket, ticket.id)
    count = db.session.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    )
    return row.status, row.version, row.handler_id, row.satisfaction, count


def test_a_ticket_goes_through_its_whole_life_with_an_event_for_each_change(org, customer):
    m1 = org["m1"]
    ticket = open_ticket(customer)
    assert (ticket.status, ticket.owner_id, ticket.created_by_id) == ("open", m1.id, m1.id)
    advance(ticket, "closed")
    assert ticket.satisfaction == 4 and ticket.closed_at is not None
    lifecycle.reopen(ticket, actor=org["sup1"], version=ticket.version, note="又断了")
    db.session.commit()
    assert ticket.status == "open" and ticket.reopened_count == 1
    assert ticket.resolved_at is None and ticket.closed_at is None
    advance(ticket, "resolved")
    lifecycle.close(ticket, actor=m1, version=ticket.version, satisfaction=None)
    db.session.commit()

    assert events(ticket) == [
        (None, "open"),
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "open"),
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    reopened = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.note == "又断了")
    ).one()
    assert reopened.actor_id == org["sup1"].id
    assert reloaded(ticket).satisfaction == 4  # the first revisit's answer stays


# Every move a status does not allow is refused, and changes nothing.
REFUSED = [
    (status, action)
    for status in STATUSES
    for action in ("start", "resolve", "close", "reopen", "assign")
    if status not in lifecycle.ACTIONS[action]
]


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_a_move_the_status_does_not_allow_is_refused_and_changes_nothing(
    org, customer, status, action
):
    ticket = ticket_in(customer, status)
    before = _state(ticket)
    with pytest.raises(DomainError) as refused:
        _act(ticket, action, org["m1"], handler_id=org["m1"].id)
    db.session.rollback()
    assert label(TicketStatus(status)) in str(refused.value.message)  # says what it is now
    assert _state(ticket) == before


def test_the_refusals_cover_every_status_and_the_allowed_moves_work(org, make_customer):
    allowed = {(s, a) for a, statuses in lifecycle.ACTIONS.items() for s in statuses}
    assert len(REFUSED) + len(allowed) == len(STATUSES) * len(lifecycle.ACTIONS)
    for status, action in sorted(allowed):
        ticket = ticket_in(make_customer(org["m1"]), status)
        _act(ticket, action, org["m1"], handler_id=org["sup1"].id)
        db.session.commit()
        assert reloaded(ticket).version > 1, (status, action)


def test_a_refused_move_on_the_page_says_why_and_changes_nothing(client, login, org, customer):
    ticket = ticket_in(customer, "closed")
    before = _state(ticket)
    login(client, org["m1"])
    response = client.post(f"/service/{ticket.id}/start", data={"version": ticket.version})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Only an open ticket can be taken in hand; this one is Closed." in body
    assert _state(ticket) == before


@pytest.mark.parametrize("resolution", ["", "   "])
def test_resolving_needs_the_resolution(client, login, org, customer, resolution):
    ticket = ticket_in(customer, "in_progress")
    before = _state(ticket)
    login(client, org["m1"])
    response = client.post(
        f"/service/{ticket.id}/resolve",
        data={"version": ticket.version, "resolution": resolution},
    )
    assert response.status_code == 400
    assert "Say how it was resolved" in response.get_data(as_text=True)
    assert _state(ticket) == before
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_resolving_gives_the_owner_a_follow_up_to_revisit(client, login, org, customer):
    org["m1"].timezone = "Europe/Berlin"
    db.session.commit()
    ticket = ticket_in(customer, "in_progress")
    login(client, org["sup1"])  # the supervisor resolves it; the revisit is the manager's

    response = client.post(
        f"/service/{ticket.id}/resolve",
        data={"version": ticket.version, "resolution": "更换光模块"},
    )

    assert response.status_code == 302
    ticket = reloaded(ticket)
    assert ticket.status == "resolved" and ticket.resolution == "更换光模块"
    revisit = db.session.get(Reminder, ticket.revisit_reminder_id)
    assert revisit.owner_id == org["m1"].id and revisit.customer_id == customer.id
    assert revisit.source is ReminderSource.SERVICE and revisit.status is ReminderStatus.PENDING
    assert revisit.due_on == today_in(user_zone(org["m1"])) + timedelta(days=1)
    assert f"#{ticket.id} 专线中断" == revisit.note
    # The manager sees it among their follow-ups, saying where it comes from.
    login(client, org["m1"])
    page = client.get(f"/reminders/{revisit.id}").get_data(as_text=True)
    assert "Revisit after a service ticket" in page
    assert f'href="/reminders/{revisit.id}"' in client.get(f"/service/{ticket.id}").get_data(
        as_text=True
    )


def test_closing_completes_the_revisit_and_reopening_dismisses_it(org, make_customer):
    closed = ticket_in(make_customer(org["m1"]), "closed")
    assert db.session.get(Reminder, closed.revisit_reminder_id).status is ReminderStatus.DONE
    resolved = ticket_in(make_customer(org["m1"]), "resolved")
    revisit_id = resolved.revisit_reminder_id
    lifecycle.reopen(resolved, actor=org["m1"], version=resolved.version)
    db.session.commit()
    assert db.session.get(Reminder, revisit_id).status is ReminderStatus.DISMISSED
    assert reloaded(resolved).revisit_reminder_id is None
    # Resolved again: a new revisit.
    advance(resolved, "resolved")
    assert resolved.revisit_reminder_id not in (None, revisit_id)


def test_the_satisfaction_is_recorded_once_when_closing(client, login, org, customer):
    ticket = ticket_in(customer, "resolved")
    login(client, org["m1"])
    response = client.post(
        f"/service/{ticket.id}/close",
        data={"version": ticket.version, "satisfaction": "2", "comment": "太慢了"},
    )
    assert response.status_code == 302
    ticket = reloaded(ticket)
    assert (ticket.status, ticket.satisfaction, ticket.satisfaction_comment) == (
        "closed",
        2,
        "太慢了",
    )
    # Closing it again is refused: nothing to close, and the score stays.
    again = client.post(
        f"/service/{ticket.id}/close",
        data={"version": ticket.version, "satisfaction": "5", "comment": "好了"},
    )
    assert again.status_code == 400
    assert "Only a resolved ticket can be closed" in again.get_data(as_text=True)
    # Reopened and resolved again, a second score is refused; closing without one keeps the first.
    lifecycle.reopen(ticket, actor=org["m1"], version=ticket.version)
    db.session.commit()
    advance(ticket, "resolved")
    page = client.get(f"/service/{ticket.id}").get_data(as_text=True)
    assert 'id="satisfaction-recorded"' in page and 'name="satisfaction"' not in page
    before = _state(ticket)
    second = client.post(
        f"/service/{ticket.id}/close",
        data={"version": ticket.version, "satisfaction": "5", "comment": "好了"},
    )
    assert second.status_code == 400
    assert "recorded at the first revisit; it is not recorded again" in second.get_data(
        as_text=True
    )
    assert _state(ticket) == before
    closing = client.post(f"/service/{ticket.id}/close", data={"version": ticket.version})
    assert closing.status_code == 302
    ticket = reloaded(ticket)
    assert (ticket.status, ticket.satisfaction, ticket.satisfaction_comment) == (
        "closed",
        2,
        "太慢了",
    )


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("", "satisfaction at the revisit, from 1 to 5"),
        ("9", "Choose from 1 to 5."),
        ("x", "1 to 5"),
    ],
)
def test_the_first_closing_needs_a_score_from_1_to_5(client, login, org, customer, score, message):
    ticket = ticket_in(customer, "resolved")
    before = _state(ticket)
    login(client, org["m1"])
    response = client.post(
        f"/service/{ticket.id}/close", data={"version": ticket.version, "satisfaction": score}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _state(ticket) == before


def test_a_stale_form_is_refused_with_a_clear_message_and_changes_nothing(
    client, login, org, customer
):
    ticket = ticket_in(customer, "open")
    seen = ticket.version
    lifecycle.assign_handler(ticket, actor=org["sup1"], version=seen, handler_id=org["sup1"].id)
    db.session.commit()  # the supervisor took it on meanwhile
    before = _state(ticket)
    login(client, org["m1"])

    response = client.post(f"/service/{ticket.id}/start", data={"version": seen, "note": "开始"})

    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Someone else saved this record while you were editing it" in body
    assert 'id="stale"' in body
    assert _state(ticket) == before
    # The form shown again carries the stored version: sent again, it goes through.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', body)[1]
    again = client.post(f"/service/{ticket.id}/start", data={"version": version})
    assert again.status_code == 302 and reloaded(ticket).status == "in_progress"
    with pytest.raises(StaleEdit):
        lifecycle.resolve(ticket, actor=org["m1"], version=seen, resolution="x")
    db.session.rollback()


def test_a_version_that_is_not_a_number_is_refused(client, login, org, customer):
    ticket = ticket_in(customer, "open")
    before = _state(ticket)
    login(client, org["m1"])
    response = client.post(f"/service/{ticket.id}/start", data={"version": "abc"})
    assert response.status_code == 400
    assert "This form is out of date" in response.get_data(as_text=True)
    assert _state(ticket) == before


def test_the_handler_is_the_customers_manager_or_their_supervisor(org, customer):
    ticket = open_ticket(customer)
    assert {u.username for u in lifecycle.handler_choices(customer)} == {"m1", "sup1"}
    for stranger in (org["m2"], org["m3"], org["sup2"]):
        with pytest.raises(DomainError) as refused:
            lifecycle.assign_handler(
                ticket, actor=org["sup1"], version=ticket.version, handler_id=stranger.id
            )
        db.session.rollback()
        assert refused.value.field == "handler_id"
    with pytest.raises(DomainError):  # "choose" is refused too
        lifecycle.assign_handler(ticket, actor=org["m1"], version=ticket.version, handler_id=None)
    db.session.rollback()
    # Starting a ticket nobody handles makes whoever starts it the handler.
    lifecycle.start(ticket, actor=org["sup1"], version=ticket.version)
    db.session.commit()
    assert reloaded(ticket).handler_id == org["sup1"].id
    lifecycle.assign_handler(
        ticket, actor=org["sup1"], version=ticket.version, handler_id=org["m1"].id
    )
    db.session.commit()
    handed = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()[-1]
    assert (handed.from_status, handed.to_status, handed.handler_id) == (
        "in_progress",
        "in_progress",
        org["m1"].id,
    )


def test_each_change_shows_on_the_customers_timeline(client, login, org, customer):
    ticket = ticket_in(customer, "closed")
    lifecycle.reopen(ticket, actor=org["m1"], version=ticket.version, note="又断了")
    db.session.commit()
    login(client, org["m1"])
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    entries = re.findall(r'data-kind="service">.*?</li>', page, re.S)
    assert len(entries) == 5
    text = " ".join(entries)
    for title in (
        "Complaint opened: 专线中断",
        "Ticket taken in hand: 专线中断",
        "Ticket resolved: 专线中断",
        "Ticket closed after the revisit: 专线中断",
        "Ticket reopened: 专线中断",
    ):
        assert title in text, title
    assert f'href="/service/{ticket.id}"' in text
    assert "4/5" in text and "又断了" in text
    only = client.get(f"/customers/{customer.id}/timeline?kinds=service").get_data(as_text=True)
    assert re.findall(r'data-kind="([a-z]+)"', only) == ["service"] * 5


def test_the_ticket_page_shows_the_history_and_only_the_allowed_actions(
    client, login, org, customer
):
    login(client, org["m1"])
    expected = {
        "open": {"start", "handler"},
        "in_progress": {"resolve", "handler"},
        "resolved": {"close", "reopen", "handler"},
        "closed": {"reopen"},
    }
    for status, forms in expected.items():
        ticket = ticket_in(customer, status)
        page = client.get(f"/service/{ticket.id}").get_data(as_text=True)
        actions = set(re.findall(rf'action="/service/{ticket.id}/(\w+)"', page))
        assert actions == forms, status
        assert page.count('class="list-group-item px-0 ticket-event"') == len(STEPS[status]) + 1


def test_opening_a_ticket_for_a_customer_out_of_scope_is_refused(org, make_customer):
    theirs = make_customer(org["m3"])
    with pytest.raises(DomainError):
        open_ticket(theirs, actor=org["m1"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ServiceTicket)) == 0


def test_a_ticket_opened_now_is_due_later_and_not_overdue(org, customer):
    ticket = open_ticket(customer)
    assert ticket.due_at > datetime.now(UTC)
    from crm.services.tickets import sla

    assert not sla.is_overdue(ticket)
    ticket.due_at = datetime.now(UTC) - timedelta(minutes=1)
    assert sla.is_overdue(ticket)
    advance(ticket, "resolved")
    assert not sla.is_overdue(ticket)  # resolved late is late, but no longer overdue
