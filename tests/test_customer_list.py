"""The customer list: search, filters, sort and pages, always within scope; constant SQL."""

from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.services.activity import timeline
from crm.services.archive import customers as customer_service
from crm.services.audit import record
from models import (
    AuditAction,
    BuyingRole,
    CompetitorProfile,
    Customer,
    CustomerStatus,
    Industry,
    Strategy,
    Tier,
)


def listed(client, query: str = "") -> set[str]:
    """Names of the customers the list shows for this query string."""
    response = client.get(f"/customers/?{query}")
    assert response.status_code == 200
    return set(re.findall(r'href="/customers/\d+">([^<]+)</a>', response.get_data(as_text=True)))


@pytest.fixture
def portfolios(org, make_customer, make_contact):
    """The same kind of customer in four portfolios, one of them in another team."""
    industry = Industry(name_zh="测试能源", name_en="Test energy")
    db.session.add(industry)
    for owner in ("m1", "m2", "m3", "sup1"):
        customer = make_customer(
            org[owner],
            name=f"{owner}-北辰能源",
            credit_code=None,
            tier=Tier.A,
            strategy=Strategy.INVEST,
            status=CustomerStatus.AT_RISK,
            region="江城市",
            industry=industry,
        )
        make_contact(customer, name="王建华", mobile="13900001111", role=BuyingRole.INFLUENCER)
    return industry


def test_search_and_filters_never_leave_the_scope(client, login, org, portfolios):
    login(client, org["m1"])
    for query in (
        "",
        "q=北辰",
        "q=王建华",
        "q=13900001111",
        "tier=A",
        "strategy=invest",
        "status=at_risk",
        "region=江城市",
        f"industry={portfolios.id}",
        "no_decision_maker=1",
        f"owner={org['m3'].id}",
        f"owner={org['m2'].id}&q=王建华",
    ):
        assert listed(client, query) <= {"m1-北辰能源"}, query
    assert listed(client, "q=王建华&no_decision_maker=1") == {"m1-北辰能源"}


def test_a_supervisor_sees_the_team_and_nobody_else(client, login, org, portfolios):
    login(client, org["sup1"])
    team = {"m1-北辰能源", "m2-北辰能源", "sup1-北辰能源"}
    assert listed(client) == team
    assert listed(client, "q=13900001111") == team
    assert listed(client, f"owner={org['m2'].id}") == {"m2-北辰能源"}
    # Naming another team's manager narrows to nothing; it never widens the scope.
    assert listed(client, f"owner={org['m3'].id}") == set()
    page = client.get("/customers/").get_data(as_text=True)
    assert 'id="filter-owner"' in page
    assert ">M2</option>" in page and ">M3</option>" not in page


def test_a_manager_gets_no_owner_filter(client, login, org, portfolios):
    login(client, org["m1"])
    assert 'id="filter-owner"' not in client.get("/customers/").get_data(as_text=True)


def test_filters_narrow_and_stay_in_the_page_links(client, login, org, make_customer, make_contact):
    login(client, org["m1"])
    with_boss = make_customer(org["m1"], name="有决策者", tier=Tier.A_PLUS)
    make_contact(with_boss, role=BuyingRole.DECISION_MAKER)
    make_customer(org["m1"], name="无决策者", tier=Tier.C)
    assert listed(client, "no_decision_maker=1") == {"无决策者"}
    assert listed(client, "tier=A%2B") == {"有决策者"}
    page = client.get("/customers/").get_data(as_text=True)
    assert page.count("no-dm-badge") == 1


def test_tiers_sort_by_value(client, login, org, make_customer):
    for name, tier in (("c", Tier.C), ("a", Tier.A), ("aplus", Tier.A_PLUS), ("b", Tier.B)):
        make_customer(org["m1"], name=name, tier=tier)
    login(client, org["m1"])
    page = client.get("/customers/?sort=tier").get_data(as_text=True)
    names = re.findall(r'href="/customers/\d+">([^<]+)</a>', page)
    assert names == ["aplus", "a", "b", "c"]


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 3}])
def test_pages_keep_the_filters(client, login, org, make_customer):
    for number in range(7):
        make_customer(org["m1"], name=f"甲{number}", tier=Tier.B)
    make_customer(org["m1"], name="乙", tier=Tier.C)
    org["m1"].locale = "en"
    login(client, org["m1"])
    first = client.get("/customers/?tier=B").get_data(as_text=True)
    assert "tier=B" in re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    assert listed(client, "tier=B&page=3") == {"甲6"}
    assert "7 in all" in first


def shown_in_order(client, query: str) -> list[str]:
    page = client.get(f"/customers/?{query}").get_data(as_text=True)
    return re.findall(r'href="/customers/\d+">([^<]+)</a>', page)


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 3}])
def test_a_team_list_sorts_by_name_across_its_owners_and_pages(client, login, org, make_customer):
    # The team's names interleave between owners, so no one owner's portfolio is in order alone.
    for name, owner in (("丙", "m2"), ("甲", "m1"), ("戊", "sup1"), ("乙", "m2"), ("丁", "m1")):
        make_customer(org[owner], name=name)
    make_customer(org["m3"], name="丙丙")
    login(client, org["sup1"])
    ascending = sorted(["丙", "甲", "戊", "乙", "丁"])
    assert shown_in_order(client, "") + shown_in_order(client, "page=2") == ascending
    assert shown_in_order(client, "sort=-name") == ascending[::-1][:3]
    assert shown_in_order(client, "sort=-name&page=2") == ascending[::-1][3:]


@pytest.mark.parametrize(
    ("viewer", "expected"), [("admin", ["乙市", "甲市", "丙市"]), ("sup1", ["乙市", "甲市"])]
)
def test_the_region_filter_offers_the_regions_in_scope_once_each(
    client, login, org, make_customer, viewer, expected
):
    for owner, region in (
        ("m1", "甲市"),
        ("m2", "乙市"),
        ("m1", "甲市"),
        ("m1", None),
        ("m3", "丙市"),
    ):
        make_customer(org[owner], region=region)
    login(client, org[viewer])
    page = client.get("/customers/").get_data(as_text=True)
    choices = re.search(r'id="filter-region".*?</select>', page, re.S).group(0)
    offered = re.findall(r'<option value="([^"]+)"', choices)
    # Sorted by the database's collation, which need not be Python's code-point order.
    assert sorted(offered) == sorted(expected)


def test_the_owner_filter_keeps_the_chosen_owner(client, login, org, portfolios):
    login(client, org["admin"])
    page = client.get(f"/customers/?owner={org['m3'].id}").get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)" selected>', page) == [str(org["m3"].id)]
    assert listed(client, f"owner={org['m3'].id}") == {"m3-北辰能源"}


# Statement counts -------------------------------------------------------------------


def _fill_portfolio(org, make_customer, make_contact, rows: int) -> None:
    for number in range(rows):
        # A distinct industry per row: a lazy load per row would show in the count.
        industry = Industry(name_zh=f"行业{rows}-{number}", name_en=f"Industry {rows}-{number}")
        customer = make_customer(
            org["m1"] if number % 2 else org["m2"], name=f"客户{number:03d}", industry=industry
        )
        if number % 3:
            make_contact(customer, role=BuyingRole.DECISION_MAKER)


def _count_list(client, count_queries, query="") -> int:
    # The test's session outlives each request: without this, rows loaded by an earlier
    # request would hide a lazy load per row.
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(f"/customers/?{query}")
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("viewer", ["m1", "sup1", "admin"])
def test_the_list_runs_the_same_statements_for_5_and_50_rows(
    client, login, org, make_customer, make_contact, count_queries, viewer
):
    login(client, org[viewer])
    _fill_portfolio(org, make_customer, make_contact, 5)
    few = _count_list(client, count_queries), _count_list(client, count_queries, "q=客户")
    _fill_portfolio(org, make_customer, make_contact, 45)
    many = _count_list(client, count_queries), _count_list(client, count_queries, "q=客户")
    assert few == many


def _build_customer_page(org, make_customer, make_contact, make_profile, rows: int) -> Customer:
    customer = customer_service.create_customer(actor=org["m1"], name=f"集团{rows}")
    db.session.commit()
    boss = make_contact(customer, role=BuyingRole.DECISION_MAKER)
    for number in range(rows):
        make_contact(customer, name=f"联系人{number}", reports_to=boss)
        make_profile(customer)
        make_customer(
            org["m1"] if number % 2 else org["m3"], name=f"分{rows}-{number}", parent=customer
        )
        record(
            AuditAction.UPDATE,
            customer,
            actor=org["m1"] if number % 2 else org["m2"],
            customer_id=customer.id,
            changes={"owner_id": [org["m1"].id, org["m2"].id], "tier": ["C", "B"]},
        )
    db.session.commit()
    return customer


def test_the_customer_page_runs_the_same_statements_for_5_and_50_rows(
    client, login, org, make_customer, make_contact, make_profile, count_queries
):
    login(client, org["m1"])
    counts = []
    for rows in (5, 50):
        customer = _build_customer_page(org, make_customer, make_contact, make_profile, rows)
        db.session.expire_all()
        with count_queries() as statements:
            response = client.get(f"/customers/{customer.id}")
        assert response.status_code == 200
        # The page shows the newest entries; the rest are one "more" away.
        shown = response.get_data(as_text=True).count("history-entry")
        assert shown == min(rows + 1, timeline.LATEST)
        assert (
            db.session.query(CompetitorProfile).filter_by(customer_id=customer.id).count() == rows
        )
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
