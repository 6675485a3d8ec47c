"""Follow-up reminders over the API: my list (or a teammate's), setting one, and its actions.

Every write goes through crm/services/followups/ as the web's reminder pages do: a new
follow-up belongs to the customer's owner, never in the past (the owner's day); done,
dismiss, snooze and reschedule only while pending, with the version the client read;
done may log the visit in the same step (crm/services/followups/completion.py).
Days and times are the owner's, as on the web.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    BASE_MESSAGES,
    ApiSchema,
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
from blueprints.api.visits import VisitSchema
from crm.i18n import today_in, user_zone
from crm.permissions import refuse
from crm.services.followups import completion
from crm.services.followups import reminders as reminder_service
from crm.services.followups.reminders import NOTE_LENGTH, SNOOZE_DAYS
from crm.services.people.users import person_in_scope
from models import Customer, Opportunity, Reminder, ReminderSource, ReminderStatus, VisitKind

blp = ApiBlueprint(
    "api_follow_ups",
    __name__,
    url_prefix="/api/v1/follow-ups",
    description="Follow-up reminders (跟进提醒): dated next steps for their owner.",
)

# The web list shows overdue, today and the next week in full (blueprints/reminders).
WEEK_AHEAD = 7
DUE = ("overdue", "today", "week")


class Clock(ma.fields.Time):
    """A local time of day as HH:MM (the owner's zone)."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter a time as HH:MM."),
        "format": _l("Enter a time as HH:MM."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", "%H:%M")
        super().__init__(*args, **kwargs)


class _DueTime(Clock):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return reminder_service.due_time_of(obj)


class FollowUpSchema(ApiSchema):
    """A follow-up as the API shows it."""

    id = Int(dump_only=True)
    owner_id = Int(metadata={"description": "Whose follow-up it is (the customer's owner)."})
    customer_id = Int()
    opportunity_id = Int(allow_none=True)
    visit_id = Int(allow_none=True, metadata={"description": "The visit that scheduled it."})
    source = choice(ReminderSource)
    due_on = Day(metadata={"description": "The owner's local day."})
    due_time = _DueTime(allow_none=True, metadata={"description": "HH:MM, owner's zone."})
    due_at = Timestamp(metadata={"description": "When it falls due (08:30 without a time)."})
    note = Str()
    status = choice(ReminderStatus)
    completed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with an action (409 when stale)."})


class FollowUpCreateSchema(ApiSchema):
    customer_id = Id(required=True, metadata={"description": "A customer in your scope."})
    due_on = Day(required=True, metadata={"description": "Not in the past (owner's day)."})
    due_time = Clock(allow_none=True, metadata={"description": "HH:MM; without: 08:30."})
    note = Str(allow_none=True, multiline=True, validate=max_length(NOTE_LENGTH))
    opportunity_id = Id(allow_none=True, metadata={"description": "One of the customer's."})


class RescheduleSchema(ApiSchema):
    due_on = Day(metadata={"description": "Not in the past; absent: the same day."})
    due_time = Clock(allow_none=True, metadata={"description": "HH:MM; null: no time."})
    version = Int(required=True, metadata={"description": "The version you read."})


class VersionSchema(ApiSchema):
    version = Int(required=True, metadata={"description": "The version you read."})


class DoneVisitSchema(ApiSchema):
    """The visit the follow-up was about, logged now with it (both or neither)."""

    kind = choice(VisitKind, required=True)
    outcome = Str(allow_none=True, multiline=True, validate=max_length(2000))
    follow_up_on = Day(allow_none=True, metadata={"description": "The next follow-up."})


class DoneSchema(VersionSchema):
    visit = ma.fields.Nested(
        DoneVisitSchema, metadata={"description": "Log the visit too, as the web's tick box."}
    )


class DoneResultSchema(ApiSchema):
    follow_up = ma.fields.Nested(FollowUpSchema, required=True)
    visit = ma.fields.Nested(VisitSchema, allow_none=True, required=True)


class SnoozeSchema(ApiSchema):
    days = Int(
        validate=ma.validate.OneOf(SNOOZE_DAYS, error=_l("Choose one of the listed values.")),
        metadata={"description": "Put it off by 1, 3 or 7 days."},
    )
    until = Day(metadata={"description": "Or until this day (after today)."})
    version = Int(metadata={"description": "The version you read."})


class FollowUpListArgs(ListArgs):
    owner = Id(strict=False, metadata={"description": "Whose list (you by default)."})
    status = choice(ReminderStatus, load_default=ReminderStatus.PENDING.value)
    due = choice(
        DUE,
        metadata={
            "description": (
                "overdue: before today; today: due by today; week: by a week from today "
                "(the owner's days)."
            )
        },
    )


FollowUpPage = page_of(FollowUpSchema, "FollowUpPage")
ORDER = Order("due", (Key(Reminder.due_at, lambda r: r.due_at), Key(Reminder.id, lambda r: r.id)))
represents(Reminder, FollowUpSchema().dump)


def _whose(owner_id: int | None):
    """The owner whose follow-ups are listed: me, or someone in my scope (else 404)."""
    user = api_user()
    if owner_id is None or owner_id == user.id:
        return user
    owner = person_in_scope(owner_id, viewer=user)
    if owner is None:
        refuse(404, f"follow-ups of user {owner_id}", user)
    return owner


def _due_until(owner, due: str | None):
    if due is None:
        return None
    today = today_in(user_zone(owner))
    return {
        "overdue": today - timedelta(days=1),
        "today": today,
        "week": today + timedelta(days=WEEK_AHEAD),
    }[due]


@blp.route("/")
class FollowUps(MethodView):
    @blp.reads
    @blp.arguments(FollowUpListArgs, location="query")
    @blp.response(200, FollowUpPage)
    def get(self, args: dict[str, Any]):
        """Your follow-ups (or a teammate's, for a supervisor), soonest first."""
        owner = _whose(args.get("owner"))
        stmt = reminder_service.follow_ups_of(
            owner,
            viewer=api_user(),
            status=ReminderStatus(args["status"]),
            due_until=_due_until(owner, args.get("due")),
        )
        return paginate(stmt, ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(FollowUpCreateSchema)
    @blp.response(201, FollowUpSchema)
    def post(self, data: dict[str, Any]):
        """Set a follow-up for a customer in your scope; it is the customer's owner's."""
        customer = load(Customer, data["customer_id"])
        opportunity_id = data.get("opportunity_id")
        reminder = reminder_service.create_reminder(
            customer,
            actor=api_user(),
            due_on=data["due_on"],
            due_time=data.get("due_time"),
            note=data.get("note"),
            opportunity=load(Opportunity, opportunity_id) if opportunity_id else None,
        )
        return reminder, 201, {"Location": url_for(".FollowUpRecord", reminder_id=reminder.id)}


@blp.route("/<int:reminder_id>")
class FollowUpRecord(MethodView):
    @blp.reads
    @blp.response(200, FollowUpSchema)
    def get(self, reminder_id: int):
        """One follow-up in your scope."""
        return load(Reminder, reminder_id)

    @blp.updates
    @blp.arguments(RescheduleSchema)
    @blp.response(200, FollowUpSchema)
    def patch(self, data: dict[str, Any], reminder_id: int):
        """Reschedule a pending one to another day or time (the owner's)."""
        reminder = load(Reminder, reminder_id)
        # An absent due_time keeps the time of day; null takes it away.
        due_time = data.get("due_time", reminder_service.due_time_of(reminder))
        return reminder_service.reschedule(
            reminder,
            actor=api_user(),
            version=data["version"],
            due_on=data.get("due_on", reminder.due_on),
            due_time=due_time,
        )


@blp.route("/<int:reminder_id>/done")
class FollowUpDone(MethodView):
    @blp.creates
    @blp.arguments(DoneSchema)
    @blp.response(200, DoneResultSchema)
    def post(self, data: dict[str, Any], reminder_id: int):
        """Mark it done; with `visit`, log that visit in the same step."""
        reminder = load(Reminder, reminder_id)
        visit = None
        if "visit" in data:
            visit = completion.complete_with_visit(
                reminder, actor=api_user(), version=data["version"], **data["visit"]
            )
        else:
            reminder_service.complete(reminder, actor=api_user(), version=data["version"])
        return {"follow_up": reminder, "visit": visit}


@blp.route("/<int:reminder_id>/dismiss")
class FollowUpDismiss(MethodView):
    @blp.creates
    @blp.arguments(VersionSchema)
    @blp.response(200, FollowUpSchema)
    def post(self, data: dict[str, Any], reminder_id: int):
        """Drop it: no longer needed (its email is not sent)."""
        reminder = load(Reminder, reminder_id)
        return reminder_service.dismiss(reminder, actor=api_user(), version=data["version"])


@blp.route("/<int:reminder_id>/snooze")
class FollowUpSnooze(MethodView):
    @blp.creates
    @blp.arguments(SnoozeSchema)
    @blp.response(200, FollowUpSchema)
    def post(self, data: dict[str, Any], reminder_id: int):
        """Put it off by 1, 3 or 7 days, or until a later day; its time of day stays."""
        reminder = load(Reminder, reminder_id)
        return reminder_service.snooze(
            reminder,
            actor=api_user(),
            days=data.get("days"),
            until=data.get("until"),
            version=data.get("version"),
        )
