"""Customers over the API: the web list's filters, the record, creating and changing it.

Every write goes through crm/services/archive/customers.py, as the web form's does: the
same credit-code, owner, parent (group) and similar-name rules, the same messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from flask.views import MethodView

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Bool,
    Day,
    Id,
    Int,
    ListArgs,
    Money,
    Str,
    Timestamp,
    between,
    choice,
    max_length,
    page_of,
)
from blueprints.api.pagination import Key, Order, nullable, paginate
from blueprints.api.problems import represents
from crm.permissions import refuse
from crm.services.archive import customers as customer_service
from crm.services.archive.search import TIER_RANK, CustomerFilters, search_customers
from crm.services.people.users import person_in_scope
from models import Customer, CustomerStatus, Strategy, Tier

blp = ApiBlueprint(
    "api_customers",
    __name__,
    url_prefix="/api/v1/customers",
    description="Customers (集团客户) in the token user's scope, with their group parent.",
)


class CustomerSchema(ApiSchema):
    """A customer as the API shows it."""

    id = Int(dump_only=True)
    name = Str()
    credit_code = Str(allow_none=True)
    parent_id = Int(allow_none=True, metadata={"description": "The group (集团) it belongs to."})
    industry_id = Int(allow_none=True)
    region = Str(allow_none=True)
    address = Str(allow_none=True)
    employees = Int(allow_none=True)
    annual_revenue = Money(allow_none=True)
    annual_spend = Money(allow_none=True)
    tier = choice(Tier)
    strategy = choice(Strategy, allow_none=True)
    status = choice(CustomerStatus)
    products_in_use = Str(allow_none=True)
    contract_expiry = Day(allow_none=True)
    owner_id = Int()
    notes = Str(allow_none=True)
    last_visit_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with a change (PATCH)."})


class CustomerFieldsSchema(ApiSchema):
    """The fields a client sets, with the web form's limits."""

    credit_code = Str(allow_none=True, validate=max_length(30))
    parent_id = Id(allow_none=True, metadata={"description": "A customer in your scope."})
    industry_id = Id(allow_none=True)
    region = Str(allow_none=True, validate=max_length(50))
    address = Str(allow_none=True, validate=max_length(300))
    employees = Int(allow_none=True, validate=between(0, 10_000_000))
    annual_revenue = Money(allow_none=True)
    annual_spend = Money(allow_none=True)
    tier = choice(Tier)
    strategy = choice(Strategy, allow_none=True)
    status = choice(CustomerStatus)
    products_in_use = Str(allow_none=True, multiline=True, validate=max_length(2000))
    contract_expiry = Day(allow_none=True)
    owner_id = Id(metadata={"description": "Whom you may make owner (supervisors, admins)."})
    notes = Str(allow_none=True, multiline=True, validate=max_length(5000))
    confirm_duplicate = Bool(
        load_default=False,
        metadata={"description": "Save although customers with a very similar name exist."},
    )


class CustomerCreateSchema(CustomerFieldsSchema):
    name = Str(required=True, validate=max_length(200))


class CustomerUpdateSchema(CustomerFieldsSchema):
    name = Str(validate=max_length(200))
    version = Int(required=True, metadata={"description": "The version you read."})


CustomerPage = page_of(CustomerSchema, "CustomerPage")

_ID = Key(Customer.id, lambda c: c.id)
_NAME = Key(Customer.name, lambda c: c.name)
_TIERS = list(Tier)
ORDERS = {
    "name": Order("name", (_NAME, _ID)),
    "-name": Order(
        "-name",
        (Key(Customer.name, lambda c: c.name, True), Key(Customer.id, lambda c: c.id, True)),
    ),
    "tier": Order("tier", (Key(TIER_RANK, lambda c: _TIERS.index(c.tier)), _NAME, _ID)),
    "updated": Order(
        "updated",
        (
            Key(Customer.updated_at, lambda c: c.updated_at, True),
            Key(Customer.id, lambda c: c.id, True),
        ),
    ),
    "expiry": Order(
        "expiry",
        (*nullable(Customer.contract_expiry, lambda c: c.contract_expiry, date(9999, 12, 31)), _ID),
    ),
}


class CustomerListArgs(ListArgs):
    """The customer list's filters, as on the web page."""

    q = Str(validate=max_length(100), metadata={"description": "Name, credit code or contact."})
    tier = choice(Tier)
    strategy = choice(Strategy)
    industry = Id(strict=False)
    region = Str(validate=max_length(100))
    status = choice(CustomerStatus)
    owner = Id(
        strict=False, metadata={"description": "An owner in your scope (supervisors, admins)."}
    )
    no_decision_maker = Bool(metadata={"description": "Only those without a decision maker."})
    silent = Bool(metadata={"description": "Only those overdue for a visit."})
    sort = choice(ORDERS, load_default="name", metadata={"description": "The list's order."})


_dump = CustomerSchema().dump
represents(Customer, _dump)


def _filters(args: dict[str, Any]) -> CustomerFilters:
    """The web list's filters from the API's query (the same parsing as the page)."""
    user = api_user()
    if args.get("owner") is not None and person_in_scope(args["owner"], viewer=user) is None:
        refuse(404, f"users {args['owner']}", user)
    flags = {name: "1" if args.get(name) else "" for name in ("no_decision_maker", "silent")}
    values = {
        name: str(args[name])
        for name in ("q", "tier", "strategy", "industry", "region", "status", "owner")
        if args.get(name) is not None
    }
    return CustomerFilters.from_args({**values, **flags})


@blp.route("/")
class Customers(MethodView):
    @blp.reads
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPage)
    def get(self, args: dict[str, Any]):
        """List the customers in your scope, filtered as the web list is."""
        stmt = search_customers(api_user(), _filters(args))
        return paginate(stmt, ORDERS[args["sort"]], limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data: dict[str, Any]):
        """Create a customer (the web form's rules: credit code, owner, parent, similar names)."""
        confirm = data.pop("confirm_duplicate", False)
        customer = customer_service.create_customer(
            actor=api_user(), confirm_duplicate=confirm, **data
        )
        return customer, 201, {"Location": url_for(".CustomerRecord", customer_id=customer.id)}


@blp.route("/<int:customer_id>")
class CustomerRecord(MethodView):
    @blp.reads
    @blp.response(200, CustomerSchema)
    def get(self, customer_id: int):
        """One customer in your scope."""
        return load(Customer, customer_id)

    @blp.updates
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, data: dict[str, Any], customer_id: int):
        """Change a customer; `version` must be the one you read (else 409 with the stored one)."""
        customer = load(Customer, customer_id)
        confirm = data.pop("confirm_duplicate", False)
        version = data.pop("version")
        return customer_service.update_customer(
            customer, actor=api_user(), version=version, confirm_duplicate=confirm, **data
        )
