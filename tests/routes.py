"""Which record each id-taking route needs, and who may open it.

The access matrix and the CSRF test read this. A route that takes an id and is
missing here fails `test_every_id_route_is_classified`: a new route cannot skip
its scope check unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Personas of the matrix; the record under test belongs to the owner, m1 of Team One.
PERSONAS = (
    "anonymous",
    "owner",
    "teammate",
    "other_team",
    "supervisor",
    "other_supervisor",
    "admin",
)
CUSTOMER_SCOPE_ALLOWED = {"owner", "supervisor", "admin"}
ADMIN_ALLOWED = {"admin"}


@dataclass
class World:
    """The organisation of tests/conftest.py `org` and the factory fixtures.

    A builder leaves in `record` the row its route acts on and in `shown` a text that
    the route's page must show to a persona allowed to open it.
    """

    org: dict[str, Any]
    make_customer: Callable[..., Any]
    make_contact: Callable[..., Any]
    make_competitor: Callable[..., Any]
    make_profile: Callable[..., Any]
    make_opportunity: Callable[..., Any]
    make_visit: Callable[..., Any]
    make_reminder: Callable[..., Any]
    record: Any = None
    shown: str | None = None

    @classmethod
    def build(cls, request) -> World:
        return cls(
            org=request.getfixturevalue("org"),
            **{
                name: request.getfixturevalue(name)
                for name in (
                    "make_customer",
                    "make_contact",
                    "make_competitor",
                    "make_profile",
                    "make_opportunity",
                    "make_visit",
                    "make_reminder",
                )
            },
        )

    @property
    def owner(self):
        return self.org["m1"]

    def customer(self):
        """A customer of the owner (m1, Team One)."""
        return self.make_customer(self.owner)

    def builds(self, record, shown: str | None, **kwargs) -> dict:
        """Remember the record and what its page shows; return the URL's arguments."""
        self.record, self.shown = record, shown
        return kwargs


def _reminder(w: World) -> dict:
    reminder = w.make_reminder(w.customer())
    return w.builds(reminder, reminder.customer.name, reminder_id=reminder.id)


def _opportunity(w: World) -> dict:
    opportunity = w.make_opportunity(w.customer())
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


def _contract_opportunity(w: World) -> dict:
    """An opportunity at the contract stage: the one stage it can be won at."""
    opportunity = w.make_opportunity(w.customer(), stage="Contract")
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


def _lost_opportunity(w: World) -> dict:
    from models import LostReason, OpportunityStatus

    opportunity = w.make_opportunity(
        w.customer(), status=OpportunityStatus.LOST, lost_reason=LostReason.PRICE
    )
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


def _opportunity_with_contact(w: World) -> dict:
    """An opportunity with one contact of its customer on it (`w.record`: the link's contact)."""
    from crm.extensions import db
    from models import OpportunityContact

    opportunity = w.make_opportunity(w.customer())
    contact = w.make_contact(opportunity.customer)
    db.session.add(OpportunityContact(opportunity=opportunity, contact=contact, role="user"))
    db.session.commit()
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


def _opportunity_with_competitor(w: World) -> dict:
    from crm.extensions import db
    from models import OpportunityCompetitor

    opportunity = w.make_opportunity(w.customer())
    db.session.add(OpportunityCompetitor(opportunity=opportunity, competitor=w.make_competitor()))
    db.session.commit()
    return w.builds(opportunity, opportunity.title, opportunity_id=opportunity.id)


def _visit(w: World) -> dict:
    visit = w.make_visit(w.customer())
    return w.builds(visit, visit.customer.name, visit_id=visit.id)


def _customer(w: World) -> dict:
    customer = w.customer()
    return w.builds(customer, customer.name, customer_id=customer.id)


def _contact(w: World, **fields) -> dict:
    contact = w.make_contact(w.customer(), **fields)
    return w.builds(contact, contact.name, contact_id=contact.id)


def _profile(w: World) -> dict:
    profile = w.make_profile(w.customer())
    return w.builds(profile, profile.customer.name, profile_id=profile.id)


def _handover_page(w: World) -> dict:
    handover, customer = _handover(w)
    return w.builds(handover, customer.name, handover_id=handover.id)


def _request_page(w: World) -> dict:
    pending = _handover_request(w)
    return w.builds(pending, pending.customer.name, request_id=pending.id)


def _stage_in_use(w: World) -> dict:
    opportunity = w.make_opportunity(w.customer())
    return w.builds(opportunity.stage, opportunity.stage.name_zh, stage_id=opportunity.stage_id)


def _message(w: World, eml: bool = False) -> dict:
    message = _outbox_message(w, eml=eml)
    return w.builds(message, "Follow-up due", message_id=message.id)


def _webhook_subscription(w: World) -> dict:
    subscription = _failed_webhook_call(w).subscription
    return w.builds(subscription, subscription.name, subscription_id=subscription.id)


def _webhook_call(w: World) -> dict:
    delivery = _failed_webhook_call(w)
    return w.builds(delivery, delivery.subscription.name, delivery_id=delivery.id)


def _new_industry(w: World) -> dict:
    industry = _industry()
    return w.builds(industry, industry.name_zh, industry_id=industry.id)


def _competitor(w: World) -> dict:
    competitor = w.make_competitor()
    return w.builds(competitor, competitor.name, competitor_id=competitor.id)


def _user(w: World) -> dict:
    user = w.org["m2"]
    return w.builds(user, user.username, user_id=user.id)


def _team(w: World) -> dict:
    team = w.org["team1"]
    return w.builds(team, team.name, team_id=team.id)


def _month_plan(w: World, *, key_customer: bool = False) -> dict:
    """The owner's (m1's) plan for this month; `key_customer`: with one of m1's customers."""
    from datetime import UTC, datetime

    from crm.extensions import db
    from models import KeyCustomerAim, PlanKeyCustomer, PlanKind, WorkPlan

    plan = WorkPlan(
        owner=w.owner, kind=PlanKind.MONTH, starts_on=datetime.now(UTC).date().replace(day=1)
    )
    if key_customer:
        plan.key_customers.append(
            PlanKeyCustomer(customer=w.customer(), aim_kind=KeyCustomerAim.ADVANCE, aim="签约")
        )
    db.session.add(plan)
    db.session.commit()
    shown = plan.key_customers[0].customer.name if key_customer else w.owner.display_name
    return w.builds(plan, shown, plan_id=plan.id)


def _key_customer(w: World) -> dict:
    kwargs = _month_plan(w, key_customer=True)
    return {**kwargs, "key_customer_id": w.record.key_customers[0].id}


def _week_plan(w: World, *, task: bool = True):
    """The owner's (m1) plan for this week, with a planned visit to one of their customers
    (and a task). Returns the plan and the planned visit."""
    from crm.extensions import db
    from crm.services.plans import lifecycle, periods
    from models import PlanKind, PlannedVisit, PlanTask

    monday = periods.starts_on_for(PlanKind.WEEK, periods.today_for(w.owner))
    plan = lifecycle.start_plan(PlanKind.WEEK, monday, actor=w.owner)
    planned = PlannedVisit(plan=plan, customer=w.customer(), day=monday, purpose="矩阵")
    db.session.add(planned)
    if task:
        db.session.add(PlanTask(plan=plan, text="矩阵任务"))
    db.session.commit()
    return plan, planned


def _plan_page(w: World) -> dict:
    plan, planned = _week_plan(w)
    return w.builds(plan, planned.customer.name, plan_id=plan.id)


def _planned_visit(w: World) -> dict:
    plan, planned = _week_plan(w)
    return w.builds(planned, planned.customer.name, planned_id=planned.id)


def _planned_visit_with_visit(w: World) -> dict:
    """A planned visit and a visit the owner logged to that customer this week (now)."""
    plan, planned = _week_plan(w)
    w.make_visit(planned.customer, user=w.owner)
    return w.builds(planned, planned.customer.name, planned_id=planned.id)


def _plan_task(w: World) -> dict:
    plan, _planned = _week_plan(w)
    task = plan.tasks[0]
    return w.builds(task, task.text, task_id=task.id)


def _submitted_plan(w: World) -> dict:
    """The owner's week plan, submitted: what a reviewer gives a verdict on."""
    from crm.extensions import db
    from crm.services.plans import lifecycle

    plan, planned = _week_plan(w)
    lifecycle.submit(plan, actor=w.owner)
    db.session.commit()
    return w.builds(plan, planned.customer.name, plan_id=plan.id)


def _notice(w: World) -> dict:
    """A notice to the owner (m1): sup1 commented on one of m1's visits."""
    from sqlalchemy import select

    from crm.extensions import db
    from crm.services.activity import comments
    from models import Notice

    visit = w.make_visit(w.customer())
    comments.add_comment(visit, actor=w.org["sup1"], body="矩阵点评")
    db.session.commit()
    notice = db.session.scalars(select(Notice).where(Notice.user_id == w.owner.id)).one()
    return w.builds(notice, None, notice_id=notice.id)


def _visit_comment_count(visit) -> int:
    from sqlalchemy import func, select

    from crm.extensions import db
    from models import VisitComment

    if visit is None:
        return 0
    return db.session.scalar(
        select(func.count(VisitComment.id)).where(VisitComment.visit_id == visit.id)
    )


def _document(w: World, image: bool = False) -> dict:
    """A document of the owner's customer: a PDF whose bytes carry its title, or a PNG
    (shown: "JFIF", which its JPEG thumbnail's bytes carry)."""
    import io

    from crm.extensions import db
    from crm.services.documents import library

    customer = w.customer()
    if image:
        from PIL import Image

        content = io.BytesIO()
        Image.new("RGB", (40, 30), (10, 120, 10)).save(content, "PNG")
        name, data = "site.png", content.getvalue()
    else:
        name, data = "proposal.pdf", b"%PDF-1.4\n(Access matrix document)\n%%EOF\n"
    (document,) = library.upload(
        customer=customer,
        actor=w.owner,
        uploads=[library.Upload(io.BytesIO(data), name)],
        kind_id=library.kind_by_code("proposal").id,
        title="Access matrix document",
    )
    db.session.commit()
    shown = "JFIF" if image else "Access matrix document"
    return w.builds(document, shown, document_id=document.id)


def _document_file(w: World) -> dict:
    return {**_document(w), "number": 1}


def _document_thumbnail(w: World) -> dict:
    return {**_document(w, image=True), "number": 1}


def _document_kind(w: World) -> dict:
    from crm.extensions import db
    from models import DocumentKind

    number = db.session.query(DocumentKind).count() + 1
    kind = DocumentKind(code=f"kind{number}", name_zh=f"资料{number}", name_en=f"Kind {number}")
    db.session.add(kind)
    db.session.commit()
    return w.builds(kind, kind.name_zh, kind_id=kind.id)


def _opportunity_upload(w: World) -> dict:
    """The upload page names the opportunity."""
    return _opportunity(w)


TICKET_STEPS = {
    "open": (),
    "in_progress": ("start",),
    "resolved": ("start", "resolve"),
    "closed": ("start", "resolve", "close"),
}


def _ticket(w: World, status: str = "open") -> dict:
    """A complaint about the owner's customer, brought to `status` by the owner (m1)."""
    from crm.extensions import db
    from crm.services.tickets import lifecycle

    ticket = lifecycle.open_ticket(
        w.customer(),
        actor=w.owner,
        kind="complaint",
        category="billing",
        severity="high",
        title="矩阵工单",
    )
    steps = {
        "start": lambda t: lifecycle.start(t, actor=w.owner, version=t.version),
        "resolve": lambda t: lifecycle.resolve(
            t, actor=w.owner, version=t.version, resolution="已退费"
        ),
        "close": lambda t: lifecycle.close(t, actor=w.owner, version=t.version, satisfaction=4),
    }
    for step in TICKET_STEPS[status]:
        steps[step](ticket)
    db.session.commit()
    return w.builds(ticket, "矩阵工单", ticket_id=ticket.id)


# endpoint -> builds the record(s) and returns the URL's keyword arguments
CUSTOMER_SCOPED: dict[str, Callable[[World], dict]] = {
    "reminders.show": _reminder,
    "reminders.done": _reminder,
    "reminders.dismiss": _reminder,
    "reminders.snooze": _reminder,
    "reminders.reschedule": _reminder,
    "handovers.show": _handover_page,
    "handovers.undo_handover": _handover_page,
    "handovers.customer_history": _customer,
    "handovers.decline_request": _request_page,
    "opportunities.show": _opportunity,
    "opportunities.edit": _opportunity,
    "opportunities.move": _opportunity,
    "opportunities.mark_won": _contract_opportunity,
    "opportunities.mark_lost": _opportunity,
    "opportunities.reopen": _lost_opportunity,
    "opportunities.add_contact": _opportunity,
    "opportunities.remove_contact": _opportunity_with_contact,
    "opportunities.add_competitor": _opportunity,
    "opportunities.remove_competitor": _opportunity_with_competitor,
    "visits.show": _visit,
    "visits.edit": _visit,
    "visits.delete": _visit,
    "customers.edit": _customer,
    "contacts.show": _contact,
    "contacts.edit": _contact,
    "contacts.deactivate": _contact,
    "contacts.reactivate": lambda w: _contact(w, active=False),
    "contacts.new": _customer,
    "contacts.relationship_map": _customer,
    "competitors.new_profile": _customer,
    "competitors.edit_profile": _profile,
    "competitors.delete_profile": _profile,
    "customers.show": _customer,
    "customers.timeline": _customer,
    "health.customer_history": _customer,
    "customers.mark_lost": _customer,
    "figures.show": _customer,
    # Work plans are scoped by their manager as customers are: own, team's, everyone's.
    "plans.goals": _month_plan,
    "plans.add_key_customer": _month_plan,
    "plans.remove_key_customer": _key_customer,
    "plans.show": _plan_page,
    "plans.add_visit": _plan_page,
    "plans.add_task": _plan_page,
    "plans.focus": _plan_page,
    "plans.submit": _plan_page,
    "plans.edit_visit": _planned_visit,
    "plans.remove_visit": _planned_visit,
    "plans.link_visit": _planned_visit_with_visit,
    "plans.unlink_visit": _planned_visit,
    "plans.toggle_task": _plan_task,
    "plans.remove_task": _plan_task,
    "plans.review": _submitted_plan,
    "plans.return_plan": _submitted_plan,
    "visits.add_comment": _visit,
    "documents.upload_to_customer": _customer,
    "documents.upload_to_opportunity": _opportunity_upload,
    "documents.upload_to_visit": _visit,
    "documents.show": _document,
    "documents.edit": _document,
    "documents.new_version": _document,
    "documents.delete": _document,
    "documents.file": _document_file,
    "documents.thumbnail": _document_thumbnail,
    # Service tickets follow their customer (issue 14).
    "service.show": _ticket,
    "service.start": _ticket,
    "service.resolve": lambda w: _ticket(w, "in_progress"),
    "service.close": lambda w: _ticket(w, "resolved"),
    "service.reopen": lambda w: _ticket(w, "closed"),
    "service.assign": _ticket,
}

ADMIN_ONLY: dict[str, Callable[[World], dict]] = {
    "outbox_admin.show": _message,
    "outbox_admin.retry": _message,
    "outbox_admin.download": lambda w: _message(w, eml=True),
    "webhooks_admin.show": _webhook_subscription,
    "webhooks_admin.edit": _webhook_subscription,
    "webhooks_admin.rotate_secret": _webhook_subscription,
    "webhooks_admin.retry_failed": _webhook_subscription,
    "webhooks_admin.delete": _webhook_subscription,
    "webhooks_admin.delivery": _webhook_call,
    "webhooks_admin.retry": _webhook_call,
    "stages.edit": _stage_in_use,
    "stages.move_up": _stage_in_use,
    "stages.move_down": _stage_in_use,
    "stages.retire": _stage_in_use,
    "stages.reactivate": _stage_in_use,
    "stages.delete": _stage_in_use,
    "customers.delete": _customer,
    "customers.set_site": _customer,
    "reference.edit_industry": _new_industry,
    "reference.retire_industry": _new_industry,
    "reference.reactivate_industry": _new_industry,
    "reference.delete_industry": _new_industry,
    "reference.edit_competitor": _competitor,
    "reference.retire_competitor": _competitor,
    "reference.reactivate_competitor": _competitor,
    "reference.delete_competitor": _competitor,
    "admin.edit_user": _user,
    "admin.reset_password": _user,
    "admin.deactivate_user": _user,
    "admin.reactivate_user": _user,
    "admin.edit_team": _team,
    "admin.add_member": _team,
    "admin.remove_member": lambda w: {**_team(w), "user_id": w.org["m2"].id},
    # A setting's key, not a record: the role check is the point (tests/test_admin_settings.py).
    "admin.change_setting": lambda w: w.builds(None, None, key="plans.due_time"),
    "document_kinds.edit": _document_kind,
    "document_kinds.retire": _document_kind,
    "document_kinds.reactivate": _document_kind,
}

# Rows addressed to one user alone (notices): the owner's, and nobody else's, not even an
# admin's (crm/permissions.py own_rows); anyone else gets 404.
OWN_ROWS_ALLOWED = {"owner"}
OWN_ROWS: dict[str, Callable[[World], dict]] = {
    "notices.read": _notice,
}

# A user's own rows that an administrator may also act on (API tokens: revoked by their
# user on the account page or by an admin on the user's page); anyone else gets 404.
OWN_OR_ADMIN_ALLOWED = {"owner", "admin"}


def _api_token(w: World) -> dict:
    """A read-only token of the owner (m1)."""
    from crm.extensions import db
    from crm.services.people import tokens

    made = tokens.create_token(actor=w.owner, name="矩阵令牌", scope="read", lifetime_days=30)
    db.session.commit()
    return w.builds(made.token, None, token_id=made.token.id)


OWN_OR_ADMIN: dict[str, Callable[[World], dict]] = {
    "auth.revoke_token": _api_token,
}

# Routes with arguments that are not record ids.
NOT_RECORDS: set[str] = {
    "calendar.feed",  # a secret token (tests/test_calendar_feed.py)
    "plans.month",  # a month (2026-12): the viewer's own plan (tests/test_plan_month.py)
    "plans.week",  # a week (2026-W50): the viewer's own plan (tests/test_plan_pages.py)
}
# The arguments of those that take a POST (tests/test_csrf.py builds their URLs).
NOT_RECORD_ARGS: dict[str, Callable[[World], dict]] = {
    "plans.month": lambda w: {"key": "2026-12"},
    "plans.week": lambda w: {"key": "2026-W50"},
}


def persona_user(world: World, persona: str):
    return {
        "owner": world.org["m1"],
        "teammate": world.org["m2"],
        "other_team": world.org["m3"],
        "supervisor": world.org["sup1"],
        "other_supervisor": world.org["sup2"],
        "admin": world.org["admin"],
    }.get(persona)


def _industry():
    """A fresh industry for the reference-data routes (beside the seeded defaults)."""
    from crm.extensions import db
    from models import Industry

    number = db.session.query(Industry).count() + 1
    industry = Industry(name_zh=f"行业{number}", name_en=f"Industry {number}")
    db.session.add(industry)
    db.session.commit()
    return industry


def _outbox_message(w: World, eml: bool = False):
    """A failed reminder email to the owner; `eml`: also the .eml file the outbox page offers."""
    import os
    import tempfile
    from pathlib import Path

    from flask import current_app

    from crm.extensions import db
    from crm.mail import eml_name
    from models import MessageKind, MessageStatus, OutboxMessage

    number = db.session.query(OutboxMessage).count() + 1
    message = OutboxMessage(
        key=f"test:{number}",
        kind=MessageKind.REMINDER,
        recipient=w.owner,
        subject="Follow-up due",
        body_text="text",
        status=MessageStatus.FAILED,
        last_error="550 no such user",
    )
    db.session.add(message)
    db.session.commit()
    if eml:
        # One scratch folder per test process, reused: the keys restart with each database.
        folder = Path(tempfile.gettempdir()) / f"crm-test-mail-{os.getpid()}"
        folder.mkdir(exist_ok=True)
        current_app.config["MAIL_DIR"] = str(folder)  # this test's app only
        (folder / eml_name(message.key)).write_bytes(b"Subject: Follow-up due\r\n\r\ntext\r\n")
    return message


def _failed_webhook_call(w: World):
    """A subscription (to a receiver that is never called) with one failed call."""
    from crm.extensions import db
    from models import MessageStatus, WebhookDelivery, WebhookEvent, WebhookSubscription

    number = db.session.query(WebhookSubscription).count() + 1
    subscription = WebhookSubscription(
        name=f"数据仓库{number}",
        url="https://hooks.example.com/crm",
        events=[WebhookEvent.CUSTOMER_CREATED.value],
        secret="whsec_matrix",
    )
    delivery = WebhookDelivery(
        subscription=subscription,
        key=f"webhook:matrix:{number}",
        event=WebhookEvent.CUSTOMER_CREATED,
        event_id=f"matrix-{number}",
        body="{}",
        status=MessageStatus.FAILED,
        attempts=1,
        response_code=404,
        last_error="HTTP 404",
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


def _handover(w: World):
    """sup1 hands one of their own customers to the owner (m1): both see it, m2 does not.

    Returns the handover and the customer.
    """
    from crm.extensions import db
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over

    customer = w.make_customer(w.org["sup1"])
    handover = hand_over(
        actor=w.org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=w.owner,
        options=HandoverOptions(),
        note="Access matrix",
        token=f"matrix-{customer.id}",
        expected_fingerprint=None,
    )
    db.session.commit()
    return handover, customer


def _handover_request(w: World):
    """The owner (m1) asks for a handover of one of their customers."""
    from crm.extensions import db
    from crm.services.handover.requests import request_handover

    request = request_handover(w.customer(), actor=w.owner, note="Access matrix")
    db.session.commit()
    return request


# What a valid submission of a POST route changes ------------------------------------
# An allowed persona's POST must not only pass the scope check: it must do its work.
# Routes not listed here are forms with several fields: the matrix submits them empty and
# expects the form back with its errors (400), which also shows the record was found.


@dataclass
class Effect:
    """The fields of a valid submission, and whether the record changed accordingly."""

    data: Callable[[World], dict]
    changed: Callable[[Any], bool]  # given the record as the database now has it
    personas: frozenset[str] | None = None  # who may do it; None: every allowed persona


def reloaded(record):
    """The record as the database has it now (None once deleted)."""
    from crm.extensions import db

    db.session.expire_all()
    return db.session.get(type(record), record.id)


def _version(w: World) -> dict:
    return {"version": w.record.version}


def _days_from_now(days: int):
    from datetime import UTC, datetime, timedelta

    # The persona's zone is Asia/Shanghai; a few days ahead is in the future anywhere.
    return (datetime.now(UTC) + timedelta(days=days)).date()


def _linked_contact(w: World) -> dict:
    return {"contact_id": w.record.contacts[0].contact_id}


def _linked_competitor(w: World) -> dict:
    return {"competitor_id": w.record.competitors[0].competitor_id}


def _addable_contact(w: World) -> dict:
    return {"contact_id": w.make_contact(w.record.customer).id, "role": ""}


def _second_stage(w: World) -> dict:
    from sqlalchemy import select

    from crm.extensions import db
    from models import Stage

    stage = db.session.scalar(select(Stage).where(Stage.position == 2))
    return {"stage_id": stage.id, "version": w.record.version}


def _status(value) -> Callable[[Any], bool]:
    return lambda row: row is not None and row.status == value


DECIDERS = frozenset({"supervisor", "admin"})


def _planned_field(name: str, value: Callable[[World], Any]) -> Callable[[World], dict]:
    """A field of a planned visit's own form on the plan page (prefixed with its id)."""
    prefix = "v" if name != "visit_id" else "l"
    return lambda w: {f"{prefix}{w.record.id}-{name}": value(w)}


def _plan_day(w: World) -> str:
    plan = w.record if hasattr(w.record, "starts_on") else w.record.plan
    return plan.starts_on.isoformat()


def _owned_visit_id(w: World) -> int:
    from sqlalchemy import select

    from crm.extensions import db
    from models import Visit

    return db.session.scalar(select(Visit.id).where(Visit.customer_id == w.record.customer_id))


OWNER = frozenset({"owner"})  # a work plan is changed by its own manager only

POST_EFFECTS: dict[str, Effect] = {
    "reminders.done": Effect(_version, _status("done")),
    "reminders.dismiss": Effect(_version, _status("dismissed")),
    "reminders.snooze": Effect(
        lambda w: {**_version(w), "days": 3}, lambda r: r.due_on > _days_from_now(1)
    ),
    "reminders.reschedule": Effect(
        lambda w: {**_version(w), "due_on": _days_from_now(5).isoformat()},
        lambda r: r.due_on == _days_from_now(5),
    ),
    "opportunities.move": Effect(_second_stage, lambda o: o.stage.position == 2),
    "opportunities.mark_won": Effect(
        lambda w: {**_version(w), "contract_date": _days_from_now(0), "amount": "1000"},
        _status("won"),
    ),
    "opportunities.mark_lost": Effect(
        lambda w: {**_version(w), "reason": "price", "competitor_id": 0}, _status("lost")
    ),
    "opportunities.reopen": Effect(lambda w: {}, _status("open")),
    "opportunities.add_contact": Effect(_addable_contact, lambda o: len(o.contacts) == 1),
    "opportunities.remove_contact": Effect(_linked_contact, lambda o: not o.contacts),
    "opportunities.add_competitor": Effect(
        lambda w: {"competitor_id": w.make_competitor().id}, lambda o: len(o.competitors) == 1
    ),
    "opportunities.remove_competitor": Effect(_linked_competitor, lambda o: not o.competitors),
    "visits.delete": Effect(lambda w: {}, lambda v: v is None),
    "contacts.deactivate": Effect(lambda w: {}, lambda c: not c.active),
    "contacts.reactivate": Effect(lambda w: {}, lambda c: c.active),
    "competitors.delete_profile": Effect(lambda w: {}, lambda p: p is None),
    "handovers.undo_handover": Effect(lambda w: {}, _status("undone"), personas=DECIDERS),
    "handovers.decline_request": Effect(
        lambda w: {"note": "No"}, _status("declined"), personas=DECIDERS
    ),
    "customers.delete": Effect(lambda w: {}, lambda c: c is None),
    "customers.mark_lost": Effect(
        lambda w: {**_version(w), "reason": "moved", "competitor_id": 0}, _status("lost")
    ),
    "customers.set_site": Effect(
        lambda w: {"site_lat": "31.230416", "site_lng": "121.473701"},
        lambda c: c.site_lat == 31.230416 and c.site_lng == 121.473701,
    ),
    "outbox_admin.retry": Effect(lambda w: {}, _status("pending")),
    "webhooks_admin.retry": Effect(lambda w: {}, _status("pending")),
    "webhooks_admin.rotate_secret": Effect(lambda w: {}, lambda s: s.secret != "whsec_matrix"),
    "webhooks_admin.delete": Effect(lambda w: {}, lambda s: s is None),
    "stages.retire": Effect(lambda w: {}, lambda s: not s.active),
    "reference.retire_industry": Effect(lambda w: {}, lambda i: not i.active),
    "reference.retire_competitor": Effect(lambda w: {}, lambda c: not c.active),
    "admin.deactivate_user": Effect(lambda w: {}, lambda u: not u.active),
    "plans.goals": Effect(
        lambda w: {**_version(w), "visits": "12", "won_amount": "5000.50"},
        lambda p: p.goal_visits == 12 and p.goal_won_amount == Decimal("5000.50"),
        personas=OWNER,
    ),
    "plans.add_key_customer": Effect(
        lambda w: {"customer_id": w.customer().id, "aim_kind": "develop", "aim": "首单"},
        lambda p: len(p.key_customers) == 1,
        personas=OWNER,
    ),
    "plans.remove_key_customer": Effect(
        lambda w: {}, lambda p: not p.key_customers, personas=OWNER
    ),
    "plans.add_visit": Effect(
        lambda w: {"customer_id": w.customer().id, "day": _plan_day(w)},
        lambda p: len(p.visits) == 2,
        personas=OWNER,
    ),
    "plans.add_task": Effect(
        lambda w: {"text": "新任务"}, lambda p: len(p.tasks) == 2, personas=OWNER
    ),
    "plans.focus": Effect(
        lambda w: {"focus": "本周重点"}, lambda p: p.focus == "本周重点", personas=OWNER
    ),
    "plans.submit": Effect(lambda w: {}, _status("submitted"), personas=OWNER),
    "plans.edit_visit": Effect(
        lambda w: {
            **_planned_field("day", _plan_day)(w),
            **_planned_field("purpose", lambda w: "改过")(w),
        },
        lambda p: p.purpose == "改过",
        personas=OWNER,
    ),
    "plans.remove_visit": Effect(lambda w: {}, lambda p: p is None, personas=OWNER),
    "plans.link_visit": Effect(
        _planned_field("visit_id", _owned_visit_id),
        lambda p: p.match == "manual",
        personas=OWNER,
    ),
    "plans.unlink_visit": Effect(lambda w: {}, lambda p: p.match == "none", personas=OWNER),
    "plans.toggle_task": Effect(lambda w: {}, lambda t: t.done, personas=OWNER),
    "plans.remove_task": Effect(lambda w: {}, lambda t: t is None, personas=OWNER),
    # The manager's supervisor or an admin gives the verdict; the manager is refused (400).
    "plans.review": Effect(
        lambda w: {**_version(w), "rating": "good", "comment": "矩阵"},
        _status("reviewed"),
        personas=DECIDERS,
    ),
    "plans.return_plan": Effect(
        lambda w: {**_version(w), "comment": "矩阵：请补充拜访"},
        _status("returned"),
        personas=DECIDERS,
    ),
    # The supervisor or an admin starts a thread; the visit's manager only replies (400).
    "visits.add_comment": Effect(
        lambda w: {"body": "矩阵点评"}, lambda v: _visit_comment_count(v) == 1, personas=DECIDERS
    ),
    "notices.read": Effect(lambda w: {}, lambda n: n.read_at is not None),
    "auth.revoke_token": Effect(lambda w: {}, lambda t: t.revoked_at is not None),
    "documents.delete": Effect(lambda w: {}, lambda d: d.deleted_at is not None),
    "documents.edit": Effect(
        lambda w: {"title": "改名", "kind_id": w.record.kind_id, **_version(w)},
        lambda d: d.title == "改名",
    ),
    "document_kinds.retire": Effect(lambda w: {}, lambda k: not k.active),
    "service.start": Effect(_version, _status("in_progress")),
    "service.resolve": Effect(
        lambda w: {**_version(w), "resolution": "矩阵：已修复"}, _status("resolved")
    ),
    "service.close": Effect(
        lambda w: {**_version(w), "satisfaction": "4", "comment": "满意"},
        lambda t: t is not None and t.status == "closed" and t.satisfaction == 4,
    ),
    "service.reopen": Effect(_version, _status("open")),
    # The owner (m1) handles it: a choice for every persona who may see the customer.
    "service.assign": Effect(
        lambda w: {**_version(w), "handler_id": w.owner.id},
        lambda t: t is not None and t.handler_id == t.owner_id,
    ),
}


# The JSON API (/api/v1/) --------------------------------------------------------------------
# Its id routes are tried with a token per persona by tests/test_api_access.py (the web's
# matrix above signs in with a cookie, which the API ignores). endpoint -> URL arguments;
# the scope is the customer's, as on the web.
API_SCOPED: dict[str, Callable[[World], dict]] = {
    "api_customers.CustomerRecord": _customer,
    "api_contacts.ContactRecord": _contact,
    "api_competitors.ProfileRecord": _profile,
}
# What a valid write through an API id route changes: (endpoint, method) -> Effect.
API_EFFECTS: dict[tuple[str, str], Effect] = {
    ("api_customers.CustomerRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "region": "矩阵"}, lambda c: c.region == "矩阵"
    ),
    ("api_contacts.ContactRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "title": "矩阵"}, lambda c: c.title == "矩阵"
    ),
    ("api_competitors.ProfileRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "offer": "矩阵"}, lambda p: p.offer == "矩阵"
    ),
    ("api_competitors.ProfileRecord", "DELETE"): Effect(lambda w: {}, lambda p: p is None),
}


# Ids in the query string ----------------------------------------------------------------
# Every query-string key the code reads, by (file, key): tests/test_access_query.py scans
# blueprints/ and crm/ for reads and fails on one missing here. An id of a scoped record
# has a QueryCase; the other keys say why they need none.


@dataclass(frozen=True)
class QueryCase:
    """Which record the key names, the URLs that read it, and what an outsider's id gets.

    `urls`: formats with {id} (and {own_customer}); `refusal`: "404", or "hidden" when the
    key only narrows a list or preselects a choice: then nothing of the other team's record
    may show. `shows`: what a persona in scope must see for its own id ("name" of the
    record, or "selected" for a preselected choice). `personas`: who asks.
    """

    target: str  # customer, opportunity, contact, user, team, request
    urls: tuple[str, ...]
    refusal: str
    shows: str = "name"
    personas: tuple[str, ...] = ("owner", "supervisor")


NOT_AN_ID = "not an id"
REFERENCE = "id of shared reference data (stage, industry, competitor): no scope"
ADMIN_PARAM = "read for administrators only (admins see every record)"

_CUSTOMER_FILTER_URLS = ("/customers/?owner={id}", "/customers/export.csv?owner={id}")

QUERY_PARAMS: dict[tuple[str, str], QueryCase | str] = {
    # Customer list, its export and the handover selection share CustomerFilters.
    ("crm/services/archive/search.py", "owner"): QueryCase(
        "user",
        (*_CUSTOMER_FILTER_URLS, "/handovers/new?owner={id}"),
        "hidden",
    ),
    ("crm/services/archive/search.py", "industry"): REFERENCE,
    **{
        ("crm/services/archive/search.py", key): NOT_AN_ID
        for key in (
            "q",
            "tier",
            "strategy",
            "region",
            "status",
            "no_decision_maker",
            "silent",
            "trend",
            "sort",
        )
    },
    # The at-risk list: a supervisor's owner filter lists their team's managers only.
    ("crm/services/health/at_risk.py", "owner"): QueryCase(
        "user", ("/customers/at-risk?owner={id}",), "hidden", "selected", ("supervisor",)
    ),
    **{("crm/services/health/at_risk.py", key): NOT_AN_ID for key in ("band", "signal", "sort")},
    # Opportunity list and board.
    ("crm/services/pipeline/search.py", "owner"): QueryCase(
        "user", ("/opportunities/?owner={id}", "/opportunities/board?owner={id}"), "hidden"
    ),
    ("crm/services/pipeline/search.py", "customer"): QueryCase(
        "customer",
        ("/opportunities/?customer={id}", "/opportunities/board?customer={id}"),
        "hidden",
    ),
    ("crm/services/pipeline/search.py", "team"): QueryCase(
        "team",
        ("/opportunities/?team={id}", "/opportunities/board?team={id}"),
        "hidden",
        personas=("owner", "supervisor", "admin"),
    ),
    **{
        ("crm/services/pipeline/search.py", key): REFERENCE
        for key in ("stage", "lost_to", "been_in")
    },
    **{
        ("crm/services/pipeline/search.py", key): NOT_AN_ID
        for key in (
            "q",
            "tier",
            "status",
            "phase",
            "close",
            "flagged",
            "closed_from",
            "closed_to",
            "created_from",
            "created_to",
            "lost_reason",
            "sort",
        )
    },
    **{("crm/services/archive/contacts.py", key): NOT_AN_ID for key in ("q", "role", "active")},
    # The admin's user list: only administrators open it, and they see every account.
    **{("crm/services/people/users.py", key): NOT_AN_ID for key in ("q", "role", "active")},
    ("crm/services/people/users.py", "team"): ADMIN_PARAM,
    ("crm/services/archive/competitors.py", "competitor"): REFERENCE,
    **{
        ("crm/services/archive/competitors.py", key): NOT_AN_ID
        for key in ("threat", "days", "expiring", "expired", "sort")
    },
    **{
        ("crm/services/reporting/metrics.py", key): NOT_AN_ID
        for key in ("period", "from", "to", "on")
    },
    # Follow-ups.
    ("blueprints/reminders/routes.py", "owner"): QueryCase(
        "user", ("/reminders/?owner={id}",), "404"
    ),
    ("blueprints/reminders/routes.py", "customer_id"): QueryCase(
        "customer", ("/reminders/new?customer_id={id}",), "404"
    ),
    ("blueprints/reminders/routes.py", "opportunity_id"): QueryCase(
        "opportunity",
        ("/reminders/new?customer_id={own_customer}&opportunity_id={id}",),
        "hidden",
        shows="selected",
    ),
    **{("blueprints/reminders/routes.py", key): NOT_AN_ID for key in ("q", "later", "page")},
    ("blueprints/reminders/routes.py", "next"): NOT_AN_ID,
    # The work log.
    ("blueprints/visits/routes.py", "customer_id"): QueryCase(
        "customer", ("/visits/new?customer_id={id}",), "404"
    ),
    ("blueprints/visits/routes.py", "opportunity_id"): QueryCase(
        "opportunity",
        ("/visits/new?customer_id={own_customer}&opportunity_id={id}",),
        "hidden",
        shows="selected",
    ),
    ("blueprints/visits/routes.py", "member"): QueryCase(
        "user", ("/visits/?member={id}&week={week}",), "hidden"
    ),
    ("blueprints/visits/routes.py", "team"): QueryCase(
        "team", ("/visits/?team={id}&week={week}",), "hidden", personas=("supervisor", "admin")
    ),
    **{("blueprints/visits/routes.py", key): NOT_AN_ID for key in ("q", "week", "from", "to")},
    # Opportunities.
    ("blueprints/opportunities/routes.py", "customer_id"): QueryCase(
        "customer", ("/opportunities/new?customer_id={id}",), "404"
    ),
    ("blueprints/opportunities/routes.py", "q"): NOT_AN_ID,
    # Customers and contacts.
    ("blueprints/customers/routes.py", "parent"): QueryCase(
        "customer", ("/customers/new?parent={id}",), "hidden", shows="selected"
    ),
    ("blueprints/customers/timeline.py", "kinds"): NOT_AN_ID,
    ("blueprints/customers/timeline.py", "before"): NOT_AN_ID,
    ("blueprints/contacts/routes.py", "reports_to"): QueryCase(
        "contact",
        ("/customers/{own_customer}/contacts/new?reports_to={id}",),
        "hidden",
        shows="selected",
    ),
    # Handovers and handover requests.
    ("blueprints/handovers/routes.py", "ids"): QueryCase(
        "customer", ("/handovers/new?ids={id}",), "hidden", personas=("supervisor", "admin")
    ),
    ("blueprints/handovers/routes.py", "request"): QueryCase(
        "request", ("/handovers/new?request={id}",), "hidden", personas=("supervisor",)
    ),
    ("blueprints/handovers/routes.py", "to"): QueryCase(
        "user", ("/handovers/new?to={id}",), "hidden", shows="selected", personas=("supervisor",)
    ),
    ("blueprints/handovers/requests.py", "customer"): QueryCase(
        "customer", ("/handovers/requests/new?customer={id}",), "404"
    ),
    ("blueprints/handovers/requests.py", "q"): NOT_AN_ID,
    # Exports, merge, home, reports.
    ("blueprints/imports/routes.py", "customer"): QueryCase(
        "customer", ("/contacts/export.csv?customer={id}",), "404"
    ),
    ("blueprints/imports/routes.py", "lang"): NOT_AN_ID,
    ("blueprints/imports/forms.py", "survivor"): ADMIN_PARAM,  # the merge page is admin-only
    ("blueprints/imports/forms.py", "duplicate"): ADMIN_PARAM,
    ("blueprints/imports/forms.py", "q"): NOT_AN_ID,
    ("blueprints/main/routes.py", "team"): QueryCase(
        "team", ("/?team={id}",), "hidden", personas=("supervisor",)
    ),
    ("blueprints/main/routes.py", "sort"): NOT_AN_ID,
    ("blueprints/reports/routes.py", "team"): QueryCase(
        "team", ("/reports/?team={id}",), "hidden", personas=("supervisor",)
    ),
    ("blueprints/reports/routes.py", "manager"): QueryCase(
        "user", ("/reports/?manager={id}",), "hidden", personas=("supervisor",)
    ),
    ("blueprints/reports/routes.py", "report"): NOT_AN_ID,
    ("blueprints/reports/routes.py", "kind"): NOT_AN_ID,  # weekly or monthly plans
    **{
        ("blueprints/outbox_admin/routes.py", key): NOT_AN_ID  # and the page is admin-only
        for key in ("status", "kind", "recipient", "since", "until")
    },
    ("blueprints/webhooks_admin/routes.py", "status"): NOT_AN_ID,  # the log's filter; admins
    ("blueprints/common.py", "confirmed"): NOT_AN_ID,  # the answer to "are you sure?"
    ("blueprints/documents/routes.py", "inline"): NOT_AN_ID,  # preview in the browser's viewer
    # Service tickets: the list's filters, and the new ticket's customer.
    ("crm/services/tickets/search.py", "customer"): QueryCase(
        "customer", ("/service/?customer={id}",), "hidden"
    ),
    ("crm/services/tickets/search.py", "owner"): QueryCase(
        "user", ("/service/?owner={id}",), "hidden"
    ),
    **{
        ("crm/services/tickets/search.py", key): NOT_AN_ID
        for key in ("status", "overdue", "kind", "category", "severity", "sort")
    },
    ("blueprints/service/routes.py", "customer_id"): QueryCase(
        "customer", ("/service/new?customer_id={id}",), "404"
    ),
    ("blueprints/service/routes.py", "q"): NOT_AN_ID,
    ("blueprints/service/routes.py", "page"): NOT_AN_ID,
    ("blueprints/auth/routes.py", "next"): NOT_AN_ID,
    ("blueprints/auth/routes.py", "username"): NOT_AN_ID,  # the sign-in form's field
    # The pickers' type-ahead (/customers/pick.json, /people/pick.json): a typed term, how
    # many answers, the roles asked for; what they list is scoped (tests/test_pickers.py).
    **{("blueprints/pickers.py", key): NOT_AN_ID for key in ("q", "limit")},
    ("blueprints/people/routes.py", "role"): NOT_AN_ID,
}

# Reads whose key is not a literal, with where the keys come from.
DYNAMIC_READS = {
    ("blueprints/handovers/routes.py", "key"): "CustomerFilters fields (sel_ on POST)",
    ("blueprints/outbox_admin/routes.py", "name"): "_date_arg: since, until",
    ("crm/services/archive/competitors.py", "name"): "PresenceFilters.from_args' get(): literals",
    ("crm/services/archive/search.py", "f.name"): "CustomerFilters fields",
    ("crm/services/pipeline/search.py", "f.name"): "OpportunityFilters fields",
    ("crm/services/archive/contacts.py", "f.name"): "ContactFilters fields",
    ("crm/services/tickets/search.py", "f.name"): "TicketFilters fields",
    ("crm/services/health/at_risk.py", "f.name"): "AtRiskFilters fields",
}
# Forms filled from the query string, and the keys their fields read.
FORMS_FROM_QUERY = {"MergeChoiceForm": "blueprints/imports/forms.py"}
# Whole query strings passed on, not read for a key: (file, expression).
WHOLE_QUERY_READS = {
    ("crm/templating.py", "request.args.to_dict(flat=False)"),  # paging links keep the filters
    ("blueprints/reports/routes.py", "request.args.items()"),  # the CSV link keeps the filters
    ("crm/app.py", "sources = [request.args, request.form]"),  # control characters in any value
    ("blueprints/common.py", "request.form.items(multi=True)"),  # the confirm page re-posts all
    # An API upload's fields, hashed for its Idempotency-Key (the files are read in chunks).
    ("blueprints/api/uploads.py", "request.form.items(multi=True)"),
    # A token put in the URL is refused (400): the check looks for its keys, reads no value.
    ("blueprints/api/auth.py", "key in request.args for key in TOKEN_QUERY_KEYS"),
    ("blueprints/outbox_admin/routes.py", "args = request.args"),  # then args.get("status")
}


# The JSON API's ids in query and body -------------------------------------------------------
# Ids in an API request's query or JSON body: every integer field of the OpenAPI document is
# classified here (tests/test_api_access.py reads the document). Keys: ("METHOD /path",
# "query" or "json", field), or "*" for the method and path: that field everywhere. A
# record id has an ApiIdCase: the request naming the other team's record is refused (404,
# or 422 where the web form refuses it as a field error) and changes nothing; the same
# request naming one's own works.


@dataclass(frozen=True)
class ApiIdCase:
    """`request(own, named)` -> (method, url, json): acts on the `own` side's records and
    names the `named` side's record in the field."""

    request: Callable[[Any, Any], tuple[str, str, dict | None]]
    refusal: int = 404
    personas: tuple[str, ...] = ("owner", "supervisor")


def _api_second_customer(side) -> Any:
    """Another customer of the side's owner (a parent to choose)."""
    from crm.extensions import db
    from models import Customer

    customer = Customer(name=f"{side.customer.name}分公司{side.customer.id}", owner=side.user)
    db.session.add(customer)
    db.session.commit()
    return customer


def _api_new_contact(own, named) -> dict:
    return {
        "customer_id": own.customer.id,
        "name": "接口联系人",
        "role": "influencer",
        "attitude": "neutral",
    }


API_ID_FIELDS: dict[tuple[str, str, str], ApiIdCase | str] = {
    # Every list's page size and every change's version, whatever the operation ("*").
    ("*", "query", "limit"): NOT_AN_ID,
    ("*", "json", "version"): NOT_AN_ID,
    ("GET /api/v1/customers/", "query", "owner"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/customers/?owner={named.user.id}", None)
    ),
    ("GET /api/v1/customers/", "query", "industry"): REFERENCE,
    ("POST /api/v1/customers/", "json", "parent_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/customers/",
            {"name": "接口分公司", "parent_id": (named.customer.id)},
        ),
        refusal=422,
    ),
    ("POST /api/v1/customers/", "json", "owner_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/customers/",
            {"name": "接口客户", "owner_id": (named.user.id)},
        ),
        refusal=422,
        personas=("supervisor",),  # a manager's owner is always themselves
    ),
    ("POST /api/v1/customers/", "json", "industry_id"): REFERENCE,
    ("POST /api/v1/customers/", "json", "employees"): NOT_AN_ID,
    ("PATCH /api/v1/customers/{customer_id}", "json", "parent_id"): ApiIdCase(
        lambda own, named: (
            "PATCH",
            f"/api/v1/customers/{_api_second_customer(own).id}",
            {"parent_id": named.customer.id, "version": 1},
        ),
        refusal=422,
    ),
    ("PATCH /api/v1/customers/{customer_id}", "json", "owner_id"): ApiIdCase(
        lambda own, named: (
            "PATCH",
            f"/api/v1/customers/{own.customer.id}",
            {"owner_id": named.user.id, "version": own.customer.version},
        ),
        refusal=422,
    ),
    ("PATCH /api/v1/customers/{customer_id}", "json", "industry_id"): REFERENCE,
    ("PATCH /api/v1/customers/{customer_id}", "json", "employees"): NOT_AN_ID,
    ("GET /api/v1/contacts/", "query", "customer_id"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/contacts/?customer_id={named.customer.id}", None)
    ),
    ("POST /api/v1/contacts/", "json", "customer_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/contacts/",
            {**_api_new_contact(own, named), "customer_id": (named.customer.id)},
        )
    ),
    ("POST /api/v1/contacts/", "json", "reports_to_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/contacts/",
            {**_api_new_contact(own, named), "reports_to_id": (named.contact.id)},
        )
    ),
    ("POST /api/v1/contacts/", "json", "strength"): NOT_AN_ID,
    ("PATCH /api/v1/contacts/{contact_id}", "json", "reports_to_id"): ApiIdCase(
        lambda own, named: (
            "PATCH",
            f"/api/v1/contacts/{_api_colleague(own).id}",
            {"reports_to_id": named.contact.id, "version": 1},
        )
    ),
    ("PATCH /api/v1/contacts/{contact_id}", "json", "strength"): NOT_AN_ID,
    ("GET /api/v1/competitor-profiles/", "query", "customer_id"): ApiIdCase(
        lambda own, named: (
            "GET",
            f"/api/v1/competitor-profiles/?customer_id={named.customer.id}",
            None,
        )
    ),
    ("GET /api/v1/competitor-profiles/", "query", "competitor"): REFERENCE,
    ("GET /api/v1/competitor-profiles/", "query", "days"): NOT_AN_ID,
    ("POST /api/v1/competitor-profiles/", "json", "customer_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/competitor-profiles/",
            {"customer_id": named.customer.id, "competitor_id": _api_rival().id},
        )
    ),
    ("POST /api/v1/competitor-profiles/", "json", "competitor_id"): REFERENCE,
}


def _api_colleague(side) -> Any:
    """A new contact of the side's customer, who may report to the side's contact."""
    from crm.extensions import db
    from models import Contact

    contact = Contact(customer=side.customer, name="接口同事")
    db.session.add(contact)
    db.session.commit()
    return contact


def _api_rival() -> Any:
    from crm.extensions import db
    from models import Competitor

    number = db.session.query(Competitor).count() + 1
    rival = Competitor(name=f"接口对手{number}")
    db.session.add(rival)
    db.session.commit()
    return rival


# The API's opportunities, visits, follow-ups, handovers, users and teams:
# tests/routes_api_resources.py.
from tests import routes_api_resources as _api_resources  # noqa: E402

API_SCOPED.update(_api_resources.API_SCOPED)
API_EFFECTS.update(_api_resources.API_EFFECTS)
API_ID_FIELDS.update(_api_resources.API_ID_FIELDS)
API_ALLOWED = _api_resources.API_ALLOWED


# The assessment (issue 15): its builders and effects live in tests/routes_assessment.py.
from tests import routes_assessment as _assessment  # noqa: E402

TEAM_LED = _assessment.TEAM_LED
TEAM_LED_ALLOWED = _assessment.TEAM_LED_ALLOWED
CUSTOMER_SCOPED.update(_assessment.CUSTOMER_SCOPED)
ADMIN_ONLY.update(_assessment.ADMIN_ONLY)
NOT_RECORDS |= _assessment.NOT_RECORDS
POST_EFFECTS.update(_assessment.POST_EFFECTS)
QUERY_PARAMS.update(_assessment.QUERY_PARAMS)

# The API's documents, service tickets and business figures: tests/routes_api_records.py.
from tests import routes_api_records as _api_records  # noqa: E402

API_SCOPED.update(_api_records.API_SCOPED)
API_EFFECTS.update(_api_records.API_EFFECTS)
API_ID_FIELDS.update(_api_records.API_ID_FIELDS)
