"""Opportunities over the API: the web list's filters, the record, and its lifecycle.

Every write goes through crm/services/pipeline/opportunities.py, as the web's forms do:
a new one starts at an active pre-sale stage; an open one moves within pre-sale and is
won only at the contract stage (with the contract's date and amount); it is lost only
in pre-sale (with a reason, and the competitor for "competitor"); a won one moves on
into in-sale and after-sale. The same refusals, in the token owner's language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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
from blueprints.api.refusals import admin_filter
from blueprints.opportunities.views import lost_competitors
from crm.permissions import refuse
from crm.services.archive import competitors as competitor_service
from crm.services.errors import DomainError
from crm.services.people import users as user_service
from crm.services.people.users import person_in_scope
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline import search
from crm.services.pipeline.stages import stage_by_id
from models import (
    Customer,
    LostReason,
    Opportunity,
    OpportunityStatus,
    Phase,
    Stage,
    Team,
    Tier,
)

blp = ApiBlueprint(
    "api_opportunities",
    __name__,
    url_prefix="/api/v1/opportunities",
    description=(
        "Opportunities (商机) of the customers in scope: pre-sale, in-sale and after-sale, "
        "won and lost with the web's rules."
    ),
)

_MONTH = validate.Regexp(search.MONTH.pattern, error=_l("Enter a month as YYYY-MM."))


class OpportunitySchema(ApiSchema):
    """An opportunity as the API shows it."""

    id = Int(dump_only=True)
    customer_id = Int()
    title = Str()
    solution = Str(allow_none=True)
    amount = Money(allow_none=True, metadata={"description": "Estimated (won: contract) CNY."})
    expected_close = Day(allow_none=True)
    stage_id = Int(metadata={"description": "See /api/v1/stages."})
    probability = Int(metadata={"description": "Percent, for the weighted pipeline."})
    owner_id = Int()
    status = choice(OpportunityStatus)
    next_step = Str(allow_none=True)
    next_step_on = Day(allow_none=True)
    contract_date = Day(allow_none=True)
    lost_reason = choice(LostReason, allow_none=True)
    lost_to_id = Int(allow_none=True, metadata={"description": "The competitor it went to."})
    lost_note = Str(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    stage_entered_at = Timestamp()
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with a change (409 when stale)."})


class _DetailFields(ApiSchema):
    """What the web's new and edit forms set, with their limits."""

    solution = Str(allow_none=True, multiline=True, validate=max_length(5000))
    amount = Money(allow_none=True)
    expected_close = Day(allow_none=True)
    probability = Int(
        allow_none=True,
        validate=between(0, 100),
        metadata={"description": "Percent; empty for the stage's default."},
    )
    owner_id = Id(metadata={"description": "Whom you may make owner (your team, or yourself)."})
    next_step = Str(allow_none=True, validate=max_length(300))
    next_step_on = Day(
        allow_none=True,
        metadata={"description": "A follow-up reminder for the owner on that day."},
    )


class OpportunityCreateSchema(_DetailFields):
    customer_id = Id(required=True, metadata={"description": "A customer in your scope."})
    title = Str(required=True, validate=max_length(200))
    stage_id = Id(metadata={"description": "An active pre-sale stage; the first by default."})


class OpportunityUpdateSchema(_DetailFields):
    title = Str(validate=max_length(200))
    probability = Int(validate=between(0, 100), metadata={"description": "Percent."})
    version = Int(required=True, metadata={"description": "The version you read."})


class _Versioned(ApiSchema):
    version = Int(
        metadata={"description": "The version you read: a change made since answers 409."}
    )


class MoveSchema(_Versioned):
    stage_id = Id(required=True, metadata={"description": "The stage to move to."})


class WonSchema(_Versioned):
    contract_date = Day(required=True)
    amount = Money(required=True, metadata={"description": "Contract CNY."})


class LostSchema(_Versioned):
    reason = choice(LostReason, required=True)
    competitor_id = Id(
        allow_none=True, metadata={"description": "Whom it went to (required for competitor)."}
    )
    note = Str(allow_none=True, multiline=True, validate=max_length(2000))


OpportunityPage = page_of(OpportunitySchema, "OpportunityPage")

_ID_DOWN = Key(Opportunity.id, lambda o: o.id, True)
_UPDATED = Key(Opportunity.updated_at, lambda o: o.updated_at, True)
# The web list's sorts (crm/services/pipeline/search.py SORTS), each ending with the id.
ORDERS = {
    "updated": Order("updated", (_UPDATED, _ID_DOWN)),
    "amount": Order(
        "amount",
        (*nullable(Opportunity.amount, lambda o: o.amount, Decimal(0), descending=True), _ID_DOWN),
    ),
    "close": Order(
        "close",
        (
            *nullable(Opportunity.expected_close, lambda o: o.expected_close, date(9999, 12, 31)),
            Key(Opportunity.id, lambda o: o.id),
        ),
    ),
    "stage": Order("stage", (Key(Stage.position, lambda o: o.stage.position), _UPDATED, _ID_DOWN)),
}


class OpportunityListArgs(ListArgs):
    """The opportunity list's filters, as on the web page."""

    q = Str(validate=max_length(100), metadata={"description": "Title or customer name."})
    owner = Id(
        strict=False, metadata={"description": "An owner in your scope (supervisors, admins)."}
    )
    team = Id(strict=False, metadata={"description": "A team's opportunities (administrators)."})
    customer_id = Id(strict=False, metadata={"description": "One customer's opportunities."})
    tier = choice(Tier, metadata={"description": "The customer's tier."})
    status = choice(
        ("open", "won", "lost", "all"),
        metadata={"description": "Absent: the live pipeline (open and won, not lost)."},
    )
    phase = choice(Phase)
    stage = Id(strict=False, metadata={"description": "A stage's id (/api/v1/stages)."})
    close = Str(validate=_MONTH, metadata={"description": "Expected to close in YYYY-MM."})
    flagged = Bool(metadata={"description": "Only those past needs discovery with no decider."})
    closed_from = Day(metadata={"description": "Closed on or after (your local day)."})
    closed_to = Day(metadata={"description": "Closed on or before (your local day)."})
    created_from = Day()
    created_to = Day()
    lost_reason = choice((*LostReason, search.NO_REASON))
    lost_to = Id(strict=False, metadata={"description": "Lost to this competitor."})
    been_in = Id(
        strict=False, metadata={"description": "Spent time in this stage (not while lost)."}
    )
    sort = choice(ORDERS, load_default="updated", metadata={"description": "The list's order."})


_dump = OpportunitySchema().dump
represents(Opportunity, _dump)


# Query keys passed to the web list's filters as they are (the web spells them alike).
_TEXT_FILTERS = (
    "q",
    "owner",
    "team",
    "tier",
    "status",
    "phase",
    "stage",
    "close",
    "closed_from",
    "closed_to",
    "created_from",
    "created_to",
    "lost_reason",
    "lost_to",
    "been_in",
)


def _filters(args: dict[str, Any]) -> search.OpportunityFilters:
    """The web list's filters from the API's query; ids of people and customers in scope."""
    user = api_user()
    if args.get("owner") is not None and person_in_scope(args["owner"], viewer=user) is None:
        refuse(404, f"users {args['owner']}", user)
    if args.get("team") is not None:
        load(Team, args["team"])
        if not user.is_admin:  # the web list offers the team filter to administrators only
            admin_filter("team")
    if args.get("customer_id") is not None:
        load(Customer, args["customer_id"])
    values = {name: str(args[name]) for name in _TEXT_FILTERS if args.get(name) is not None}
    values["customer"] = str(args.get("customer_id") or "")
    values["flagged"] = "1" if args.get("flagged") else ""
    return search.OpportunityFilters.from_args(values, user)


def _owner(owner_id: int | None):
    """The user a body names as owner; an unknown id is refused as the form refuses it."""
    owner = user_service.chosen_user(owner_id, field="owner_id", refusal=pipeline.OWNER_REFUSAL)
    if owner is None:  # 0 names nobody here: an owner is asked for
        raise DomainError(pipeline.OWNER_REFUSAL, field="owner_id")
    return owner


@blp.route("/")
class Opportunities(MethodView):
    @blp.reads
    @blp.arguments(OpportunityListArgs, location="query")
    @blp.response(200, OpportunityPage)
    def get(self, args: dict[str, Any]):
        """List the opportunities in your scope, filtered and sorted as the web list is."""
        stmt = search.search_opportunities(api_user(), _filters(args), with_relations=False)
        return paginate(stmt, ORDERS[args["sort"]], limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(OpportunityCreateSchema)
    @blp.response(201, OpportunitySchema)
    def post(self, data: dict[str, Any]):
        """Open an opportunity for a customer in your scope (the web form's rules)."""
        customer = load(Customer, data.pop("customer_id"))
        stage = None
        if data.get("stage_id") is not None:
            stage = stage_by_id(data["stage_id"])
            if stage is None:
                raise DomainError(
                    _l("A new opportunity starts at an active pre-sale stage."), field="stage_id"
                )
        data.pop("stage_id", None)
        owner = _owner(data.pop("owner_id")) if data.get("owner_id") is not None else None
        data.pop("owner_id", None)
        opportunity = pipeline.create_opportunity(
            customer, actor=api_user(), stage=stage, owner=owner, **data
        )
        location = url_for(".OpportunityRecord", opportunity_id=opportunity.id)
        return opportunity, 201, {"Location": location}


@blp.route("/<int:opportunity_id>")
class OpportunityRecord(MethodView):
    @blp.reads
    @blp.response(200, OpportunitySchema)
    def get(self, opportunity_id: int):
        """One opportunity in your scope."""
        return load(Opportunity, opportunity_id)

    @blp.updates
    @blp.arguments(OpportunityUpdateSchema)
    @blp.response(200, OpportunitySchema)
    def patch(self, data: dict[str, Any], opportunity_id: int):
        """Change its details (not stage or status); `version` must be the one you read."""
        opportunity = load(Opportunity, opportunity_id)
        if "owner_id" in data:
            data["owner"] = _owner(data.pop("owner_id"))
        version = data.pop("version")
        return pipeline.update_opportunity(opportunity, actor=api_user(), version=version, **data)


def _version(data: dict[str, Any]) -> int | None:
    return data.get("version")


@blp.route("/<int:opportunity_id>/stage")
class OpportunityStage(MethodView):
    @blp.creates
    @blp.arguments(MoveSchema)
    @blp.response(200, OpportunitySchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Move to another stage (the board's rules and the stage's document rule)."""
        opportunity = load(Opportunity, opportunity_id)
        stage = stage_by_id(data["stage_id"])
        if stage is None:
            raise DomainError(_l("Choose the stage to move to."), field="stage_id")
        return pipeline.move_to_stage(opportunity, stage, actor=api_user(), version=_version(data))


@blp.route("/<int:opportunity_id>/won")
class OpportunityWon(MethodView):
    @blp.creates
    @blp.arguments(WonSchema)
    @blp.response(200, OpportunitySchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Win it at the contract stage, with the contract's date and amount."""
        opportunity = load(Opportunity, opportunity_id)
        return pipeline.mark_won(
            opportunity,
            actor=api_user(),
            contract_date=data["contract_date"],
            amount=data["amount"],
            version=_version(data),
        )


@blp.route("/<int:opportunity_id>/lost")
class OpportunityLost(MethodView):
    @blp.creates
    @blp.arguments(LostSchema)
    @blp.response(200, OpportunitySchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Lose it (pre-sale only), with the reason and, for "competitor", to whom."""
        opportunity = load(Opportunity, opportunity_id)
        competitor = None
        if data.get("competitor_id") is not None:
            competitor = competitor_service.competitor_by_id(data["competitor_id"])
            # The web form offers the active competitors and those bidding on it.
            if competitor is None or competitor not in lost_competitors(opportunity):
                raise DomainError(
                    _l("Choose the competitor it was lost to."), field="competitor_id"
                )
        return pipeline.mark_lost(
            opportunity,
            actor=api_user(),
            reason=LostReason(data["reason"]),
            competitor=competitor,
            note=data.get("note"),
            version=_version(data),
        )


@blp.route("/<int:opportunity_id>/reopen")
class OpportunityReopen(MethodView):
    @blp.creates
    @blp.arguments(_Versioned)
    @blp.response(200, OpportunitySchema)
    def post(self, data: dict[str, Any], opportunity_id: int):
        """Reopen a lost one in the stage it was lost at."""
        opportunity = load(Opportunity, opportunity_id)
        return pipeline.reopen(opportunity, actor=api_user(), version=_version(data))


# The opportunity's contacts, competitors and stage history: routes of this blueprint too.
from blueprints.api import opportunity_links  # noqa: E402,F401  (registers its views)
