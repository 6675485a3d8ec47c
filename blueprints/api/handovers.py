"""Handovers over the API: the record for those who may see it; preview, hand over and undo
for supervisors and administrators, with the web flow's rules.

As on the web (blueprints/handovers), a handover is made in two steps through
crm/services/handover/: a preview says what would move (customers, opportunities,
follow-ups, tiers that need a more senior owner) and gives a `fingerprint`; the handover
itself must send that fingerprint back, and is refused (nothing moves) when the customers
matched or their owners changed since. The same rules: the new owner in your team, a note
for them, a reason when a tier needs a more senior manager than the new owner. A handover
lists each person only the customers in their scope; the others are counted, not named.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView

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
    choice,
    max_length,
    page_of,
)
from blueprints.api.pagination import Key, Order, paginate
from blueprints.api.refusals import body_names
from crm.permissions import refuse
from crm.services.archive.search import CustomerFilters
from crm.services.handover import lists as handover_lists
from crm.services.handover import requests as handover_requests
from crm.services.handover.scope import Shown, in_scope_now, shown_counts
from crm.services.handover.transfer import HandoverOptions, Selection, preview
from crm.services.handover.undo import undo
from crm.services.people import users as user_service
from crm.services.people.users import person_in_scope
from models import (
    Customer,
    CustomerStatus,
    Handover,
    HandoverCustomer,
    HandoverRequest,
    HandoverStatus,
    Level,
    Strategy,
    Tier,
)

blp = ApiBlueprint(
    "api_handovers",
    __name__,
    url_prefix="/api/v1/handovers",
    description=(
        "Handovers (客户交接) of customers between managers: read by those who may see them; "
        "preview, hand over and undo by supervisors and administrators."
    ),
)

IDS_MAX = 1000  # as the web's selection


# What a handover is, as the API shows it -----------------------------------------------


@dataclass
class ShownHandover:
    """A handover with how many of its customers the token user may see."""

    handover: Handover
    shown: Shown

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handover, name)

    @property
    def customers_visible(self) -> int:
        return self.shown.visible


class OptionsSchema(ApiSchema):
    open_opportunities = Bool(metadata={"description": "Move open opportunities (default)."})
    pending_reminders = Bool(metadata={"description": "Move pending follow-ups (default)."})
    closed_opportunities = Bool(
        metadata={"description": "Move closed ones too (they normally keep their owner)."}
    )


class HandoverSchema(ApiSchema):
    id = Int()
    actor_id = Int(metadata={"description": "Who handed over."})
    from_owner_id = Int(allow_none=True, metadata={"description": "Null: several owners."})
    to_owner_id = Int()
    created_at = Timestamp()
    note = Str(metadata={"description": "The handover note for the new owner."})
    reason = Str(allow_none=True, metadata={"description": "Why a less senior owner."})
    options = ma.fields.Nested(OptionsSchema)
    customers_count = Int()
    customers_visible = Int(metadata={"description": "Of them, those in your scope."})
    opportunities_count = Int()
    reminders_count = Int()
    contacts_count = Int()
    status = choice(HandoverStatus)
    reverses_id = Int(allow_none=True, metadata={"description": "The handover this undid."})


class _CurrentOwner(ma.fields.Integer):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj.row.customer.owner_id if obj.in_scope_now else None


@dataclass
class ShownRow:
    row: HandoverCustomer
    in_scope_now: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


class HandoverCustomerSchema(ApiSchema):
    customer_id = Int()
    customer_name = Str(attribute="row.customer.name")
    from_owner_id = Int(metadata={"description": "Its owner before the handover."})
    owner_id = _CurrentOwner(
        allow_none=True, metadata={"description": "Its owner now (null: no longer in scope)."}
    )


class SelectionSchema(ApiSchema):
    """Which customers: the customer list's filters, narrowed to `ids` when given."""

    q = Str(validate=max_length(100))
    tier = choice(Tier)
    strategy = choice(Strategy)
    industry = Id()
    region = Str(validate=max_length(100))
    status = choice(CustomerStatus)
    owner = Id(metadata={"description": "Their owner now (in your scope)."})
    no_decision_maker = Bool()
    silent = Bool()
    ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=IDS_MAX),
        metadata={"description": "Customers in your scope (up to 1000)."},
    )


class PreviewRequestSchema(ApiSchema):
    to_owner_id = Id(required=True, metadata={"description": "The new owner (your team)."})
    selection = ma.fields.Nested(SelectionSchema, required=True)
    options = ma.fields.Nested(OptionsSchema)


class HandoverCreateSchema(PreviewRequestSchema):
    note = Str(
        required=True,
        multiline=True,
        validate=max_length(5000),
        metadata={"description": "What the new owner must know."},
    )
    reason = Str(
        allow_none=True,
        multiline=True,
        validate=max_length(2000),
        metadata={"description": "Required when a tier needs a more senior manager."},
    )
    fingerprint = Str(
        required=True,
        validate=max_length(64),
        metadata={"description": "The preview's: refused when what moves changed since."},
    )
    request_id = Id(metadata={"description": "A manager's pending request this answers."})


class FromOwnerSchema(ApiSchema):
    owner_id = Int()
    customers = Int()


class TierWarningSchema(ApiSchema):
    tier = choice(Tier)
    customers = Int()
    level = choice(Level, metadata={"description": "The level the tier needs."})


class PreviewSchema(ApiSchema):
    to_owner_id = Int()
    customers = Int()
    opportunities = Int()
    closed_opportunities = Int(metadata={"description": "Closed ones that stay behind."})
    reminders = Int()
    contacts = Int()
    documents = Int()
    portfolio_before = Int()
    portfolio_after = Int()
    from_owners = ma.fields.List(ma.fields.Nested(FromOwnerSchema))
    tier_warnings = ma.fields.List(ma.fields.Nested(TierWarningSchema))
    needs_reason = Bool()
    fingerprint = Str(metadata={"description": "Send it with the handover."})


class UndoSchema(ApiSchema):
    handovers = ma.fields.List(
        ma.fields.Nested(HandoverSchema),
        metadata={"description": "The handovers back to the previous owners."},
    )
    moved_back = Int()
    moved_on = Int(metadata={"description": "Handed on since: they stay where they are."})
    changed_since = Int(metadata={"description": "Changed since: moved back as they are now."})


HandoverPage = page_of(HandoverSchema, "HandoverPage")
HandoverCustomerPage = page_of(HandoverCustomerSchema, "HandoverCustomerPage")
# The web's order: newest first; a handover's customers by name.
ORDER = Order(
    "newest",
    (
        Key(Handover.created_at, lambda h: h.created_at, True),
        Key(Handover.id, lambda h: h.id, True),
    ),
)
CUSTOMER_ORDER = Order(
    "name",
    (Key(Customer.name, lambda r: r.customer.name), Key(Customer.id, lambda r: r.customer_id)),
)


# Reading --------------------------------------------------------------------------------


def _shown(handovers: list[Handover]) -> list[ShownHandover]:
    counts = shown_counts([h.id for h in handovers], api_user())
    return [ShownHandover(h, counts[h.id]) for h in handovers]


def _visible(handover_id: int) -> ShownHandover:
    """The handover if the token user may see it and at least one of its customers (404)."""
    user = api_user()
    handover = load(Handover, handover_id)
    shown = _shown([handover])[0]
    if not shown.customers_visible:
        refuse(404, f"handover {handover_id} (no customer in scope)", user)
    return shown


@blp.route("/")
class Handovers(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, HandoverPage)
    def get(self, args: dict[str, Any]):
        """The handovers you may see (one of their customers is or was in your scope)."""
        stmt = handover_lists.handovers_newest_first(viewer=api_user())
        page = paginate(stmt, ORDER, limit=args["limit"], cursor=args["cursor"])
        return {**page, "items": _shown(page["items"])}

    @blp.creates
    @blp.arguments(HandoverCreateSchema)
    @blp.response(201, HandoverSchema)
    def post(self, data: dict[str, Any]):
        """Hand the customers over, as previewed (send the preview's `fingerprint`)."""
        user = api_user()
        pending = None
        if data.get("request_id") is not None:
            pending = load(HandoverRequest, data["request_id"])
            handover_requests.check_decidable(pending, user)
        with body_names(to_owner="to_owner_id"):
            handover = handover_requests.hand_over_answering(
                pending,
                actor=user,
                selection=_selection(data["selection"]),
                to_owner=user_service.user_by_id(data["to_owner_id"]),
                options=_options(data),
                note=data["note"],
                reason=data.get("reason") or "",
                token=secrets.token_urlsafe(24),
                expected_fingerprint=data["fingerprint"],
            )
        location = url_for(".HandoverRecord", handover_id=handover.id)
        return _shown([handover])[0], 201, {"Location": location}


@blp.route("/<int:handover_id>")
class HandoverRecord(MethodView):
    @blp.reads
    @blp.response(200, HandoverSchema)
    def get(self, handover_id: int):
        """One handover with at least one customer in your scope."""
        return _visible(handover_id)


@blp.route("/<int:handover_id>/customers")
class HandoverCustomers(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, HandoverCustomerPage)
    def get(self, args: dict[str, Any], handover_id: int):
        """The handover's customers in your scope, by name, with their owner then and now."""
        shown = _visible(handover_id)
        stmt = handover_lists.customer_rows_by_name(shown.handover, viewer=api_user())
        page = paginate(stmt, CUSTOMER_ORDER, limit=args["limit"], cursor=args["cursor"])
        now = in_scope_now([row.customer_id for row in page["items"]], api_user())
        return {**page, "items": [ShownRow(row, row.customer_id in now) for row in page["items"]]}


# Handing over ---------------------------------------------------------------------------


def _selection(data: dict[str, Any]) -> Selection:
    """The web's selection (customer filters and ids); ids and owners in scope, else 404."""
    user = api_user()
    owner = data.get("owner")
    if owner is not None and person_in_scope(owner, viewer=user) is None:
        refuse(404, f"users {owner}", user)
    ids = list(dict.fromkeys(data.get("ids") or []))
    outside = set(ids) - in_scope_now(ids, user)
    if outside:
        refuse(404, f"customers {sorted(outside)[:5]}", user)
    flags = {name: "1" if data.get(name) else "" for name in ("no_decision_maker", "silent")}
    values = {
        name: str(data[name])
        for name in ("q", "tier", "strategy", "industry", "region", "status", "owner")
        if data.get(name) is not None
    }
    return Selection(filters=CustomerFilters.from_args({**values, **flags}), ids=ids)


def _options(data: dict[str, Any]) -> HandoverOptions:
    return HandoverOptions(**(data.get("options") or {}))


@blp.route("/preview")
class HandoverPreview(MethodView):
    @blp.reads
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.arguments(PreviewRequestSchema)
    @blp.response(200, PreviewSchema)
    def post(self, data: dict[str, Any]):
        """What a handover would move, what needs a reason, and the fingerprint to confirm it.

        Changes nothing; a read-only token is refused all the same (a handover's first step).
        """
        with body_names(to_owner="to_owner_id"):
            result = preview(
                actor=api_user(),
                selection=_selection(data["selection"]),
                to_owner=user_service.user_by_id(data["to_owner_id"]),
                options=_options(data),
            )
        return {
            **{
                name: getattr(result, name)
                for name in (
                    "customers",
                    "opportunities",
                    "closed_opportunities",
                    "reminders",
                    "contacts",
                    "documents",
                    "portfolio_before",
                    "portfolio_after",
                    "needs_reason",
                    "fingerprint",
                )
            },
            "to_owner_id": result.to_owner.id,
            "from_owners": [{"owner_id": u.id, "customers": n} for u, n in result.from_owners],
            "tier_warnings": [
                {"tier": tier, "customers": n, "level": level}
                for tier, n, level in result.tier_warnings
            ],
        }


@blp.route("/<int:handover_id>/undo")
class HandoverUndo(MethodView):
    @blp.creates
    @blp.arguments(ApiSchema)
    @blp.response(200, UndoSchema)
    def post(self, _data: dict[str, Any], handover_id: int):
        """Hand its customers back to their previous owners (within 7 days), as on the web."""
        report = undo(_visible(handover_id).handover, actor=api_user())
        return {
            "handovers": _shown(report.handovers),
            "moved_back": report.moved_back,
            "moved_on": report.moved_on,
            "changed_since": report.changed_since,
        }
