"""Contacts over the API: buying role, attitude, reporting line; the web list's filters.

Writes go through crm/services/archive/contacts.py like the web form's: the same
reporting-line rules (same customer, no loops, not to someone who left), the same messages.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Bool,
    Id,
    Int,
    ListArgs,
    Str,
    Timestamp,
    between,
    choice,
    max_length,
    page_of,
)
from blueprints.api.pagination import Key, Order, flag, paginate
from blueprints.api.problems import represents
from blueprints.contacts.forms import PHONE
from crm.services.archive import contacts as contact_service
from models import Attitude, BuyingRole, Contact, Customer

blp = ApiBlueprint(
    "api_contacts",
    __name__,
    url_prefix="/api/v1/contacts",
    description="Contacts at the customers in scope: buying roles and reporting lines.",
)

_PHONE = validate.Regexp(PHONE.regex, error=PHONE.message)
_EMAIL = validate.Email(error=_l("Enter a valid email address."))


class ContactSchema(ApiSchema):
    id = Int(dump_only=True)
    customer_id = Int()
    name = Str()
    title = Str(allow_none=True)
    department = Str(allow_none=True)
    mobile = Str(allow_none=True)
    office_phone = Str(allow_none=True)
    email = Str(allow_none=True)
    role = choice(BuyingRole, metadata={"description": "Buying role."})
    attitude = choice(Attitude, metadata={"description": "Attitude to us."})
    strength = Int(metadata={"description": "Relationship strength, 1 (weak) to 5 (strong)."})
    reports_to_id = Int(allow_none=True)
    last_contacted_at = Timestamp(allow_none=True)
    notes = Str(allow_none=True)
    active = Bool(metadata={"description": "False once the person has left the company."})
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int()


class ContactFieldsSchema(ApiSchema):
    title = Str(allow_none=True, validate=max_length(100))
    department = Str(allow_none=True, validate=max_length(100))
    mobile = Str(allow_none=True, validate=[max_length(30), _PHONE])
    office_phone = Str(allow_none=True, validate=[max_length(30), _PHONE])
    email = Str(allow_none=True, validate=[max_length(254), _EMAIL])
    strength = Int(validate=between(1, 5))
    reports_to_id = Id(
        allow_none=True, metadata={"description": "Another contact of the same customer."}
    )
    notes = Str(allow_none=True, multiline=True, validate=max_length(5000))


class ContactCreateSchema(ContactFieldsSchema):
    customer_id = Id(required=True)
    name = Str(required=True, validate=max_length(100))
    # Required, as on the web form: a preset role or attitude would claim what nobody saw.
    role = choice(BuyingRole, required=True)
    attitude = choice(Attitude, required=True)


class ContactUpdateSchema(ContactFieldsSchema):
    name = Str(validate=max_length(100))
    role = choice(BuyingRole)
    attitude = choice(Attitude)
    active = Bool(metadata={"description": "false: the person left the company (kept)."})
    version = Int(required=True)


class ContactListArgs(ListArgs):
    """The contact list's filters, as on the web page, and one customer's contacts."""

    q = Str(validate=max_length(100), metadata={"description": "Name, phone or customer."})
    role = choice(BuyingRole)
    active = Bool()
    customer_id = Id(strict=False, metadata={"description": "Only this customer's contacts."})


ContactPage = page_of(ContactSchema, "ContactPage")
# The web list's order: those still at the customer first, then by name.
ORDER = Order(
    "contacts",
    (
        flag(Contact.active, lambda c: c.active, descending=True),
        Key(Contact.name, lambda c: c.name),
        Key(Contact.id, lambda c: c.id),
    ),
)
represents(Contact, ContactSchema().dump)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The body as the contacts service takes it; a manager named is loaded in scope."""
    if "reports_to_id" in data:
        manager_id = data.pop("reports_to_id")
        data["reports_to"] = load(Contact, manager_id) if manager_id else None
    return data


@blp.route("/")
class Contacts(MethodView):
    @blp.reads
    @blp.arguments(ContactListArgs, location="query")
    @blp.response(200, ContactPage)
    def get(self, args: dict[str, Any]):
        """List the contacts of your customers, filtered as the web list is."""
        active = args.get("active")
        filters = contact_service.ContactFilters.from_args(
            {
                "q": args.get("q") or "",
                "role": args.get("role") or "",
                "active": "" if active is None else "1" if active else "0",
            }
        )
        stmt = contact_service.search_contacts(api_user(), filters)
        if args.get("customer_id") is not None:
            customer = load(Customer, args["customer_id"])
            stmt = stmt.where(Contact.customer_id == customer.id)
        return paginate(stmt, ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    def post(self, data: dict[str, Any]):
        """Add a contact to a customer in your scope."""
        customer = load(Customer, data.pop("customer_id"))
        contact = contact_service.create_contact(customer, actor=api_user(), **_fields(data))
        return contact, 201, {"Location": url_for(".ContactRecord", contact_id=contact.id)}


@blp.route("/<int:contact_id>")
class ContactRecord(MethodView):
    @blp.reads
    @blp.response(200, ContactSchema)
    def get(self, contact_id: int):
        """One contact of a customer in your scope."""
        return load(Contact, contact_id)

    @blp.updates
    @blp.arguments(ContactUpdateSchema)
    @blp.response(200, ContactSchema)
    def patch(self, data: dict[str, Any], contact_id: int):
        """Change a contact; `active: false` marks that they left (kept, as on the web)."""
        contact = load(Contact, contact_id)
        version = data.pop("version")
        active = data.pop("active", None)
        user = api_user()
        contact = contact_service.update_contact(
            contact, actor=user, version=version, **_fields(data)
        )
        if active is not None:
            contact_service.set_contact_active(contact, active, actor=user)
        return contact
