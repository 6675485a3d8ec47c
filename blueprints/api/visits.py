"""Visits over the API: the work log's filters, the record, logging, changing and deleting one.

Every write goes through crm/services/activity/visits.py, as the web's work-log forms do:
the same contacts-met and opportunity rules (this customer's), no visit in the future, no
follow-up before the visit, the check-in's coordinates checked and the site set only from
a precise enough one; a follow-up date schedules the owner's reminder.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    BASE_MESSAGES,
    ApiSchema,
    Bool,
    Day,
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
from blueprints.api.refusals import admin_filter, body_names, refuse_query
from crm.i18n import user_zone
from crm.permissions import refuse
from crm.services.activity import check_in as check_in_service
from crm.services.activity import visits as visit_service
from crm.services.activity import work_log
from crm.services.activity.visits import TEXT_LENGTH
from crm.services.people.users import person_in_scope
from models import Contact, Customer, Opportunity, Team, Visit, VisitKind

blp = ApiBlueprint(
    "api_visits",
    __name__,
    url_prefix="/api/v1/visits",
    description="Visits (客户拜访): the work log of the people in your scope.",
)

_TEXT = max_length(TEXT_LENGTH)
CONTACTS_MAX = 50  # people met at one visit: more is a mistake, not a meeting


class Number(ma.fields.Float):
    """A decimal number (a coordinate, metres); not NaN or infinity."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter a number."),
        "special": _l("Enter a number."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_nan", False)
        super().__init__(*args, **kwargs)


class CheckInSchema(ApiSchema):
    """Where the phone was when the visit was logged, placed against the customer's site."""

    lat = Number(attribute="at.lat")
    lng = Number(attribute="at.lng")
    accuracy_m = Number(allow_none=True)
    checked_in_at = Timestamp(allow_none=True)
    placement = choice(check_in_service.Placement)
    distance_m = Number(allow_none=True, metadata={"description": "From the site; null: unknown."})


class _CheckIn(ma.fields.Nested):
    """The visit's check-in (null without one), worked out on reading as the web shows it."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return check_in_service.check_in_of(obj)


class _ContactIds(ma.fields.List):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return sorted(contact.id for contact in obj.contacts)


class VisitSchema(ApiSchema):
    """A visit as the API shows it."""

    id = Int(dump_only=True)
    customer_id = Int()
    user_id = Int(metadata={"description": "Who made the visit (whose work log)."})
    opportunity_id = Int(allow_none=True)
    occurred_at = Timestamp()
    kind = choice(VisitKind)
    contact_ids = _ContactIds(Int(), metadata={"description": "The contacts met."})
    purpose = Str(allow_none=True)
    outcome = Str(allow_none=True)
    next_step = Str(allow_none=True)
    follow_up_on = Day(allow_none=True)
    check_in = _CheckIn(CheckInSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with a change (409 when stale)."})


class _VisitFields(ApiSchema):
    """What the web's visit form sets, with its limits."""

    opportunity_id = Id(allow_none=True, metadata={"description": "One of the customer's."})
    contact_ids = ma.fields.List(
        Id(),
        validate=ma.validate.Length(max=CONTACTS_MAX),
        metadata={"description": "The customer's contacts met."},
    )
    purpose = Str(allow_none=True, multiline=True, validate=_TEXT)
    outcome = Str(allow_none=True, multiline=True, validate=_TEXT)
    next_step = Str(allow_none=True, multiline=True, validate=_TEXT)
    follow_up_on = Day(
        allow_none=True,
        metadata={"description": "A follow-up reminder for the customer's owner on that day."},
    )


class VisitCreateSchema(_VisitFields):
    customer_id = Id(required=True, metadata={"description": "A customer in your scope."})
    occurred_at = Timestamp(required=True, metadata={"description": "Not in the future."})
    kind = choice(VisitKind, load_default=VisitKind.ON_SITE.value)
    check_in_lat = Number(
        allow_none=True, metadata={"description": "Where you are now: -90 to 90 (with lng)."}
    )
    check_in_lng = Number(allow_none=True, metadata={"description": "-180 to 180."})
    check_in_accuracy_m = Number(
        allow_none=True, metadata={"description": "The location's accuracy in metres."}
    )
    confirm_site = Bool(
        load_default=False,
        metadata={"description": "The customer has no site yet: this check-in becomes it."},
    )


class VisitUpdateSchema(_VisitFields):
    occurred_at = Timestamp()
    kind = choice(VisitKind)
    version = Int(required=True, metadata={"description": "The version you read."})


def _week(text: str) -> None:
    try:
        year, week = text.upper().split("-W")
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ma.ValidationError(str(_l("Enter a week as 2026-W47."))) from None


class VisitListArgs(ListArgs):
    """The work log's filters, as on the web page."""

    week = Str(
        validate=[max_length(10), _week],
        metadata={"description": "An ISO week, e.g. 2026-W47; absent: this week."},
    )
    from_ = Day(data_key="from", metadata={"description": "With `to`: up to 62 local days."})
    to = Day()
    member = Id(strict=False, metadata={"description": "Whose visits (a person in your scope)."})
    team = Id(strict=False, metadata={"description": "A team's visits (administrators)."})


VisitPage = page_of(VisitSchema, "VisitPage")
# The work log's order: newest first.
ORDER = Order(
    "work_log",
    (
        Key(Visit.occurred_at, lambda v: v.occurred_at, True),
        Key(Visit.id, lambda v: v.id, True),
    ),
)
_dump = VisitSchema().dump
represents(Visit, _dump)


def _period(args: dict[str, Any], zone) -> tuple[date, int]:
    """The first local day and the number of days: a chosen range, or a week."""
    first, last = args.get("from_"), args.get("to")
    if first is None and last is None:
        return work_log.week_monday(args.get("week"), zone), 7
    chosen = work_log.date_range(
        first.isoformat() if first else None, last.isoformat() if last else None
    )
    if chosen is None:
        refuse_query(
            "from", _("Choose from and to, from 1 to %(n)d days apart.", n=work_log.MAX_RANGE_DAYS)
        )
    return chosen


def _people(args: dict[str, Any]) -> dict[str, int | None]:
    """The member and team filters, each in the token user's scope (else 404)."""
    user = api_user()
    member_id = args.get("member")
    if member_id is not None and person_in_scope(member_id, viewer=user) is None:
        refuse(404, f"users {member_id}", user)
    team_id = args.get("team")
    if team_id is not None:
        load(Team, team_id)
        if not user.is_admin:  # the web work log offers the team filter to administrators
            admin_filter("team")
    return {"member_id": member_id, "team_id": team_id}


def _links(data: dict[str, Any]) -> dict[str, Any]:
    """The body's opportunity and contacts, each loaded in scope (another team's: 404)."""
    if "opportunity_id" in data:
        opportunity_id = data.pop("opportunity_id")
        data["opportunity"] = load(Opportunity, opportunity_id) if opportunity_id else None
    if "contact_ids" in data:
        data["contacts"] = [load(Contact, contact_id) for contact_id in data.pop("contact_ids")]
    return data


@blp.route("/")
class Visits(MethodView):
    @blp.reads
    @blp.arguments(VisitListArgs, location="query")
    @blp.response(200, VisitPage)
    def get(self, args: dict[str, Any]):
        """A week (or range) of the work log: yours, your team's (supervisors), everyone's."""
        user = api_user()
        zone = user_zone(user)
        first, days = _period(args, zone)
        stmt = work_log.work_log_visits(
            user, monday=first, zone=zone, days=days, with_names=False, **_people(args)
        )
        return paginate(stmt, ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    def post(self, data: dict[str, Any]):
        """Log a visit you made, as the web form does (contacts met, optional check-in)."""
        customer = load(Customer, data.pop("customer_id"))
        with body_names(occurred_on="occurred_at"):
            visit = visit_service.log_visit(customer, actor=api_user(), **_links(data))
        return visit, 201, {"Location": url_for(".VisitRecord", visit_id=visit.id)}


@blp.route("/<int:visit_id>")
class VisitRecord(MethodView):
    @blp.reads
    @blp.response(200, VisitSchema)
    def get(self, visit_id: int):
        """One visit in your scope."""
        return load(Visit, visit_id)

    @blp.updates
    @blp.arguments(VisitUpdateSchema)
    @blp.response(200, VisitSchema)
    def patch(self, data: dict[str, Any], visit_id: int):
        """Change a visit (not its check-in); the fields you leave out keep their values."""
        visit = load(Visit, visit_id)
        fields = {
            "occurred_at": visit.occurred_at,
            "kind": visit.kind,
            "opportunity": visit.opportunity,
            "contacts": list(visit.contacts),
            "purpose": visit.purpose,
            "outcome": visit.outcome,
            "next_step": visit.next_step,
            "follow_up_on": visit.follow_up_on,
        }
        version = data.pop("version")
        fields.update(_links(data))
        with body_names(occurred_on="occurred_at"):
            return visit_service.update_visit(visit, actor=api_user(), version=version, **fields)

    @blp.updates
    @blp.response(204)
    def delete(self, visit_id: int):
        """Delete a visit (and its pending follow-up), as the web's delete button does."""
        visit_service.delete_visit(load(Visit, visit_id), actor=api_user())
