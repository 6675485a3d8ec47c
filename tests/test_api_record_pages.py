"""A page of up to 100 customers, contacts, service tickets or documents takes the same
number of SQL statements however many rows it holds (nothing is loaded per row), in each
order the ticket list offers."""

from __future__ import annotations

import io

import pytest

from crm.extensions import db
from crm.services.documents import library
from crm.services.tickets import lifecycle
from tests.api_support import as_user


@pytest.fixture
def app_overrides(tmp_path):
    return {"DOCUMENT_DIR": str(tmp_path / "documents")}


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


def _customer(org, make, customer):
    make["customer"](org["m1"])


def _contact(org, make, customer):
    make["contact"](make["customer"](org["m1"]))


def _ticket(org, make, customer):
    lifecycle.open_ticket(
        make["customer"](org["m1"]),
        actor=org["m1"],
        kind="complaint",
        category="billing",
        severity="high",
        title="工单",
        description="多收费",
        handler_id=org["m1"].id,
    )
    db.session.commit()


def _document(org, make, customer):
    library.upload(
        customer=customer,
        actor=org["m1"],
        uploads=[library.Upload(io.BytesIO(b"%PDF-1.4\n(page)\n%%EOF\n"), "a.pdf")],
        kind_id=library.kind_by_code("proposal").id,
    )
    db.session.commit()


LISTS = {
    "/api/v1/customers/?limit=100": ("sup1", _customer),
    "/api/v1/contacts/?limit=100": ("sup1", _contact),
    "/api/v1/tickets/?limit=100": ("m1", _ticket),
    "/api/v1/tickets/?status=all&sort=customer&limit=100": ("sup1", _ticket),
    "/api/v1/tickets/?sort=severity&limit=100": ("admin", _ticket),
    "/api/v1/documents/?customer_id={customer}&limit=100": ("m1", _document),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_a_page_takes_a_fixed_number_of_statements(
    client, org, customer, url, count_queries, make_customer, make_contact
):
    make = {"customer": make_customer, "contact": make_contact}
    persona, add = LISTS[url]
    url = url.format(customer=customer.id)
    headers = as_user(org[persona])
    client.get(url, headers=headers)  # the token's last use is recorded
    for _ in range(2):
        add(org, make, customer)
    with count_queries() as few:
        assert len(client.get(url, headers=headers).get_json()["items"]) >= 2
    for _ in range(25):
        add(org, make, customer)
    with count_queries() as many:
        assert len(client.get(url, headers=headers).get_json()["items"]) >= 27
    assert len(many) == len(few) <= 5, (url, many)
