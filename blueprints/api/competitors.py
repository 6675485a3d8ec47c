"""Competitor profiles over the API (a competitor's position at a customer), and the registry.

Writes go through crm/services/archive/competitors.py like the web form's: one profile
per competitor and customer, no retired competitor, a discount from 0 to 100 percent,
no confirmation date in the future, the same messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from marshmallow import validate
from sqlalchemy import select

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Bool,
    Day,
    Id,
    Int,
    ListArgs,
    Percent,
    Str,
    Timestamp,
    choice,
    max_length,
    page_of,
)
from blueprints.api.pagination import Key, Order, flag, nullable, paginate
from blueprints.api.problems import represents
from crm.i18n import today_in, user_zone
from crm.services.archive import competitors as competitor_service
from models import Competitor, CompetitorProfile, Customer, InfoSource, ThreatLevel

blp = ApiBlueprint(
    "api_competitors",
    __name__,
    url_prefix="/api/v1",
    description="Competitors: the registry, and their profiles at the customers in scope.",
)

_TEXT = max_length(5000)


class CompetitorSchema(ApiSchema):
    id = Int()
    name = Str()
    active = Bool(metadata={"description": "False: retired; no new profiles name it."})


class ProfileSchema(ApiSchema):
    id = Int(dump_only=True)
    customer_id = Int()
    competitor_id = Int()
    competitor_name = Str(attribute="competitor.name", dump_only=True)
    products = Str(allow_none=True)
    offer = Str(allow_none=True)
    discount_percent = Percent(allow_none=True, metadata={"description": "15.00 = 15 % off."})
    contract_expiry = Day(allow_none=True)
    strengths = Str(allow_none=True)
    weaknesses = Str(allow_none=True)
    threat = choice(ThreatLevel)
    source = choice(InfoSource, allow_none=True)
    confirmed_on = Day(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int()


class ProfileFieldsSchema(ApiSchema):
    products = Str(allow_none=True, multiline=True, validate=_TEXT)
    offer = Str(allow_none=True, multiline=True, validate=_TEXT)
    discount_percent = Percent(allow_none=True)
    contract_expiry = Day(allow_none=True)
    strengths = Str(allow_none=True, multiline=True, validate=_TEXT)
    weaknesses = Str(allow_none=True, multiline=True, validate=_TEXT)
    threat = choice(ThreatLevel)
    source = choice(InfoSource, allow_none=True)
    confirmed_on = Day(allow_none=True, metadata={"description": "Default: today."})


class ProfileCreateSchema(ProfileFieldsSchema):
    customer_id = Id(required=True)
    competitor_id = Id(required=True, metadata={"description": "From GET /competitors/."})


class ProfileUpdateSchema(ProfileFieldsSchema):
    version = Int(required=True)


class ProfileListArgs(ListArgs):
    """The competitor list's filters, as on the web page, and one customer's profiles."""

    competitor = Id(strict=False)
    threat = choice(ThreatLevel)
    days = Int(
        strict=False,
        validate=validate.OneOf(
            competitor_service.WINDOW_CHOICES, error=_l("Choose one of the listed values.")
        ),
        metadata={"enum": list(competitor_service.WINDOW_CHOICES)},
    )
    expiring = Bool(metadata={"description": "Only contracts ending within `days`."})
    expired = Bool(metadata={"description": "With `expiring`: also those already ended."})
    customer_id = Id(strict=False, metadata={"description": "Only this customer's profiles."})
    sort = choice(("expiry", "customer", "competitor"), load_default="expiry")


ProfilePage = page_of(ProfileSchema, "ProfilePage")
CompetitorPage = page_of(CompetitorSchema, "CompetitorPage")

_ID = Key(CompetitorProfile.id, lambda p: p.id)
ORDERS = {
    "expiry": Order(
        "expiry",
        (
            *nullable(
                CompetitorProfile.contract_expiry, lambda p: p.contract_expiry, date(9999, 12, 31)
            ),
            _ID,
        ),
    ),
    "customer": Order("customer", (Key(Customer.name, lambda p: p.customer.name), _ID)),
    "competitor": Order(
        "competitor",
        (
            Key(Competitor.name, lambda p: p.competitor.name),
            Key(Customer.name, lambda p: p.customer.name),
            _ID,
        ),
    ),
}
REGISTRY_ORDER = Order(
    "registry",
    (
        flag(Competitor.active, lambda c: c.active, descending=True),
        Key(Competitor.name, lambda c: c.name),
        Key(Competitor.id, lambda c: c.id),
    ),
)
_dump = ProfileSchema().dump
represents(CompetitorProfile, _dump)


def _presence_filters(args: dict[str, Any]) -> competitor_service.PresenceFilters:
    """The web list's filters from the API's query (the same parsing as the page)."""
    raw = {
        "competitor": str(args.get("competitor") or ""),
        "threat": args.get("threat") or "",
        "days": str(args.get("days") or ""),
        "expiring": "1" if args.get("expiring") else "",
        "expired": "1" if args.get("expired") else "",
    }
    return competitor_service.PresenceFilters.from_args(raw)


@blp.route("/competitors/")
class Competitors(MethodView):
    @blp.reads
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, CompetitorPage)
    def get(self, args: dict[str, Any]):
        """The competitor registry (reference data: the same for everyone)."""
        return paginate(
            select(Competitor), REGISTRY_ORDER, limit=args["limit"], cursor=args["cursor"]
        )


@blp.route("/competitor-profiles/")
class Profiles(MethodView):
    @blp.reads
    @blp.arguments(ProfileListArgs, location="query")
    @blp.response(200, ProfilePage)
    def get(self, args: dict[str, Any]):
        """Competitors' profiles at the customers in your scope, filtered as the web list is."""
        user = api_user()
        stmt = competitor_service.search_presence(
            user, _presence_filters(args), today_in(user_zone(user))
        )
        if args.get("customer_id") is not None:
            customer = load(Customer, args["customer_id"])
            stmt = stmt.where(CompetitorProfile.customer_id == customer.id)
        return paginate(stmt, ORDERS[args["sort"]], limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(ProfileCreateSchema)
    @blp.response(201, ProfileSchema)
    def post(self, data: dict[str, Any]):
        """Record a competitor's position at a customer in your scope."""
        customer = load(Customer, data.pop("customer_id"))
        competitor = competitor_service.competitor_by_id(data.pop("competitor_id"))
        fields = {name: data.get(name) for name in competitor_service.EDITABLE_FIELDS}
        profile = competitor_service.create_profile(
            customer, actor=api_user(), competitor=competitor, **fields
        )
        return profile, 201, {"Location": url_for(".ProfileRecord", profile_id=profile.id)}


@blp.route("/competitor-profiles/<int:profile_id>")
class ProfileRecord(MethodView):
    @blp.reads
    @blp.response(200, ProfileSchema)
    def get(self, profile_id: int):
        """One profile at a customer in your scope."""
        return load(CompetitorProfile, profile_id)

    @blp.updates
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, ProfileSchema)
    def patch(self, data: dict[str, Any], profile_id: int):
        """Change a profile; the fields you leave out keep their values."""
        profile = load(CompetitorProfile, profile_id)
        version = data.pop("version")
        # The service takes the whole profile (as the web form sends it): keep the rest.
        fields = {name: getattr(profile, name) for name in competitor_service.EDITABLE_FIELDS}
        competitor_service.update_profile(
            profile, actor=api_user(), version=version, **{**fields, **data}
        )
        return profile

    @blp.updates
    @blp.response(204)
    def delete(self, profile_id: int):
        """Remove a profile (the competitor left the customer); the history keeps it."""
        competitor_service.delete_profile(load(CompetitorProfile, profile_id), actor=api_user())
        return None
