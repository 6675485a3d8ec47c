"""The supervisor's home: the customers lost this quarter, with the warning signals their
health history recorded in the six months before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services.archive import loss
from crm.services.reporting.dashboards import periods_for
from crm.services.reporting.lost import lost_in, months_before, signals_before
from models import HealthBand, HealthSnapshot

NOW = datetime.now(UTC)


@pytest.fixture
def en(org):
    for person in org.values():
        if hasattr(person, "locale"):
            person.locale = "en"
    db.session.commit()
    return org


def snapshot(customer, day: date, *codes: str) -> None:
    db.session.add(
        HealthSnapshot(
            customer_id=customer.id, day=day, score=50, band=HealthBand.WATCH, signals=list(codes)
        )
    )


def test_the_supervisor_home_lists_this_quarters_lost_customers_with_their_signals(
    client, login, en, make_customer, make_competitor
):
    rival = make_competitor(name="移动集团")
    today = NOW.date()
    lost = make_customer(en["m1"], name="渐行渐远有限公司")
    loss.mark_lost(
        lost, actor=en["m1"], reason="competitor", competitor=rival, version=lost.version
    )
    # Standing since long before the six months; then two more inside them; one after.
    snapshot(lost, months_before(today, 9), "silent")
    snapshot(lost, months_before(today, 7), "no_decision_maker")
    snapshot(lost, months_before(today, 2), "no_decision_maker", "revenue_falling")
    snapshot(lost, today - timedelta(days=3), "revenue_falling", "complaints_overdue")
    other_team = make_customer(en["m3"], name="别队客户有限公司")
    loss.mark_lost(other_team, actor=en["m3"], reason="price", version=other_team.version)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    earlier = make_customer(en["m2"], name="上季度流失有限公司")
    loss.mark_lost(
        earlier,
        actor=en["m2"],
        reason="price",
        version=earlier.version,
        at=datetime.combine(quarter_start - timedelta(days=5), datetime.min.time(), UTC),
    )
    db.session.commit()
    login(client, en["sup1"])

    page = client.get("/").get_data(as_text=True)

    section = page[page.index('id="lost-this-quarter"') :]
    assert "渐行渐远有限公司" in section and "went to 移动集团" in section
    assert "别队客户有限公司" not in section and "上季度流失有限公司" not in section
    # The health part's wording of each signal, the standing one first.
    assert section.index("No active decision maker") < section.index("Revenue falling")
    assert "Complaints past their SLA" in section
    assert 'data-signal="silent"' not in section  # replaced before the six months began


def test_signals_before_a_loss():
    lost_on = date(2026, 9, 30)
    history = [
        (date(2025, 12, 1), ["silent"]),
        (date(2026, 2, 1), ["silent", "lines_lost"]),  # standing when the window opens
        (date(2026, 5, 10), ["revenue_falling"]),
        (date(2026, 10, 5), ["complaints_overdue"]),  # after the loss
    ]
    seen = signals_before(history, lost_on)
    assert [(s.code, s.since) for s in seen] == [
        ("silent", date(2026, 2, 1)),
        ("lines_lost", date(2026, 2, 1)),
        ("revenue_falling", date(2026, 5, 10)),
    ]
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert signals_before([], lost_on) == []


def test_the_home_shows_when_nobody_was_lost(client, login, en):
    login(client, en["sup1"])
    assert 'id="no-lost"' in client.get("/").get_data(as_text=True)


def test_the_lost_list_keeps_to_the_viewers_scope_whatever_owners_it_is_asked_for(
    en, make_customer
):
    theirs = make_customer(en["m3"], name="别队流失有限公司")
    loss.mark_lost(theirs, actor=en["m3"], reason="price", version=theirs.version)
    ours = make_customer(en["m1"], name="本队流失有限公司")
    loss.mark_lost(ours, actor=en["m1"], reason="price", version=ours.version)
    db.session.commit()
    quarter = periods_for(en["sup1"]).quarter

    asked_for_everyone = lost_in(quarter, viewer=en["sup1"], owner_ids=None)
    asked_for_theirs = lost_in(quarter, viewer=en["sup1"], owner_ids=[en["m3"].id])

    assert [line.name for line in asked_for_everyone.customers] == ["本队流失有限公司"]
    assert asked_for_theirs.customers == []
    assert len(lost_in(quarter, viewer=en["admin"]).customers) == 2
