"""Every home-page figure links to a list showing exactly the records it counted.

The dataset sits on the viewer's current period boundaries (Shanghai time): 00:30 on
the first day and 23:30 on the last day are in, 23:30 the day before and 00:30 the
day after are out. Each test follows the figure's href and compares the ids listed.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.services.reporting import dashboards
from models import LostReason, OpportunityStatus, Tier

WON, LOST, OPEN = OpportunityStatus.WON, OpportunityStatus.LOST, OpportunityStatus.OPEN
HALF_HOUR = timedelta(minutes=30)


def inside(period, moment) -> bool:
    return period.start <= moment < period.end


@pytest.fixture(name="world")
def world_fixture(org, make_customer, make_opportunity, make_visit, make_competitor):
    """m1's records around this month's and quarter's edges; m2 (same team) and m3
    (other team) as distractors."""
    m1, m2, m3 = org["m1"], org["m2"], org["m3"]
    for user in (m1, org["sup1"], org["admin"]):
        user.locale = "en"
    p = dashboards.periods_for(org["sup1"])
    month, quarter = p.month, p.quarter
    edges = {
        "first": month.start + HALF_HOUR,  # 00:30 on the 1st, local
        "last": month.end - HALF_HOUR,  # 23:30 on the last day, local
        "before": month.start - HALF_HOUR,  # 23:30 on the last day of last month
        "after": month.end + HALF_HOUR,
        "q_first": quarter.start + HALF_HOUR,
        "q_before": quarter.start - HALF_HOUR,
    }
    rival, other = make_competitor("Rival"), make_competitor("Other rival")
    c1 = make_customer(m1, tier=Tier.B)
    c2 = make_customer(m2, tier=Tier.C)
    c3 = make_customer(m3, tier=Tier.A)
    old = quarter.start - timedelta(days=200)
    specs = {
        "won_first": (c1, WON, old, "first", None, None),
        "won_last": (c1, WON, old, "last", None, None),
        "won_before": (c1, WON, old, "before", None, None),
        "won_q_first": (c1, WON, old, "q_first", None, None),
        "won_q_before": (c1, WON, old, "q_before", None, None),
        "won_after": (c1, WON, old, "after", None, None),
        "lost_price": (c1, LOST, old, "first", LostReason.PRICE, rival),
        "lost_none": (c1, LOST, old, "last", None, None),
        "lost_timing": (c1, LOST, old, "q_first", LostReason.TIMING, other),
        "lost_old": (c1, LOST, old, "q_before", LostReason.PRICE, rival),
        "new_first": (c1, OPEN, edges["first"], None, None, None),
        "new_last": (c1, OPEN, edges["last"], None, None, None),
        "new_before": (c1, OPEN, edges["before"], None, None, None),
        "new_after": (c1, OPEN, edges["after"], None, None, None),
        "m2_won": (c2, WON, old, "first", None, None),
        "m2_lost": (c2, LOST, old, "first", LostReason.PRICE, rival),
        "m3_won": (c3, WON, edges["first"], "first", None, None),
        "m3_lost": (c3, LOST, old, "first", LostReason.PRICE, rival),
    }
    opportunities = {}
    for name, (customer, status, created, closed, reason, lost_to) in specs.items():
        opportunities[name] = make_opportunity(
            customer,
            title=name,
            amount=Decimal(100),
            status=status,
            created_at=created,
            closed_at=edges[closed] if closed else None,
            lost_reason=reason,
            lost_to=lost_to,
        )
    visits = {
        name: make_visit(customer, occurred_at=edges[edge])
        for name, customer, edge in (
            ("first", c1, "first"),
            ("last", c1, "last"),
            ("before", c1, "before"),
            ("after", c1, "after"),
            ("m2", c2, "first"),
            ("m3", c3, "first"),
        )
    }
    db.session.commit()
    return {"p": p, "o": opportunities, "v": visits, "rival": rival, "other": other}


def _hrefs(page: str, pattern: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(pattern, page)]


def _cell_href(page: str, manager_id: int, figure: str) -> str:
    row = re.search(rf'<tr data-manager="{manager_id}">(.*?)</tr>', page, re.S).group(1)
    return _hrefs(row, rf'data-figure="{figure}"><a[^>]* href="([^"]+)"')[0]


def _opportunity_ids(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {int(i) for i in re.findall(r'<tr id="opportunity-(\d+)"', response.text)}


def _visit_ids(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {int(i) for i in re.findall(r'data-visit="(\d+)"', response.text)}


def _ids(world, *names) -> set[int]:
    return {world["o"][n].id for n in names}


def _expected(world, owner, status, period, column="closed_at") -> set[int]:
    return {
        o.id
        for o in world["o"].values()
        if o.owner_id == owner.id
        and (status is None or o.status is status)
        and getattr(o, column) is not None
        and inside(period, getattr(o, column))
    }


def test_supervisor_team_table_links_show_exactly_what_was_counted(client, login, org, world):
    sup1, m1 = org["sup1"], org["m1"]
    login(client, sup1)
    page = client.get("/").text
    p = world["p"]
    row = next(
        r
        for r in dashboards.team_table(sup1, dashboards.managers_in_view(sup1))
        if r.manager.id == m1.id
    )

    won_month = _opportunity_ids(client, _cell_href(page, m1.id, "won_month"))
    assert won_month == _ids(world, "won_first", "won_last") == _expected(world, m1, WON, p.month)
    assert len(won_month) == row.won_month_count

    won_quarter = _opportunity_ids(client, _cell_href(page, m1.id, "won_quarter"))
    assert won_quarter == _expected(world, m1, WON, p.quarter)
    assert _ids(world, "won_first", "won_last", "won_q_first") <= won_quarter
    assert world["o"]["won_q_before"].id not in won_quarter
    assert len(won_quarter) == row.won_quarter_count

    lost_quarter = _opportunity_ids(client, _cell_href(page, m1.id, "win_rate"))
    assert lost_quarter == _ids(world, "lost_price", "lost_none", "lost_timing")
    assert len(lost_quarter) == row.lost_quarter_count

    new = _opportunity_ids(client, _cell_href(page, m1.id, "new"))
    assert new == _ids(world, "new_first", "new_last")
    assert new == _expected(world, m1, None, p.month, "created_at")
    assert len(new) == row.new_month

    pipeline = _opportunity_ids(client, _cell_href(page, m1.id, "pipeline"))
    assert len(pipeline) == row.open_count == 4
    assert _opportunity_ids(client, _cell_href(page, m1.id, "weighted")) == pipeline

    month_visits = _visit_ids(client, _cell_href(page, m1.id, "visits_month"))
    assert month_visits == {world["v"]["first"].id, world["v"]["last"].id}
    assert len(month_visits) == row.visits_month


def test_supervisor_loss_links_by_reason_and_competitor(client, login, org, world):
    login(client, org["sup1"])
    page = client.get("/").text
    by_reason = dict(
        (reason, html.unescape(href))
        for reason, href in re.findall(r'<a data-reason="([^"]+)" href="([^"]+)"', page)
    )
    assert set(by_reason) == {"price", "timing", "none"}
    assert _opportunity_ids(client, by_reason["price"]) == _ids(world, "lost_price", "m2_lost")
    assert _opportunity_ids(client, by_reason["timing"]) == _ids(world, "lost_timing")
    assert _opportunity_ids(client, by_reason["none"]) == _ids(world, "lost_none")
    lost_to = re.search(
        rf'<li data-competitor="{world["rival"].id}"><a href="([^"]+)"', page
    ).group(1)
    # Lost to Rival this quarter, in this team: not last quarter's, not team 2's.
    assert _opportunity_ids(client, html.unescape(lost_to)) == _ids(world, "lost_price", "m2_lost")


def test_manager_home_links(client, login, org, world):
    m1 = org["m1"]
    login(client, m1)
    page = client.get("/").text
    won = _hrefs(page, r'id="my-won-quarter" href="([^"]+)"')[0]
    assert _opportunity_ids(client, won) == _expected(world, m1, WON, world["p"].quarter)
    row = dashboards.team_table(m1, [m1])[0]
    assert len(_opportunity_ids(client, won)) == row.won_quarter_count


def test_a_link_for_another_teams_manager_does_not_widen_scope(client, login, org, world):
    sup1, m3 = org["sup1"], org["m3"]
    p = world["p"]
    login(client, sup1)
    month = f"closed_from={p.month.first}&closed_to={p.month.last}"
    assert _opportunity_ids(client, f"/opportunities/?owner={m3.id}&status=won&{month}") == set()
    lost = f"/opportunities/?status=lost&lost_to={world['rival'].id}&{month}"
    assert world["o"]["m3_lost"].id not in _opportunity_ids(client, lost)
    visits = _visit_ids(client, f"/visits/?member={m3.id}&from={p.month.first}&to={p.month.last}")
    assert world["v"]["m3"].id not in visits


def test_admin_sees_each_team_through_the_same_links(client, login, org, world):
    admin, m3 = org["admin"], org["m3"]
    login(client, admin)
    page = client.get(f"/?team={org['team2'].id}").text
    assert _opportunity_ids(client, _cell_href(page, m3.id, "won_month")) == _ids(world, "m3_won")
    assert _visit_ids(client, _cell_href(page, m3.id, "visits_month")) == {world["v"]["m3"].id}


def test_filter_chips_keep_the_range_and_bad_values_are_dropped(client, login, org, world):
    login(client, org["sup1"])
    p = world["p"]
    url = f"/opportunities/?status=lost&lost_reason=price&closed_from={p.quarter.first}"
    page = client.get(url).text
    assert 'data-chip="lost_reason"' in page and 'data-chip="closed_from"' in page
    assert f'name="closed_from" value="{p.quarter.first}"' in page
    # Nonsense is ignored rather than an error.
    bad = (
        "/opportunities/?closed_from=2026-13-40&lost_reason=bribery&lost_to=x&created_to=9999-12-31"
    )
    response = client.get(bad)
    assert response.status_code == 200 and "data-chip" not in response.text


def _count(client, count_queries, url):
    db.session.expire_all()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_filtered_lists_statements_do_not_grow(
    client, login, org, world, count_queries, make_customer, make_opportunity, make_visit
):
    p = world["p"]
    login(client, org["sup1"])
    urls = (
        f"/opportunities/?status=lost&lost_to={world['rival'].id}&lost_reason=price"
        f"&closed_from={p.quarter.first}&closed_to={p.quarter.last}",
        f"/opportunities/?status=all&created_from={p.month.first}&created_to={p.month.last}",
        f"/visits/?member={org['m1'].id}&from={p.month.first}&to={p.month.last}",
    )

    def grow(n):
        customer = make_customer(org["m1"])
        for _ in range(n):
            make_opportunity(
                customer,
                status=LOST,
                created_at=p.month.start + HALF_HOUR,
                closed_at=p.month.start + HALF_HOUR,
                lost_reason=LostReason.PRICE,
                lost_to=world["rival"],
            )
            make_visit(customer, occurred_at=p.month.start + HALF_HOUR)

    grow(3)
    small = [_count(client, count_queries, url) for url in urls]
    grow(40)
    assert [_count(client, count_queries, url) for url in urls] == small
