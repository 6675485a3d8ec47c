"""The at-risk list, the customer page's health panel and the health history: what each
person sees of the customers in their scope, and nothing of the others."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from crm.extensions import db
from crm.services.health import assessment
from tests.health_world import ALONE, NOW, quiet_customer

AT_RISK = ("revenue_falling", "competitor_contract_ending", "no_decision_maker")  # 45


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


def at_risk_customer(owner, stages, name, *codes):
    customer = quiet_customer(owner, name=name)
    for code in codes or AT_RISK:
        ALONE[code](customer, stages)
    return customer


def assess():
    assessment.assess_all(NOW)
    db.session.commit()


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-customer-id="(\d+)"', page)


@pytest.fixture
def world(english, stages):
    """At risk: two of m1's, one of m2's (team one), one of m3's (team two); m1 has a
    customer to watch and a healthy one too."""
    org = english
    made = {
        "m1_a": at_risk_customer(org["m1"], stages, "甲方电力有限公司"),
        "m1_b": at_risk_customer(
            org["m1"],
            stages,
            "乙方银行",
            "silent",
            "lost_to_competitor",
            "complaints_overdue",
            "contract_ending",
        ),
        "m2": at_risk_customer(org["m2"], stages, "丙方物流有限公司"),
        "m3": at_risk_customer(org["m3"], stages, "丁方港务集团"),
        "m1_watch": at_risk_customer(org["m1"], stages, "戊方制造", "silent"),
        "m1_healthy": quiet_customer(org["m1"], name="己方医院"),
    }
    assess()
    return made


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("m1", {"m1_a", "m1_b"}),
        ("m2", {"m2"}),
        ("sup1", {"m1_a", "m1_b", "m2"}),
        ("sup2", {"m3"}),
        ("admin", {"m1_a", "m1_b", "m2", "m3"}),
    ],
)
def test_the_list_shows_the_customers_at_risk_in_scope(client, login, english, world, who, sees):
    login(client, english[who])
    page = client.get("/customers/at-risk").text
    assert set(listed(page)) == {str(world[key].id) for key in sees}
    for key in set(world) - sees:
        assert world[key].name not in page


def test_the_list_says_why_and_links_to_the_customers_explanation(client, login, english, world):
    login(client, english["m1"])
    page = client.get("/customers/at-risk").text
    row = page.split(f'data-customer-id="{world["m1_a"].id}"')[1].split("</tr>")[0]
    assert f'href="/customers/{world["m1_a"].id}#health-panel"' in row
    assert "Revenue falling" in row and "−25" in row
    assert "A competitor&#39;s contract ending" in row and "No active decision maker" in row
    assert "45" in row and "At risk" in row


def test_the_list_filters_by_reason_and_band_and_sorts(client, login, english, world):
    login(client, english["sup1"])
    by_reason = client.get("/customers/at-risk?signal=lost_to_competitor").text
    assert listed(by_reason) == [str(world["m1_b"].id)]
    watch = client.get("/customers/at-risk?band=watch").text
    assert listed(watch) == [str(world["m1_watch"].id)]
    # Worst first by default (m1_b: 40, the others 45); by name on request.
    worst_first = listed(client.get("/customers/at-risk").text)
    assert worst_first[0] == str(world["m1_b"].id)
    by_name = listed(client.get("/customers/at-risk?sort=name").text)
    names = [db.session.get(type(world["m2"]), int(i)).name for i in by_name]
    assert names == sorted(names)
    mine = listed(client.get(f"/customers/at-risk?owner={english['m2'].id}").text)
    assert mine == [str(world["m2"].id)]
    # Nonsense narrows nothing and breaks nothing.
    junk = client.get("/customers/at-risk?signal=nonsense&band=x&sort=y&owner=abc")
    assert junk.status_code == 200 and len(listed(junk.text)) == 3


def test_the_list_is_paginated(client, login, english, stages, app):
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        at_risk_customer(english["m1"], stages, f"分页客户{number}")
    assess()
    login(client, english["m1"])
    first = client.get("/customers/at-risk").text
    assert len(listed(first)) == 2 and "5 in all" in first
    assert len(listed(client.get("/customers/at-risk?page=3").text)) == 1


def test_the_panel_explains_the_band_factor_by_factor(client, login, english, world):
    customer = world["m1_b"]
    login(client, english["m1"])
    page = client.get(f"/customers/{customer.id}").text
    panel = page.split('id="health-panel"')[1].split("</section>")[0]
    assert 'data-band="at_risk"' in panel and "At risk · 40" in panel
    # Heaviest first; equal weights in the signals' order.
    reasons = re.findall(r'data-signal="([a-z_]+)"', panel)
    assert reasons == ["complaints_overdue", "silent", "contract_ending", "lost_to_competitor"]
    points = [int(p) for p in re.findall(r"−(\d+)</span>", panel)]
    assert sum(points) == 100 - 40
    # Each reason links to the records behind it.
    assert f'href="/customers/{customer.id}/timeline"' in panel  # the visits (silence)
    assert f'href="/customers/{customer.id}/edit"' in panel  # our contract's expiry
    opportunity = re.search(r'href="/opportunities/(\d+)"', panel)
    assert opportunity is not None and "was lost to" in panel
    assert "No visit for 70 days" in panel


def test_the_panel_reads_one_statement(client, login, english, world, count_queries):
    login(client, english["m1"])
    db.session.expire_all()
    url = f"/customers/{world['m1_b'].id}"
    client.get(url)
    with count_queries() as with_panel:
        client.get(url)
    db.session.expire_all()
    url = f"/customers/{world['m1_healthy'].id}"
    with count_queries() as healthy:
        client.get(url)
    health_reads = [s for s in with_panel if "customer_health" in s]
    assert len(health_reads) == 1
    assert len(with_panel) == len(healthy)


def test_no_panel_before_the_first_pass(client, login, english):
    customer = quiet_customer(english["m1"])
    login(client, english["m1"])
    assert 'id="health-panel"' not in client.get(f"/customers/{customer.id}").text
    page = client.get(f"/customers/{customer.id}/health").text
    assert 'id="not-assessed"' in page


@pytest.mark.parametrize("who", ["m2", "m3", "sup2"])
def test_out_of_scope_customers_health_is_404(client, login, english, world, who):
    login(client, english[who])
    customer = world["m1_a"]
    assert client.get(f"/customers/{customer.id}/health").status_code == 404
    assert client.get(f"/customers/{customer.id}").status_code == 404


def test_the_history_shows_each_change(client, login, english, stages, world):
    customer = world["m1_watch"]
    ALONE["competitor_contract_ending"](customer, stages)
    assessment.assess_all(NOW + timedelta(days=1))
    db.session.commit()
    login(client, english["sup1"])
    page = client.get(f"/customers/{customer.id}/health").text
    table = page.split('id="health-history-table"')[1]
    assert table.count("<tr><td>") == 2
    assert "Watch · 65" in table and "Watch · 85" in table
    assert "A competitor&#39;s contract ending" in table


@pytest.mark.parametrize(("who", "count"), [("m1", 2), ("sup1", 3), ("admin", 4)])
def test_the_homes_link_the_list_with_a_count(client, login, english, world, who, count):
    login(client, english[who])
    page = client.get("/").text
    assert 'href="/customers/at-risk" id="at-risk-link"' in page
    assert re.search(r'id="at-risk-count">(\d+)<', page)[1] == str(count)


def test_each_reason_links_to_the_records_behind_it(client, login, english, stages):
    customer = at_risk_customer(
        english["m1"],
        stages,
        "证据客户有限公司",
        "revenue_falling",
        "complaints_repeated",
        "low_satisfaction",
        "competitor_high_threat",
        "no_decision_maker",
    )
    assess()
    login(client, english["m1"])
    panel = client.get(f"/customers/{customer.id}").text.split('id="health-panel"')[1]
    panel = panel.split("</section>")[0]
    links = {
        signal: (re.search(r'<a href="([^"]+)"', item) or [None, None])[1]
        for signal, item in re.findall(r'data-signal="([a-z_]+)">(.*?)</li>', panel, re.DOTALL)
    }
    cid = customer.id
    profile = customer.competitor_profiles[0].id
    assert links == {
        "revenue_falling": f"/customers/{cid}/figures",
        "complaints_repeated": f"/service/?customer={cid}&amp;kind=complaint&amp;status=all",
        "low_satisfaction": f"/service/?customer={cid}&amp;status=closed",
        "competitor_high_threat": f"/competitors/profiles/{profile}/edit",
        "no_decision_maker": f"/customers/{cid}/map",
    }
    for href in links.values():  # and each opens, for the owner
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href
