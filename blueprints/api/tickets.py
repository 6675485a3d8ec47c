"""Service tickets over the API: the /service/ list's filters, a ticket with its history,
opening one, and its lifecycle (start, resolve, close, reopen, a new handler).

Every write goes through crm/services/tickets/lifecycle.py, as the ticket page's forms
do: the SLA by severity in the owner's time zone, the raiser one of the customer's
contacts, the handler the customer's manager or their supervisor, each change allowed only
from its statuses, a resolution required (and the owner's revisit follow-up made), the
customer's satisfaction recorded once, at the first closing. The same refusals, in the
token owner's language; a stale version answers 409 with the stored ticket.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from sqlalchemy.orm import selectinload

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
from blueprints.api.problems import represents
from crm.permissions import refuse
from crm.services.people.users import person_in_scope
from crm.services.tickets import lifecycle, sla
from crm.services.tickets.lifecycle import NOTE_LENGTH, TEXT_LENGTH, TITLE_LENGTH
from crm.services.tickets.search import (
    SEVERITY_RANK,
    STATUS_CHOICES,
    TicketFilters,
    search_tickets,
)
from models import (
    Customer,
    ServiceTicket,
    TicketCategory,
    TicketKind,
    TicketSeverity,
    TicketStatus,
)

blp = ApiBlueprint(
    "api_tickets",
    __name__,
    url_prefix="/api/v1/tickets",
    tag="Service tickets",
    description=(
        "Service tickets (售后服务): complaints and service requests of the customers in "
        "your scope, with their SLA, handler, history and the customer's satisfaction."
    ),
)

# Loaded with a ticket's record: its history (ids only: no names to load).
TICKET_RECORD = (selectinload(ServiceTicket.events),)


class _Computed(ma.fields.Field):
    """A value worked out from the ticket as the web page works it out."""

    def __init__(self, compute, inner: ma.fields.Field, **kwargs) -> None:
        super().__init__(dump_only=True, **kwargs)
        self.compute, self.inner = compute, inner

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return self.compute(obj)

    def _serialize(self, value, attr, obj, **kwargs):
        return self.inner._serialize(value, attr, obj, **kwargs)


class TicketEventSchema(ApiSchema):
    """One change of the ticket: who, when, from which status to which, the note."""

    at = Timestamp()
    actor_id = Int(allow_none=True)
    from_status = choice(TicketStatus, allow_none=True)
    to_status = choice(TicketStatus)
    note = Str(allow_none=True)
    handler_id = Int(allow_none=True, metadata={"description": "The handler this change set."})


class TicketSchema(ApiSchema):
    """A ticket as the list shows it (what the /service/ list's lines load); the record adds
    the description, the resolution, the revisit and the history."""

    id = Int(dump_only=True)
    customer_id = Int()
    kind = choice(TicketKind)
    category = choice(TicketCategory)
    severity = choice(TicketSeverity)
    title = Str()
    handler_id = Int(allow_none=True)
    status = choice(TicketStatus)
    opened_at = Timestamp()
    due_at = Timestamp(metadata={"description": "By the severity's SLA, on the owner's clock."})
    overdue = _Computed(sla.is_overdue, Bool(), metadata={"type": "boolean"})
    reopened_count = Int()
    allowed_actions = _Computed(
        lambda ticket: sorted(lifecycle.allowed_actions(ticket)),
        ma.fields.List(Str()),
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": sorted(lifecycle.ACTIONS)},
            "description": "The changes its status allows now (assign: /handler).",
        },
    )


class TicketRecordSchema(TicketSchema):
    """One ticket with all it holds and its history, oldest change first."""

    description = Str(allow_none=True)
    raised_by_id = Int(allow_none=True, metadata={"description": "The customer's contact."})
    owner_id = Int(metadata={"description": "The customer's manager."})
    resolution = Str(allow_none=True)
    resolved_at = Timestamp(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    satisfaction = Int(allow_none=True, metadata={"description": "1 to 5, at the revisit."})
    satisfaction_comment = Str(allow_none=True)
    revisit_follow_up_id = Int(
        attribute="revisit_reminder_id",
        allow_none=True,
        metadata={"description": "The owner's revisit follow-up (/api/v1/follow-ups)."},
    )
    created_by_id = Int(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with a change (409 when stale)."})
    events = ma.fields.List(ma.fields.Nested(TicketEventSchema))


class TicketCreateSchema(ApiSchema):
    customer_id = Id(required=True, metadata={"description": "A customer in your scope."})
    kind = choice(TicketKind, required=True)
    category = choice(TicketCategory, required=True)
    severity = choice(TicketSeverity, required=True, metadata={"description": "Sets the SLA."})
    title = Str(required=True, validate=max_length(TITLE_LENGTH))
    description = Str(allow_none=True, multiline=True, validate=max_length(TEXT_LENGTH))
    raised_by_id = Id(allow_none=True, metadata={"description": "One of the customer's contacts."})
    handler_id = Id(
        allow_none=True,
        metadata={"description": "The customer's manager or their supervisor."},
    )


class _Change(ApiSchema):
    version = Int(required=True, metadata={"description": "The version you read."})


class NoteSchema(_Change):
    note = Str(allow_none=True, multiline=True, validate=max_length(NOTE_LENGTH))


class ResolveSchema(_Change):
    resolution = Str(
        allow_none=True,
        multiline=True,
        validate=max_length(TEXT_LENGTH),
        metadata={"description": "How it was solved: required (the revisit asks about it)."},
    )


class CloseSchema(_Change):
    satisfaction = Int(
        allow_none=True,
        metadata={
            "description": (
                "The customer's satisfaction at the revisit, 1 to 5: required at the first "
                "closing, refused at a later one (it is recorded once)."
            )
        },
    )
    comment = Str(allow_none=True, multiline=True, validate=max_length(NOTE_LENGTH))


class HandlerSchema(_Change):
    handler_id = Id(
        required=True, metadata={"description": "The customer's manager or their supervisor."}
    )


_ID = Key(ServiceTicket.id, lambda t: t.id)
_DUE = Key(ServiceTicket.due_at, lambda t: t.due_at)
_SEVERITIES = list(TicketSeverity)
# The /service/ list's orders, each ending with the id (crm/services/tickets/search.py SORTS).
ORDERS = {
    "due": Order("due", (_DUE, _ID)),
    "-due": Order(
        "-due",
        (
            Key(ServiceTicket.due_at, lambda t: t.due_at, True),
            Key(ServiceTicket.id, lambda t: t.id, True),
        ),
    ),
    "opened": Order("opened", (Key(ServiceTicket.opened_at, lambda t: t.opened_at), _ID)),
    "-opened": Order(
        "-opened",
        (
            Key(ServiceTicket.opened_at, lambda t: t.opened_at, True),
            Key(ServiceTicket.id, lambda t: t.id, True),
        ),
    ),
    "severity": Order(
        "severity", (Key(SEVERITY_RANK, lambda t: _SEVERITIES.index(t.severity)), _DUE, _ID)
    ),
    "customer": Order("customer", (Key(Customer.name, lambda t: t.customer.name), _DUE, _ID)),
}


class TicketListArgs(ListArgs):
    """The /service/ list's filters, as on the web page."""

    status = choice(
        STATUS_CHOICES,
        metadata={"description": "all, or one status; absent: those still being worked on."},
    )
    overdue = Bool(metadata={"description": "Only those unresolved past their due time."})
    kind = choice(TicketKind)
    category = choice(TicketCategory)
    severity = choice(TicketSeverity)
    customer_id = Id(strict=False, metadata={"description": "One customer's tickets."})
    owner = Id(strict=False, metadata={"description": "The customers' manager (in your scope)."})
    sort = choice(ORDERS, load_default="due", metadata={"description": "The list's order."})


TicketPage = page_of(TicketSchema, "TicketPage")
_dump_record = TicketRecordSchema().dump
represents(ServiceTicket, _dump_record)


def _filters(args: dict[str, Any]) -> TicketFilters:
    """The web list's filters from the API's query; named records in scope (else 404)."""
    user = api_user()
    if args.get("customer_id") is not None:
        load(Customer, args["customer_id"])
    owner = args.get("owner")
    if owner is not None and person_in_scope(owner, viewer=user) is None:
        refuse(404, f"users {owner}", user)
    values = {
        name: str(args[key])
        for name, key in (
            ("status", "status"),
            ("kind", "kind"),
            ("category", "category"),
            ("severity", "severity"),
            ("customer", "customer_id"),
            ("owner", "owner"),
            ("sort", "sort"),
        )
        if args.get(key) is not None
    }
    return TicketFilters.from_args({**values, "overdue": "1" if args.get("overdue") else ""})


def _ticket(ticket_id: int) -> ServiceTicket:
    return load(ServiceTicket, ticket_id, *TICKET_RECORD)


@blp.route("/")
class Tickets(MethodView):
    @blp.reads
    @blp.arguments(TicketListArgs, location="query")
    @blp.response(200, TicketPage)
    def get(self, args: dict[str, Any]):
        """The tickets of the customers in your scope, filtered as the /service/ list is."""
        stmt = search_tickets(api_user(), _filters(args))
        return paginate(stmt, ORDERS[args["sort"]], limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketRecordSchema)
    def post(self, data: dict[str, Any]):
        """Open a complaint or service request; it is due by its severity's SLA."""
        customer = load(Customer, data.pop("customer_id"))
        ticket = lifecycle.open_ticket(customer, actor=api_user(), **data)
        return ticket, 201, {"Location": url_for(".TicketRecord", ticket_id=ticket.id)}


@blp.route("/<int:ticket_id>")
class TicketRecord(MethodView):
    @blp.reads
    @blp.response(200, TicketRecordSchema)
    def get(self, ticket_id: int):
        """One ticket in your scope, with its history."""
        return _ticket(ticket_id)


@blp.route("/<int:ticket_id>/start")
class TicketStart(MethodView):
    @blp.creates
    @blp.arguments(NoteSchema)
    @blp.response(200, TicketRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int):
        """Take an open ticket in hand (without a handler, you handle it)."""
        return lifecycle.start(_ticket(ticket_id), actor=api_user(), **data)


@blp.route("/<int:ticket_id>/resolve")
class TicketResolve(MethodView):
    @blp.creates
    @blp.arguments(ResolveSchema)
    @blp.response(200, TicketRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int):
        """Record how it was solved; the owner gets a follow-up to revisit the customer."""
        ticket = _ticket(ticket_id)
        return lifecycle.resolve(
            ticket, actor=api_user(), version=data["version"], resolution=data.get("resolution")
        )


@blp.route("/<int:ticket_id>/close")
class TicketClose(MethodView):
    @blp.creates
    @blp.arguments(CloseSchema)
    @blp.response(200, TicketRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int):
        """Close a resolved ticket after the revisit, with the customer's satisfaction."""
        return lifecycle.close(
            _ticket(ticket_id),
            actor=api_user(),
            version=data["version"],
            satisfaction=data.get("satisfaction"),
            comment=data.get("comment"),
        )


@blp.route("/<int:ticket_id>/reopen")
class TicketReopen(MethodView):
    @blp.creates
    @blp.arguments(NoteSchema)
    @blp.response(200, TicketRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int):
        """The problem is back: open it again; its SLA starts over."""
        return lifecycle.reopen(_ticket(ticket_id), actor=api_user(), **data)


@blp.route("/<int:ticket_id>/handler")
class TicketHandler(MethodView):
    @blp.creates
    @blp.arguments(HandlerSchema)
    @blp.response(200, TicketRecordSchema)
    def post(self, data: dict[str, Any], ticket_id: int):
        """Give the ticket to another handler (the customer's manager or their supervisor)."""
        return lifecycle.assign_handler(_ticket(ticket_id), actor=api_user(), **data)
