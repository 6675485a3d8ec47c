"""Competitor profiles per customer and the /competitors/ list across the user's scope."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import render_template
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.services.archive import competitors as competitor_service
from crm.services.archive.competitors import PresenceFilters
from crm.services.errors import DomainError, NotFound
from models import (
    AuditAction,
    AuditEntry,
    Competitor,
    CompetitorProfile,
    OpportunityCompetitor,
    ThreatLevel,
)
from tests.paging import walk_pages


@pytest.fixture
def manager(client, org, login):
    org["m1"].locale = "en"
    db.session.commit()
    return login(client, org["m1"])


def _today(user):
    return today_in(user_zone(user))


def _form(competitor_id=None, **changes):
    data = {
        "threat": "high",
        "products": "SD-WAN, 200 lines",
        "offer": "Free upgrade to 1 Gbit/s",
        "discount_percent": "15",
        "contract_expiry": "2030-06-30",
        "strengths": "Local engineers",
        "weaknesses": "Slow repairs",
        "source": "customer_visit",
        "confirmed_on": "2024-05-01",
    }
    if competitor_id is not None:
        data["competitor_id"] = str(competitor_id)
    data.update(changes)
    return data


def _entries(action):
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "competitor_profiles", AuditEntry.action == action
            )
        )
    )


# Creating ---------------------------------------------------------------------


def test_manager_adds_a_profile_and_it_is_audited(manager, org, make_customer, make_competitor):
    customer = make_customer(org["m1"])
    unicom = make_competitor("中国联通")

    response = manager.post(f"/customers/{customer.id}/competitors/new", data=_form(unicom.id))

    assert response.status_code == 302
    assert response.location.endswith(f"/customers/{customer.id}#competition")
    profile = db.session.scalar(select(CompetitorProfile))
    assert (profile.customer, profile.competitor) == (customer, unicom)
    assert profile.discount_percent == Decimal("15.00") and profile.threat is ThreatLevel.HIGH
    [entry] = _entries(AuditAction.CREATE)
    assert entry.customer_id == customer.id and entry.actor_id == org["m1"].id
    assert entry.entity_label == "中国联通" and entry.changes["discount_percent"] == "15.00"


def test_new_form_offers_only_active_competitors_not_yet_profiled(
    manager, org, make_customer, make_competitor, make_profile
):
    customer = make_customer(org["m1"])
    profiled = make_competitor("Profiled Telecom")
    make_competitor("Retired Telecom", active=False)
    make_competitor("Offered Telecom")
    make_profile(customer, profiled)

    page = manager.get(f"/customers/{customer.id}/competitors/new").get_data(as_text=True)

    options = re.search(r'<select[^>]*name="competitor_id".*?</select>', page, re.S).group(0)
    assert "Offered Telecom" in options
    assert "Profiled Telecom" not in options and "Retired Telecom" not in options
    assert f'value="{_today(org["m1"]).isoformat()}"' in page  # confirmed today by default


def test_a_second_profile_of_the_same_competitor_is_refused_with_a_link(
    manager, org, make_customer, make_competitor, make_profile
):
    customer = make_customer(org["m1"])
    unicom = make_competitor("中国联通")
    existing = make_profile(customer, unicom)

    response = manager.post(f"/customers/{customer.id}/competitors/new", data=_form(unicom.id))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "already has a profile of 中国联通" in page
    assert f'href="/competitors/profiles/{existing.id}/edit"' in page
    assert db.session.query(CompetitorProfile).count() == 1


def test_the_same_competitor_may_be_profiled_at_another_customer(
    manager, org, make_customer, make_competitor, make_profile
):
    unicom = make_competitor()
    make_profile(make_customer(org["m1"]), unicom)
    other = make_customer(org["m1"])

    response = manager.post(f"/customers/{other.id}/competitors/new", data=_form(unicom.id))

    assert response.status_code == 302
    assert db.session.query(CompetitorProfile).count() == 2


@pytest.mark.parametrize("discount", ["-1", "100.01", "250"])
def test_discount_outside_0_to_100_is_refused(
    manager, org, make_customer, make_competitor, discount
):
    customer = make_customer(org["m1"])
    competitor = make_competitor()

    response = manager.post(
        f"/customers/{customer.id}/competitors/new",
        data=_form(competitor.id, discount_percent=discount),
    )

    assert response.status_code == 400
    assert "discount must be between 0 and 100" in response.get_data(as_text=True)
    assert db.session.query(CompetitorProfile).count() == 0


@pytest.mark.parametrize("discount", ["0", "100", "12.5"])
def test_discount_boundaries_are_accepted(manager, org, make_customer, make_competitor, discount):
    customer = make_customer(org["m1"])

    response = manager.post(
        f"/customers/{customer.id}/competitors/new",
        data=_form(make_competitor().id, discount_percent=discount),
    )

    assert response.status_code == 302
    assert db.session.scalar(select(CompetitorProfile.discount_percent)) == Decimal(discount)


def test_confirmation_in_the_future_is_refused_today_is_accepted(
    manager, org, make_customer, make_competitor
):
    customer = make_customer(org["m1"])
    competitor = make_competitor()
    today = _today(org["m1"])
    url = f"/customers/{customer.id}/competitors/new"

    tomorrow = manager.post(url, data=_form(competitor.id, confirmed_on=str(today + timedelta(1))))
    assert tomorrow.status_code == 400
    assert "cannot have been confirmed in the future" in tomorrow.get_data(as_text=True)
    assert db.session.query(CompetitorProfile).count() == 0

    assert manager.post(url, data=_form(competitor.id, confirmed_on=str(today))).status_code == 302
    assert db.session.scalar(select(CompetitorProfile.confirmed_on)) == today


def test_a_retired_competitor_cannot_be_profiled(manager, org, make_customer, make_competitor):
    customer = make_customer(org["m1"])
    retired = make_competitor("Gone Bank", active=False)

    response = manager.post(f"/customers/{customer.id}/competitors/new", data=_form(retired.id))

    assert response.status_code == 400
    assert "Gone Bank is retired" in response.get_data(as_text=True)
    assert db.session.query(CompetitorProfile).count() == 0


def test_the_service_refuses_an_actor_out_of_scope(org, make_customer, make_competitor):
    customer = make_customer(org["m1"])
    with pytest.raises(NotFound):  # out of scope reads as absent, as everywhere
        competitor_service.create_profile(
            customer, actor=org["m3"], competitor=make_competitor(), threat="low"
        )
    db.session.rollback()
    assert db.session.query(CompetitorProfile).count() == 0


# Editing and deleting ---------------------------------------------------------


def test_edit_saves_and_audits_the_changed_fields(manager, org, make_customer, make_profile):
    customer = make_customer(org["m1"])
    profile = make_profile(customer, threat=ThreatLevel.LOW, offer="Old offer")
    today = _today(org["m1"])

    response = manager.post(
        f"/competitors/profiles/{profile.id}/edit",
        data=_form(offer="New offer", confirmed_on=str(today), version=str(profile.version)),
    )

    assert response.status_code == 302
    db.session.refresh(profile)
    assert profile.offer == "New offer" and profile.threat is ThreatLevel.HIGH
    [entry] = _entries(AuditAction.UPDATE)
    assert entry.customer_id == customer.id
    assert entry.changes["offer"] == ["Old offer", "New offer"]
    assert entry.changes["threat"] == ["low", "high"]


def test_a_stale_edit_is_refused_and_shows_the_stored_values(
    manager, org, make_customer, make_profile
):
    customer = make_customer(org["m1"])
    profile = make_profile(customer, offer="Original")
    url = f"/competitors/profiles/{profile.id}/edit"
    start = str(profile.version)

    first = manager.post(url, data=_form(offer="Colleague's offer", version=start))
    second = manager.post(url, data=_form(offer="My unsaved offer", version=start))

    assert first.status_code == 302
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else saved this record" in page
    table = re.search(r'<table[^>]*id="stale-values".*?</table>', page, re.S).group(0)
    assert "Colleague&#39;s offer" in table and "My unsaved offer" in table
    db.session.refresh(profile)
    assert profile.offer == "Colleague's offer"
    assert len(_entries(AuditAction.UPDATE)) == 1
    # The form now carries the stored version: saving again is a deliberate choice.
    assert f'name="version" type="hidden" value="{profile.version}"' in page


def test_delete_removes_the_profile_and_keeps_its_values_in_the_log(
    manager, org, make_customer, make_profile
):
    customer = make_customer(org["m1"])
    profile = make_profile(customer, products="IDC racks")
    profile_id = profile.id

    response = manager.post(f"/competitors/profiles/{profile_id}/delete", data={"confirmed": "1"})

    assert response.status_code == 302
    assert db.session.get(CompetitorProfile, profile_id) is None
    [entry] = _entries(AuditAction.DELETE)
    assert entry.customer_id == customer.id and entry.entity_id == profile_id
    assert entry.changes["products"] == "IDC racks"


def test_get_never_deletes(manager, org, make_customer, make_profile):
    profile = make_profile(make_customer(org["m1"]))
    assert manager.get(f"/competitors/profiles/{profile.id}/delete").status_code == 405
    assert db.session.get(CompetitorProfile, profile.id) is not None


# The customer page's competitive situation ------------------------------------


def test_customer_section_shows_threat_and_flags_expiry_and_stale_information(
    app, org, make_customer, make_competitor, make_profile
):
    customer = make_customer(org["m1"])
    today = today_in(user_zone(None))  # rendered without a user: the default zone
    soon = make_profile(
        customer,
        make_competitor("Soon Telecom"),
        threat=ThreatLevel.HIGH,
        contract_expiry=today + timedelta(90),
        confirmed_on=today - timedelta(180),
    )
    ended = make_profile(
        customer,
        make_competitor("Ended Telecom"),
        contract_expiry=today - timedelta(3),
        confirmed_on=today - timedelta(181),
    )
    later = make_profile(
        customer, make_competitor("Later Telecom"), contract_expiry=today + timedelta(91)
    )

    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template("competitors/_customer_profiles.html", customer=customer)

    def card(profile):
        return re.search(rf'id="profile-{profile.id}".*?</form>', html, re.S).group(0)

    assert "Threat: High" in card(soon) and "bg-danger" in card(soon)
    assert "contract-expiring" in card(soon) and "confirmation-stale" not in card(soon)
    assert "contract-expired" in card(ended) and "confirmation-stale" in card(ended)
    assert "contract-expiring" not in card(later) and "contract-expired" not in card(later)
    assert html.index("Soon Telecom") < html.index("Ended Telecom")  # high threat first
    assert f"/customers/{customer.id}/competitors/new" in html


def test_customer_page_shows_the_competitive_situation(manager, org, make_customer, make_profile):
    customer = make_customer(org["m1"])
    profile = make_profile(customer, offer="Half price for a year")

    page = manager.get(f"/customers/{customer.id}").get_data(as_text=True)

    assert 'id="competition"' in page and f'id="profile-{profile.id}"' in page
    assert "Half price for a year" in page


# /competitors/ ----------------------------------------------------------------


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="presence-(\d+)"', html)]


def _row_ids(response):
    return set(_ids(response.get_data(as_text=True)))


def test_list_never_shows_out_of_scope_customers(
    client, login, org, make_customer, make_competitor, make_profile
):
    unicom = make_competitor()
    mine = make_profile(make_customer(org["m1"]), unicom)
    teammate = make_profile(make_customer(org["m2"]), unicom)
    other_team = make_profile(make_customer(org["m3"]), unicom)

    assert _row_ids(login(client, org["m1"]).get("/competitors/")) == {mine.id}
    supervisor = login(client, org["sup1"]).get(f"/competitors/?competitor={unicom.id}")
    assert _row_ids(supervisor) == {mine.id, teammate.id}
    assert _row_ids(login(client, org["admin"]).get("/competitors/")) == {
        mine.id,
        teammate.id,
        other_team.id,
    }
    summary = competitor_service.presence_summary(org["sup1"], 90, _today(org["sup1"]))
    assert [(row["name"], row["customers"]) for row in summary] == [(unicom.name, 2)]


def test_an_admins_overview_is_counted_up_to_a_bound_and_paged_to_the_end(
    app, client, login, org, make_customer, make_competitor, make_profile, monkeypatch
):
    """Every team's profiles: counted a bound past the page; the pages give each once."""
    from blueprints import paging

    monkeypatch.setattr(paging, "COUNT_AHEAD", 4)
    app.config["PAGE_SIZE"] = 3
    rivals = [make_competitor() for _ in range(2)]
    made = [
        make_profile(make_customer(org["m1" if i % 2 else "m3"]), rivals[i % 2]) for i in range(8)
    ]
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    pages = walk_pages(client, "/competitors/")
    assert "More than 4" in pages[0] and "in all" not in pages[0]
    assert sorted(i for page in pages for i in _ids(page)) == sorted(p.id for p in made)
    assert "8 in all" in pages[-1]


def test_expiry_window_includes_day_n_and_excludes_day_n_plus_one(
    manager, org, make_customer, make_competitor, make_profile
):
    today = _today(org["m1"])
    competitor = make_competitor()

    def expiring(days):
        expiry = today + timedelta(days) if days is not None else None
        return make_profile(make_customer(org["m1"]), competitor, contract_expiry=expiry).id

    on_day_n, after_n, today_id, ended, unknown = (
        expiring(30),
        expiring(31),
        expiring(0),
        expiring(-1),
        expiring(None),
    )

    window = _row_ids(manager.get("/competitors/?days=30&expiring=1"))
    assert window == {on_day_n, today_id}
    with_ended = _row_ids(manager.get("/competitors/?days=30&expiring=1&expired=1"))
    assert with_ended == {on_day_n, today_id, ended}
    everything = _row_ids(manager.get("/competitors/?days=30"))
    assert everything == {on_day_n, after_n, today_id, ended, unknown}

    [summary] = competitor_service.presence_summary(org["m1"], 30, today)
    assert (summary["customers"], summary["expiring"]) == (5, 2)


def test_list_filters_by_competitor_and_threat_and_sorts_by_expiry(
    manager, org, make_customer, make_competitor, make_profile
):
    today = _today(org["m1"])
    unicom, telecom = make_competitor("Unicom"), make_competitor("Telecom")
    late = make_profile(
        make_customer(org["m1"]),
        unicom,
        threat=ThreatLevel.HIGH,
        contract_expiry=today + timedelta(200),
    )
    early = make_profile(
        make_customer(org["m1"]),
        unicom,
        threat=ThreatLevel.HIGH,
        contract_expiry=today + timedelta(10),
    )
    undated = make_profile(make_customer(org["m1"]), unicom, threat=ThreatLevel.HIGH)
    low = make_profile(make_customer(org["m1"]), unicom, threat=ThreatLevel.LOW)
    elsewhere = make_profile(make_customer(org["m1"]), telecom, threat=ThreatLevel.HIGH)

    response = manager.get(f"/competitors/?competitor={unicom.id}&threat=high&sort=expiry")
    assert _row_ids(response) == {late.id, early.id, undated.id}
    assert low.id not in _row_ids(response) and elsewhere.id not in _row_ids(response)
    order = [int(i) for i in re.findall(r'id="presence-(\d+)"', response.get_data(as_text=True))]
    assert order == [early.id, late.id, undated.id]  # no date comes last
    descending = manager.get(f"/competitors/?competitor={unicom.id}&threat=high&sort=-expiry")
    order = [int(i) for i in re.findall(r'id="presence-(\d+)"', descending.get_data(as_text=True))]
    assert order == [late.id, early.id, undated.id]


def test_unknown_filter_values_fall_back_to_defaults():
    filters = PresenceFilters.from_args(
        {"days": "7", "threat": "huge", "sort": "x", "competitor": "a"}
    )
    assert (filters.days, filters.threat, filters.sort, filters.competitor) == (
        90,
        "",
        "expiry",
        "",
    )


def test_registry_link_is_shown_to_admins_only(client, login, org):
    org["admin"].locale = org["m1"].locale = "en"
    db.session.commit()
    assert 'id="manage-registry"' not in login(client, org["m1"]).get("/competitors/").get_data(
        as_text=True
    )
    assert 'id="manage-registry"' in login(client, org["admin"]).get("/competitors/").get_data(
        as_text=True
    )


@pytest.mark.parametrize("persona", ["m1", "sup1"])
def test_list_statement_count_does_not_grow_with_rows(
    client, login, org, make_customer, make_competitor, make_profile, count_queries, persona
):
    competitors = [make_competitor() for _ in range(5)]
    customers = [make_customer(org["m1"]) for _ in range(10)]
    login(client, org[persona])

    def statements_for(rows: int) -> int:
        existing = db.session.query(CompetitorProfile).count()
        for n in range(existing, rows):
            make_profile(customers[n // 5], competitors[n % 5], contract_expiry=None)
        db.session.expire_all()
        with count_queries() as statements:
            response = client.get("/competitors/")
        assert response.status_code == 200 and len(_row_ids(response)) == rows
        return len(statements)

    assert statements_for(5) == statements_for(50)


# The registry ----------------------------------------------------------------


@pytest.mark.parametrize("named_as", ["bidder", "lost_to"])
def test_a_competitor_named_on_an_opportunity_cannot_be_deleted(
    client, login, org, make_customer, make_competitor, make_opportunity, named_as
):
    org["admin"].locale = "en"
    db.session.commit()
    competitor = make_competitor("中国电信")
    opportunity = make_opportunity(make_customer(org["m1"]))
    if named_as == "bidder":
        db.session.add(OpportunityCompetitor(opportunity=opportunity, competitor=competitor))
    else:
        opportunity.lost_to = competitor
    db.session.commit()

    response = login(client, org["admin"]).post(
        f"/admin/competitors/{competitor.id}/delete", data={"confirmed": "1"}, follow_redirects=True
    )

    assert response.status_code == 200
    assert "is named on 1 opportunities and cannot be deleted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Competitor, competitor.id) is not None
    with pytest.raises(DomainError):
        competitor_service.delete_competitor(competitor, actor=org["admin"])
