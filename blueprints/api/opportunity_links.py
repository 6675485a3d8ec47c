"""What the opportunity's page shows beside its fields: the contacts on it with their buying
role, the competitors bidding with their offer, and its stage history.

Routes of the opportunities' blueprint (blueprints/api/opportunities.py imports this module),
so they sit under /api/v1/opportunities/{id}/ and the "Opportunities" group. Adding and
taking off go through crm/services/pipeline/links.py, as the page's forms do: a contact of
this customer who has not left, a competitor not retired, each once. A contact id outside
your scope is not found (404), as an opportunity's is.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy import case

from blueprints.api.auth import api_user
from blueprints.api.common import load
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
    choice,
    max_length,
    page_of,
)
from blueprints.api.opportunities import blp
from blueprints.api.pagination import Key, Order, flag, paginate
from blueprints.api.refusals import in_path
from crm.services.archive import competitors as competitor_service
from crm.services.errors import DomainError
from crm.services.pipeline import links
from crm.services.pipeline.stage_history import history_rows
from models import (
    BuyingRole,
    Contact,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityHistory,
    OpportunityStatus,
)

# Contacts ---------------------------------------------------------------------------------


class OpportunityContactSchema(ApiSchema):
    """A contact on the opportunity, with their role on it."""

    contact_id = Int(metadata={"description": "See /api/v1/contacts/{id}."})
    name = Str(attribute="contact.name")
    title = Str(attribute="contact.title", allow_none=True)
    role = choice(BuyingRole, metadata={"description": "Their buying role on this opportunity."})
    is_primary = Bool(metadata={"description": "The opportunity's primary contact (one at most)."})
    active = Bool(
        attribute="contact.active",
        metadata={"description": "False: the contact has left the customer since."},
    )


class AddContactSchema(ApiSchema):
    contact_id = Id(required=True, metadata={"description": "An active contact of its customer."})
    role = choice(
        BuyingRole,
        allow_none=True,
        metadata={
            "description": "Their role on this opportunity; absent: their role at the customer."
        },
    )
    is_primary = Bool(
        load_default=False,
        metadata={"description": "Make them primary (the previous primary one no longer is)."},
    )


OpportunityContactPage = page_of(OpportunityContactSchema, "OpportunityContactPage")

_LINK_ID = Key(OpportunityContact.id, lambda link: link.id)
# The page's order (links.sorted_contacts): the primary contact, then by role, then by name.
CONTACT_ORDER = Order(
    "opportunity-contacts",
    (
        flag(OpportunityContact.is_primary, lambda link: link.is_primary, descending=True),
        Key(
            case(links.ROLE_ORDER, value=OpportunityContact.role),
            lambda link: links.ROLE_ORDER[link.role],
        ),
        Key(Contact.name, lambda link: link.contact.name),
        _LINK_ID,
    ),
)


@blp.route("/<int:opportunity_id>/contacts")
class OpportunityContacts(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, OpportunityContactPage)
    def get(self, args: dict[str, Any], opportunity_id: int):
        """The contacts on the opportunity: the primary one, then by role, then by name."""
        opportunity = load(Opportunity, opportunity_id)
        stmt = links.contacts_on(opportunity)
        return paginate(stmt, CONTACT_ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(AddContactSchema)
    @blp.response(201, OpportunityContactSchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Put one of the customer's contacts on it, with a buying role (the page's form)."""
        opportunity = load(Opportunity, opportunity_id)
        contact = load(Contact, data["contact_id"])
        link = links.add_contact(
            opportunity,
            contact,
            actor=api_user(),
            role=data.get("role"),
            is_primary=data["is_primary"],
        )
        return link, 201


@blp.route("/<int:opportunity_id>/contacts/<int:contact_id>")
class OpportunityContactLink(MethodView):
    @blp.updates
    @blp.response(204)
    def delete(self, opportunity_id: int, contact_id: int):
        """Take a contact off the opportunity (the contact stays with the customer)."""
        opportunity = load(Opportunity, opportunity_id)
        with in_path("contact_id"):  # not on it: 422, as the page's button says it
            links.remove_contact(opportunity, contact_id, actor=api_user())


# Competitors ------------------------------------------------------------------------------


class OpportunityCompetitorSchema(ApiSchema):
    """A competitor bidding on the opportunity, and what it offers."""

    competitor_id = Int(metadata={"description": "See /api/v1/competitors/."})
    name = Str(attribute="competitor.name")
    offer = Str(allow_none=True)
    active = Bool(
        attribute="competitor.active",
        metadata={"description": "False: retired from the registry since."},
    )


class AddCompetitorSchema(ApiSchema):
    competitor_id = Id(
        required=True, metadata={"description": "An active competitor of the registry."}
    )
    offer = Str(allow_none=True, multiline=True, validate=max_length(2000))


OpportunityCompetitorPage = page_of(OpportunityCompetitorSchema, "OpportunityCompetitorPage")
# In the order they were recorded, as the page lists them.
COMPETITOR_ORDER = Order(
    "opportunity-competitors", (Key(OpportunityCompetitor.id, lambda bid: bid.id),)
)


@blp.route("/<int:opportunity_id>/competitors")
class OpportunityCompetitors(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, OpportunityCompetitorPage)
    def get(self, args: dict[str, Any], opportunity_id: int):
        """The competitors bidding on the opportunity, in the order they were recorded."""
        opportunity = load(Opportunity, opportunity_id)
        stmt = links.competitors_on(opportunity)
        return paginate(stmt, COMPETITOR_ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(AddCompetitorSchema)
    @blp.response(201, OpportunityCompetitorSchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Record that a competitor bids for it, and what it offers (the page's form)."""
        opportunity = load(Opportunity, opportunity_id)
        competitor = competitor_service.competitor_by_id(data["competitor_id"])
        if competitor is None:  # the registry is shared reference data: no scope to hide
            raise DomainError(_l("Choose a competitor."), field="competitor_id")
        bid = links.add_competitor(
            opportunity, competitor, actor=api_user(), offer=data.get("offer")
        )
        return bid, 201


@blp.route("/<int:opportunity_id>/competitors/<int:competitor_id>")
class OpportunityCompetitorLink(MethodView):
    @blp.updates
    @blp.response(204)
    def delete(self, opportunity_id: int, competitor_id: int):
        """Take a competitor and its offer off the opportunity."""
        opportunity = load(Opportunity, opportunity_id)
        with in_path("competitor_id"):
            links.remove_competitor(opportunity, competitor_id, actor=api_user())


# Stage history ----------------------------------------------------------------------------


class HistoryChangeSchema(ApiSchema):
    field = choice(("stage_id", "status", "amount", "probability", "expected_close"))
    old = ma.fields.Raw(allow_none=True, metadata={"description": "As stored before: see new."})
    new = ma.fields.Raw(
        allow_none=True,
        metadata={
            "description": (
                "A stage's id, a status, money as a decimal string, a percent, a date "
                "(YYYY-MM-DD), or null."
            )
        },
    )


class _Changes(ma.fields.List):
    """The row's {field: [old, new]} as a list of {field, old, new}."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return [
            {"field": name, "old": old, "new": new}
            for name, (old, new) in (obj.changes or {}).items()
        ]


class HistoryRowSchema(ApiSchema):
    """The opportunity's state after one change, with who made it and what changed."""

    id = Int()
    at = Timestamp()
    actor_id = Int(allow_none=True, metadata={"description": "Who changed it (null: the CRM)."})
    stage_id = Int()
    status = choice(OpportunityStatus)
    amount = Money(allow_none=True)
    probability = Int()
    expected_close = Day(allow_none=True)
    changes = _Changes(
        ma.fields.Nested(HistoryChangeSchema),
        metadata={"description": "What this row changed (empty for the first row)."},
    )


HistoryPage = page_of(HistoryRowSchema, "OpportunityHistoryPage")
# Newest first, as the page shows it; the history is append-only, so the id is its order.
HISTORY_ORDER = Order(
    "opportunity-history", (Key(OpportunityHistory.id, lambda row: row.id, True),)
)


@blp.route("/<int:opportunity_id>/history")
class OpportunityHistoryRows(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, HistoryPage)
    def get(self, args: dict[str, Any], opportunity_id: int):
        """Its stage history, newest first: every change of stage, status, amount,
        probability or expected close, with who and when."""
        opportunity = load(Opportunity, opportunity_id)
        stmt = history_rows(opportunity)
        return paginate(stmt, HISTORY_ORDER, limit=args["limit"], cursor=args["cursor"])
