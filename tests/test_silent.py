"""Silent customers: the cadence boundary per tier in the user's time zone, counts, admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import customer_scope
from crm.services.activity import cadence
from crm.services.archive.search import CustomerFilters, search_customers
from crm.services.errors import NotAllowed
from models import Customer, CustomerStatus, Tier, TierCadence

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULTS = {Tier.A_PLUS: 14, Tier.A: 30, Tier.B: 60, Tier.C: 90}


def silent_ids(user, now) -> set[int]:
    """Silent customers in scope, by the SQL filter."""
    rule = cadence.silent_rule(user, now=now)
    return set(db.session.scalars(select(Customer.id).where(rule.filter(), customer_scope(user))))


def at_local_noon(day, zone) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone).replace(hour=12).astimezone(UTC)


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize(
    ("days_after_cadence", "silent"), [(-1, False), (0, False), (1, True)], ids=str
)
def test_silent_only_after_the_cadence_has_passed(
    org, make_customer, tier, days_after_cadence, silent
):
    """A day before and on the day the cadence is reached: not silent; the day after: silent."""
    m1 = org["m1"]
    # Visited late in the evening in Shanghai: the UTC date is a day earlier.
    visited = datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)
    customer = make_customer(m1, tier=tier, last_visit_at=visited.astimezone(UTC))
    today = visited.date() + timedelta(days=DEFAULTS[tier] + days_after_cadence)
    now = at_local_noon(today, SHANGHAI)

    rule = cadence.silent_rule(m1, now=now)

    assert rule.quiet_days(customer) == DEFAULTS[tier] + days_after_cadence
    assert rule.is_silent(customer) is silent
    assert (customer.id in silent_ids(m1, now)) is silent


def test_the_users_time_zone_decides_the_day(org, make_customer):
    """One visit, one instant: a Shanghai user and a New York user see different local days."""
    shanghai_user, new_york_user = org["m1"], org["sup1"]
    new_york_user.timezone = "America/New_York"
    db.session.commit()
    # 00:30 on 2 March in Shanghai is 11:30 on 1 March in New York.
    visited = datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI)
    customer = make_customer(shanghai_user, tier=Tier.A_PLUS, last_visit_at=visited)
    # 12:00 UTC on 16 March: 20:00 in Shanghai, 08:00 in New York, both on 16 March.
    now = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)

    # Shanghai: 14 quiet days, the cadence is just reached. New York: 15 days, silent.
    assert customer.id not in silent_ids(shanghai_user, now)
    assert customer.id in silent_ids(new_york_user, now)
    assert not cadence.silent_rule(shanghai_user, now=now).is_silent(customer)
    assert cadence.silent_rule(new_york_user, now=now).is_silent(customer)


def test_silent_from_local_midnight(org, make_customer):
    """For a Shanghai user the customer turns silent at midnight Shanghai time (16:00 UTC)."""
    user = org["m1"]
    customer = make_customer(
        user, tier=Tier.A_PLUS, last_visit_at=datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    )
    before_midnight = datetime(2026, 3, 16, 15, 59, tzinfo=UTC)  # 23:59 on 16 March
    after_midnight = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 00:00 on 17 March

    assert customer.id not in silent_ids(user, before_midnight)
    assert customer.id in silent_ids(user, after_midnight)


def test_a_customer_never_visited_counts_from_its_creation(org, make_customer):
    user = org["m1"]
    created = datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI)
    customer = make_customer(user, tier=Tier.A, created_at=created)
    on_the_day = at_local_noon(created.date() + timedelta(days=30), SHANGHAI)
    day_after = on_the_day + timedelta(days=1)

    assert customer.id not in silent_ids(user, on_the_day)
    assert customer.id in silent_ids(user, day_after)
    assert cadence.silent_rule(user, now=day_after).is_silent(customer)


def test_a_recent_visit_wins_over_an_old_creation_date(org, make_customer):
    user = org["m1"]
    now = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    customer = make_customer(
        user,
        tier=Tier.A_PLUS,
        created_at=now - timedelta(days=400),
        last_visit_at=now - timedelta(days=3),
    )
    assert customer.id not in silent_ids(user, now)


def test_lost_customers_are_never_silent(org, make_customer):
    user = org["m1"]
    now = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    lost = make_customer(
        user, tier=Tier.C, status=CustomerStatus.LOST, last_visit_at=now - timedelta(days=300)
    )
    assert lost.id not in silent_ids(user, now)
    assert not cadence.silent_rule(user, now=now).is_silent(lost)


def test_counts_by_tier_in_scope_in_one_grouped_query(org, make_customer, count_queries):
    now = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    long_ago = now - timedelta(days=200)
    for owner, tier in (("m1", Tier.A_PLUS), ("m1", Tier.A_PLUS), ("m2", Tier.B), ("m3", Tier.C)):
        make_customer(org[owner], tier=tier, last_visit_at=long_ago)
    make_customer(org["m1"], tier=Tier.A, last_visit_at=now - timedelta(days=1))

    assert cadence.count_silent_by_tier(org["m1"], now=now) == {
        Tier.A_PLUS: 2,
        Tier.A: 0,
        Tier.B: 0,
        Tier.C: 0,
    }
    assert cadence.count_silent_by_tier(org["sup1"], now=now)[Tier.B] == 1
    assert cadence.count_silent_by_tier(org["sup1"], now=now)[Tier.C] == 0
    assert sum(cadence.count_silent_by_tier(org["admin"], now=now).values()) == 4
    with count_queries() as statements:
        cadence.count_silent_by_tier(org["sup1"], now=now)
    # the supervisor's team members (resolved to ids), the cadences, then the grouped count
    assert len(statements) == 3


def test_the_customer_search_filters_silent_customers(org, make_customer):
    user = org["m1"]
    quiet = make_customer(user, tier=Tier.B, last_visit_at=datetime.now(UTC) - timedelta(days=90))
    make_customer(user, tier=Tier.B, last_visit_at=datetime.now(UTC) - timedelta(days=2))
    make_customer(org["m3"], tier=Tier.B, last_visit_at=datetime.now(UTC) - timedelta(days=90))

    filters = CustomerFilters.from_args({"silent": "1"})
    found = list(db.session.scalars(search_customers(user, filters)))

    assert found == [quiet]
    assert CustomerFilters.from_args({"silent": "yes please"}).silent == ""


def test_home_page_counts_silent_customers_by_tier(client, login, org, make_customer):
    org["m1"].locale = "en"
    db.session.commit()
    make_customer(org["m1"], tier=Tier.A_PLUS, last_visit_at=datetime.now(UTC) - timedelta(days=20))
    make_customer(org["m1"], tier=Tier.A_PLUS, last_visit_at=datetime.now(UTC) - timedelta(days=2))
    login(client, org["m1"])

    page = client.get("/").get_data(as_text=True)

    assert 'data-tier="A+"' in page
    block = page.split('data-tier="A+"', 1)[1].split("</a>", 1)[0]
    assert '<span class="fs-4 fw-semibold silent-count">1</span>' in block


# Cadences --------------------------------------------------------------------


def test_changed_cadence_changes_the_rule(org, make_customer):
    user = org["m1"]
    now = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    customer = make_customer(user, tier=Tier.C, last_visit_at=now - timedelta(days=45))
    assert customer.id not in silent_ids(user, now)

    cadence.set_cadences({Tier.C: 30}, actor=org["admin"])
    db.session.commit()

    assert customer.id in silent_ids(user, now)


def test_only_admins_change_cadences(org):
    with pytest.raises(NotAllowed):
        cadence.set_cadences({Tier.C: 30}, actor=org["sup1"])


@pytest.mark.parametrize("persona", ["m1", "sup1"])
def test_cadence_page_is_for_admins_only(client, login, org, persona):
    login(client, org[persona])
    assert client.get("/admin/cadences").status_code == 403
    response = client.post("/admin/cadences", data={"tier_a_plus": "7"})
    assert response.status_code == 403
    assert db.session.get(TierCadence, Tier.A_PLUS).days == 14


def test_admin_edits_cadences(client, login, org):
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    assert client.get("/admin/cadences").status_code == 200

    response = client.post(
        "/admin/cadences",
        data={"tier_a_plus": "7", "tier_a": "21", "tier_b": "45", "tier_c": "120"},
    )

    assert response.status_code == 302
    assert cadence.cadence_days() == {Tier.A_PLUS: 7, Tier.A: 21, Tier.B: 45, Tier.C: 120}


@pytest.mark.parametrize("bad", ["0", "366", "abc", "", "1.5"])
def test_cadence_values_are_validated(client, login, org, bad):
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])

    response = client.post(
        "/admin/cadences",
        data={"tier_a_plus": bad, "tier_a": "21", "tier_b": "45", "tier_c": "120"},
    )

    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert cadence.cadence_days() == DEFAULTS
