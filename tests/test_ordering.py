"""A manager's or a team's list is sorted whole, an administrator's read in order from the
index (crm/services/ordering.py): the same order either way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.ordering import sorted_whole
from crm.services.pipeline import search as opportunity_search
from crm.services.tickets import search as ticket_search
from models import Opportunity
from models.base import utcnow
from tests.tickets import open_ticket


def test_only_an_administrators_order_is_left_to_the_index(org):
    clauses = (Opportunity.updated_at.desc(), Opportunity.id.desc())
    assert sorted_whole(clauses, viewer=org["admin"]) == list(clauses)
    for viewer in (org["sup1"], org["m1"]):
        first, second = sorted_whole(clauses, viewer=viewer)
        sql = str(select(Opportunity.id).order_by(first, second).compile(db.engine))
        assert "ORDER BY coalesce(opportunities.updated_at, opportunities.updated_at) DESC" in sql
        assert second is clauses[1]
    ascending = sorted_whole((Opportunity.expected_close.asc(), Opportunity.id), viewer=org["m1"])
    sql = str(select(Opportunity.id).order_by(*ascending).compile(db.engine))
    assert "coalesce(opportunities.expected_close, opportunities.expected_close) ASC" in sql


@pytest.fixture
def work(org, make_customer, make_opportunity):
    """Tickets and opportunities of team one (m1, m2) and team two (m3), with ties."""
    now = utcnow()
    for number in range(9):
        owner = org[("m1", "m2", "m3")[number % 3]]
        customer = make_customer(owner, f"客户{number % 4}")
        make_opportunity(
            customer, title=f"商机{number}", amount=1000 * (number % 3) or None,
            expected_close=(now + timedelta(days=number % 4)).date() if number % 2 else None,
        )  # fmt: skip
        open_ticket(customer, severity=("critical", "high", "low")[number % 3])
    db.session.commit()


def _ids(stmt) -> list[int]:
    return [row.id for row in db.session.scalars(stmt).unique()]


# Each list: how it is searched, and its sorts.
LISTS = {
    "tickets": (
        lambda viewer, sort: ticket_search.search_tickets(
            viewer, ticket_search.TicketFilters(sort=sort)
        ),
        ticket_search.SORTS,
    ),
    "opportunities": (
        lambda viewer, sort: opportunity_search.search_opportunities(
            viewer, opportunity_search.OpportunityFilters(sort=sort)
        ),
        opportunity_search.SORTS,
    ),
}


@pytest.mark.parametrize(
    ("name", "sort"), [(name, sort) for name, (_, sorts) in LISTS.items() for sort in sorted(sorts)]
)
def test_a_teams_list_comes_in_the_administrators_order(org, work, name, sort):
    search, _sorts = LISTS[name]
    team = _ids(search(org["sup1"], sort))
    everyone = _ids(search(org["admin"], sort))
    assert len(team) == 6 and len(everyone) == 9
    assert team == [id_ for id_ in everyone if id_ in set(team)]
