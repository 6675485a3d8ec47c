"""The SLA: each severity's hours (an admin setting), counted on the owner's clock.

Whole days run to the end of the owner's day; other hours count from opening. A manager in
Asia/Shanghai and one in Europe/Berlin get different due times for a complaint taken at the
same instant when their local days differ (around midnight), and each sees it on their clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services import settings
from crm.services.errors import DomainError
from crm.services.tickets import lifecycle, sla
from tests.tickets import advance, open_ticket, reloaded

# 2026-03-01 16:30 UTC: already 00:30 on 2 March in Shanghai, still 17:30 on 1 March in Berlin.
AFTER_SHANGHAI_MIDNIGHT = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
# 2026-03-01 14:00 UTC: 22:00 in Shanghai, 15:00 in Berlin.
LATE_IN_SHANGHAI = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def shanghai(org, make_customer):
    org["m1"].timezone = "Asia/Shanghai"
    db.session.commit()
    return make_customer(org["m1"])


@pytest.fixture
def berlin(org, make_customer):
    org["m3"].timezone = "Europe/Berlin"
    db.session.commit()
    return make_customer(org["m3"])


def _due(customer, severity: str, at: datetime) -> datetime:
    ticket = open_ticket(customer, severity=severity, now=at)
    return reloaded(ticket).due_at


def test_the_default_hours_of_each_severity(app):
    assert [(s.value, hours) for s, hours in sla.sla_table()] == [
        ("critical", 4),
        ("high", 24),
        ("medium", 72),
        ("low", 168),
    ]


@pytest.mark.parametrize(
    ("severity", "shanghai_due", "berlin_due"),
    [
        # 4 hours from opening, the same instant for both.
        ("critical", datetime(2026, 3, 1, 20, 30), datetime(2026, 3, 1, 20, 30)),
        # One day: to the end of the owner's next day. Shanghai's day is already 2 March.
        ("high", datetime(2026, 3, 3, 15, 59, 59), datetime(2026, 3, 2, 22, 59, 59)),
        ("medium", datetime(2026, 3, 5, 15, 59, 59), datetime(2026, 3, 4, 22, 59, 59)),
        ("low", datetime(2026, 3, 9, 15, 59, 59), datetime(2026, 3, 8, 22, 59, 59)),
    ],
)
def test_the_due_time_counts_days_on_the_owners_clock_across_midnight(
    shanghai, berlin, severity, shanghai_due, berlin_due
):
    assert _due(shanghai, severity, AFTER_SHANGHAI_MIDNIGHT) == shanghai_due.replace(tzinfo=UTC)
    assert _due(berlin, severity, AFTER_SHANGHAI_MIDNIGHT) == berlin_due.replace(tzinfo=UTC)


def test_a_critical_ticket_taken_late_in_the_evening_is_due_after_midnight(
    client, login, org, shanghai, berlin
):
    mine = open_ticket(shanghai, severity="critical", now=LATE_IN_SHANGHAI)
    theirs = open_ticket(berlin, severity="critical", now=LATE_IN_SHANGHAI)
    assert mine.due_at == theirs.due_at == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    # Each owner sees the due time on their own clock: 02:00 the next day in Shanghai.
    login(client, org["m1"])
    page = client.get(f"/service/{mine.id}").get_data(as_text=True)
    assert 'id="ticket-due">2026-03-02 02:00</dd>' in page
    login(client, org["m3"])
    page = client.get(f"/service/{theirs.id}").get_data(as_text=True)
    assert 'id="ticket-due">2026-03-01 19:00</dd>' in page


def test_a_viewer_in_another_zone_sees_the_owners_clock_with_its_zone(client, login, org, berlin):
    ticket = open_ticket(berlin, severity="high", now=AFTER_SHANGHAI_MIDNIGHT)
    org["admin"].timezone = "Asia/Shanghai"
    db.session.commit()
    login(client, org["admin"])
    page = client.get(f"/service/{ticket.id}").get_data(as_text=True)
    assert 'id="ticket-due">2026-03-02 23:59 (Europe/Berlin)</dd>' in page
    listed = client.get("/service/?status=all").get_data(as_text=True)
    assert "2026-03-02 23:59 (Europe/Berlin)" in listed


def test_an_administrator_changes_a_severitys_hours_for_new_tickets(org, shanghai):
    before = open_ticket(shanghai, severity="high", now=AFTER_SHANGHAI_MIDNIGHT)
    settings.change("service.sla_hours.high", "36", actor=org["admin"])
    db.session.commit()
    after = open_ticket(shanghai, severity="high", now=AFTER_SHANGHAI_MIDNIGHT)
    # 36 hours are not whole days: they count from opening.
    assert after.due_at == AFTER_SHANGHAI_MIDNIGHT + timedelta(hours=36)
    assert reloaded(before).due_at == datetime(2026, 3, 3, 15, 59, 59, tzinfo=UTC)  # as it was
    settings.change("service.sla_hours.high", "48", actor=org["admin"])
    db.session.commit()
    two_days = open_ticket(shanghai, severity="high", now=AFTER_SHANGHAI_MIDNIGHT)
    assert two_days.due_at == datetime(2026, 3, 4, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["0", "-4", "9999", "four", ""])
def test_hours_out_of_range_are_refused(org, raw):
    with pytest.raises(DomainError):
        settings.change("service.sla_hours.critical", raw, actor=org["admin"])
    db.session.rollback()
    assert sla.hours_for(sla.TicketSeverity.CRITICAL) == 4


def test_the_settings_page_lists_the_service_hours(client, login, org):
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    page = client.get("/admin/settings").get_data(as_text=True)
    for key in ("critical", "high", "medium", "low"):
        assert f"service.sla_hours.{key}" in page
    assert "service.revisit_days" in page


def test_reopening_starts_the_clock_again_from_now(org, shanghai):
    ticket = advance(open_ticket(shanghai, severity="critical", now=LATE_IN_SHANGHAI), "resolved")
    back = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    lifecycle.reopen(ticket, actor=org["m1"], version=ticket.version, now=back)
    db.session.commit()
    assert reloaded(ticket).due_at == back + timedelta(hours=4)
    assert reloaded(ticket).opened_at == LATE_IN_SHANGHAI  # it was opened then, all the same


def test_the_revisit_day_is_the_owners_next_day(org, berlin):
    ticket = advance(open_ticket(berlin, now=AFTER_SHANGHAI_MIDNIGHT), "in_progress")
    lifecycle.resolve(
        ticket,
        actor=org["m3"],
        version=ticket.version,
        resolution="已修复",
        now=AFTER_SHANGHAI_MIDNIGHT,
    )
    db.session.commit()
    from models import Reminder

    revisit = db.session.get(Reminder, ticket.revisit_reminder_id)
    assert revisit.due_on.isoformat() == "2026-03-02"  # Berlin's 1 March, plus one day
