"""The opportunity list and board read only what they show (issue 18).

An admin's board reads each column's first cards per stage and status from an index, a
narrower scope ranks its matches in one pass: both must show what ranking every match
showed, the most recently changed first and ties by id. The list counts up to a bound
ahead of its page, and walking its pages gives every row once, in order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from blueprints import paging
from crm.extensions import db
from crm.services.pipeline import board, search
from models import Opportunity, OpportunityStatus, Tier
from tests.paging import walk_pages

OPEN, WON, LOST = OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST
# (stage, status): pre-sale columns hold open and lost ones, the contract column open and
# won ones (two statuses ranked together), later columns won ones.
PLACES = [
    ("Initial contact", OPEN),
    ("Initial contact", LOST),
    ("Proposal", OPEN),
    ("Contract", OPEN),
    ("Contract", WON),
    ("Contract", WON),
    ("Trial", WON),
]
BASE = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def spread(org, stages, make_customer):
    """60 opportunities over both teams, columns and statuses; a third share their
    updated_at with another, so only the id orders them."""
    for name in ("admin", "sup1", "sup2", "m1", "m2", "m3", "m4"):
        org[name].locale = "en"
    owners = [org["m1"], org["m2"], org["m3"], org["m4"]]
    customers = [
        make_customer(owners[i % 4], tier=Tier.A if i % 3 == 0 else Tier.C) for i in range(8)
    ]
    made = []
    for i in range(60):
        stage, status = PLACES[i % len(PLACES)]
        customer = customers[i % len(customers)]
        made.append(
            Opportunity(
                customer=customer,
                owner=customer.owner,
                title=f"Deal {i:02d}",
                stage=stages[stage],
                status=status,
                probability=stages[stage].probability,
                amount=None if i % 11 == 0 else Decimal(1000 + 37 * i) / 4,
                updated_at=BASE - timedelta(hours=(i * 7) % 41 // 3 * 3),
            )
        )
    db.session.add_all(made)
    db.session.commit()
    return made


def _sees(viewer, org) -> set[int]:
    """The owners whose customers the viewer sees, as crm/permissions.py defines it."""
    if viewer.is_admin:
        return {org[name].id for name in ("m1", "m2", "m3", "m4")}
    team = {"sup1": ("m1", "m2"), "sup2": ("m3", "m4")}.get(viewer.username, ())
    return {viewer.id} | {org[name].id for name in team}


def _matches(opportunity: Opportunity, filters: search.OpportunityFilters) -> bool:
    status = opportunity.status
    wanted = {
        "": status is not LOST,
        "all": True,
    }.get(filters.status, status.value == filters.status)
    return (
        wanted
        and (not filters.phase or opportunity.stage.phase.value == filters.phase)
        and (not filters.tier or opportunity.customer.tier.value == filters.tier)
        and (not filters.owner or opportunity.owner_id == int(filters.owner))
        and (not filters.team or opportunity.owner.team_id == int(filters.team))
    )


def _expected(spread, viewer, org, filters, per_column):
    """Rank every match by the board's order in Python: the reference."""
    sees = _sees(viewer, org)
    matches = [o for o in spread if o.customer.owner_id in sees and _matches(o, filters)]
    columns = defaultdict(list)
    for o in sorted(matches, key=lambda o: (o.updated_at, o.id), reverse=True):
        columns[o.stage_id].append(o)
    cards = {stage: [o.id for o in found[:per_column]] for stage, found in columns.items()}
    totals = {}
    for stage, found in columns.items():
        total = sum((o.amount or 0 for o in found), Decimal(0))
        product = sum(((o.amount or 0) * o.probability for o in found), Decimal(0))
        totals[stage] = (
            len(found),
            total.quantize(Decimal("0.01"), ROUND_HALF_UP),
            (product / 100).quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
    return cards, totals


FILTERS = [
    {},
    {"status": "all"},
    {"status": "won"},
    {"status": "lost"},
    {"status": "open"},
    {"phase": "pre_sale"},
    {"tier": "A"},
    {"owner": "m2"},
    {"team": "team2"},
]


@pytest.mark.parametrize("viewer", ["admin", "sup1", "sup2", "m1"])
def test_the_board_shows_each_columns_first_cards_by_its_order(spread, org, viewer):
    """An admin's board reads columns from the index, the others rank their scope."""
    user = org[viewer]
    for args in FILTERS:
        args = {k: str(org[v].id) if v in org else v for k, v in args.items()}
        filters = search.OpportunityFilters.from_args(args, user)
        for per_column in (1, 3):
            cards, totals = board.board_cards(user, filters, per_column)
            shown = defaultdict(list)
            for card in cards:
                shown[card.stage_id].append(card.id)
            expected = _expected(spread, user, org, filters, per_column)
            assert (dict(shown), totals) == expected, (args, per_column)


def test_a_column_merges_its_statuses_and_orders_ties_by_id(spread, org, stages):
    """The contract column holds open and won ones with equal times: one ranking."""
    contract = stages["Contract"].id
    cards, _ = board.board_cards(org["admin"], search.OpportunityFilters(), per_column=50)
    column = [c for c in cards if c.stage_id == contract]
    assert {c.status for c in column} == {OPEN, WON}
    by_id = {o.id: o for o in spread}
    keys = [(by_id[c.id].updated_at, c.id) for c in column]
    assert keys == sorted(keys, reverse=True) and len(set(k[0] for k in keys)) < len(keys)


# The list -----------------------------------------------------------------------------


def _rows(html: str) -> list[int]:
    table = html[html.index('id="opportunities"') :]
    return [int(i) for i in re.findall(r'<tr id="opportunity-(\d+)"', table)]


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 4}])
def test_the_list_counts_a_bound_ahead_and_its_pages_give_every_row_once(
    client, login, org, spread, monkeypatch
):
    monkeypatch.setattr(paging, "COUNT_AHEAD", 10)
    login(client, org["admin"])
    expected = [
        o.id
        for o in sorted(spread, key=lambda o: (o.updated_at, o.id), reverse=True)
        if o.status is not LOST
    ]
    assert len(expected) > 10

    html = client.get("/opportunities/").get_data(as_text=True)
    assert "More than 10" in html and "in all" not in html
    assert 'href="/opportunities/?page=3"' in html  # up to the bound: 10 rows, 3 pages
    assert 'href="/opportunities/?page=4"' not in html

    pages = walk_pages(client, "/opportunities/")
    seen = [row for html in pages for row in _rows(html)]
    html = pages[-1]
    assert seen == expected
    assert f"{len(expected)} in all" in html  # the last pages count to the end


def test_a_short_list_is_counted_exactly(client, login, org, spread):
    login(client, org["m1"])
    html = client.get("/opportunities/?status=all").get_data(as_text=True)
    mine = [o for o in spread if o.customer.owner_id == org["m1"].id]
    assert len(_rows(html)) == len(mine) and "More than" not in html


# Statements -------------------------------------------------------------------------


def test_the_admins_list_and_board_run_statements_that_do_not_grow(
    client, login, org, stages, make_customer, count_queries
):
    login(client, org["admin"])

    def add(n):
        customers = [make_customer(org[f"m{1 + i % 4}"]) for i in range(4)]
        db.session.add_all(
            Opportunity(
                customer=customers[i % 4],
                owner=customers[i % 4].owner,
                title=f"Deal {i}",
                stage=stages[PLACES[i % len(PLACES)][0]],
                status=PLACES[i % len(PLACES)][1],
                amount=Decimal(i + 1),
            )
            for i in range(n)
        )
        db.session.commit()

    def counted(url):
        client.get(url)  # warm up
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    urls = ["/opportunities/", "/opportunities/board", "/opportunities/board?status=all"]
    add(7)
    few = [counted(url) for url in urls]
    add(70)
    assert [counted(url) for url in urls] == few
