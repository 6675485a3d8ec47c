"""A page of up to 100 opportunities, visits, follow-ups, handovers or users takes the same
number of SQL statements however many rows it holds (nothing is loaded per row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm.extensions import db
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
from tests.api_support import as_user


def _opportunity(org, make):
    customer = make["customer"](org["m1"])
    make["opportunity"](customer, amount=100)


def _visit(org, make):
    customer = make["customer"](org["m1"])
    make["visit"](
        customer,
        contacts=[make["contact"](customer)],
        check_in_lat=31.2,
        check_in_lng=121.4,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
    )


def _follow_up(org, make):
    make["reminder"](make["customer"](org["m1"]), opportunity=None)


def _handover(org, make):
    customer = make["customer"](org["sup1"])
    hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="交接",
        token=f"page-{customer.id}",
        expected_fingerprint=None,
    )
    db.session.commit()


def _user(org, make):
    make["user"](team=org["team1"])


LISTS = {
    "/api/v1/opportunities/?sort=amount&limit=100": ("m1", _opportunity),
    "/api/v1/visits/?limit=100": ("m1", _visit),
    "/api/v1/follow-ups/?limit=100": ("m1", _follow_up),
    "/api/v1/handovers/?limit=100": ("m1", _handover),
    "/api/v1/users/?limit=100": ("sup1", _user),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_a_page_takes_a_fixed_number_of_statements(
    client,
    org,
    url,
    count_queries,
    make_customer,
    make_opportunity,
    make_visit,
    make_contact,
    make_reminder,
    make_user,
):
    make = {
        "customer": make_customer,
        "opportunity": make_opportunity,
        "visit": make_visit,
        "contact": make_contact,
        "reminder": make_reminder,
        "user": make_user,
    }
    persona, add = LISTS[url]
    headers = as_user(org[persona])
    client.get(url, headers=headers)  # the token's last use is recorded
    for _ in range(2):
        add(org, make)
    with count_queries() as few:
        assert len(client.get(url, headers=headers).get_json()["items"]) >= 2
    for _ in range(25):
        add(org, make)
    with count_queries() as many:
        assert len(client.get(url, headers=headers).get_json()["items"]) >= 27
    assert len(many) == len(few) <= 5, url
