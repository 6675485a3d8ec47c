"""Data scope: managers see their own, supervisors their team's, admins everything."""

from __future__ import annotations

from crm.extensions import db
from crm.permissions import visible_customers
from models import Customer


def names(user):
    return set(db.session.scalars(visible_customers(user).with_only_columns(Customer.name)))


def test_scope_by_role(org, make_customer):
    for owner in ("m1", "m2", "m3", "m4", "sup1"):
        make_customer(org[owner], name=f"of-{owner}")
    assert names(org["m1"]) == {"of-m1"}
    assert names(org["sup1"]) == {"of-m1", "of-m2", "of-sup1"}
    assert names(org["sup2"]) == {"of-m3", "of-m4"}
    assert names(org["admin"]) == {"of-m1", "of-m2", "of-m3", "of-m4", "of-sup1"}


def test_deactivated_user_sees_nothing(org, make_customer):
    make_customer(org["m1"])
    org["m1"].active = False
    assert names(org["m1"]) == set()


def test_customer_list_never_shows_out_of_scope_rows(client, org, make_customer, login):
    make_customer(org["m1"], name="我的客户")
    make_customer(org["m3"], name="别人的客户")
    login(client, org["m1"])
    page = client.get("/customers/").get_data(as_text=True)
    assert "我的客户" in page and "别人的客户" not in page
