"""Which record each id-taking route needs, and who may open it.

The access matrix and the CSRF test read this. A route that takes an id and is
missing here fails `test_every_id_route_is_classified`: a new route cannot skip
its scope check unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    """The organisation of tests/conftest.py `org` and the factory fixtures."""

    org: dict[str, Any]
    make_customer: Callable[..., Any]
    make_contact: Callable[..., Any]
    make_competitor: Callable[..., Any]
    make_profile: Callable[..., Any]
    make_opportunity: Callable[..., Any]
    make_visit: Callable[..., Any]
    make_reminder: Callable[..., Any]

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


def _opportunity(w: World) -> dict:
    return {"opportunity_id": w.make_opportunity(w.customer()).id}


def _stage_in_use(w: World) -> dict:
    return {"stage_id": w.make_opportunity(w.customer()).stage_id}


# endpoint -> builds the record(s) and returns the URL's keyword arguments
CUSTOMER_SCOPED: dict[str, Callable[[World], dict]] = {
    "reminders.show": lambda w: {"reminder_id": w.make_reminder(w.customer()).id},
    "reminders.done": lambda w: {"reminder_id": w.make_reminder(w.customer()).id},
    "reminders.dismiss": lambda w: {"reminder_id": w.make_reminder(w.customer()).id},
    "reminders.snooze": lambda w: {"reminder_id": w.make_reminder(w.customer()).id},
    "reminders.reschedule": lambda w: {"reminder_id": w.make_reminder(w.customer()).id},
    "handovers.show": lambda w: {"handover_id": _handover(w).id},
    "handovers.undo_handover": lambda w: {"handover_id": _handover(w).id},
    "handovers.customer_history": lambda w: {"customer_id": w.customer().id},
    "handovers.decline_request": lambda w: {"request_id": _handover_request(w).id},
    "opportunities.show": _opportunity,
    "opportunities.edit": _opportunity,
    "opportunities.move": _opportunity,
    "opportunities.mark_won": _opportunity,
    "opportunities.mark_lost": _opportunity,
    "opportunities.reopen": _opportunity,
    "opportunities.add_contact": _opportunity,
    "opportunities.remove_contact": _opportunity,
    "opportunities.add_competitor": _opportunity,
    "opportunities.remove_competitor": _opportunity,
    "visits.show": lambda w: {"visit_id": w.make_visit(w.customer()).id},
    "visits.edit": lambda w: {"visit_id": w.make_visit(w.customer()).id},
    "visits.delete": lambda w: {"visit_id": w.make_visit(w.customer()).id},
    "customers.edit": lambda w: {"customer_id": w.customer().id},
    "contacts.show": lambda w: {"contact_id": w.make_contact(w.customer()).id},
    "contacts.edit": lambda w: {"contact_id": w.make_contact(w.customer()).id},
    "contacts.deactivate": lambda w: {"contact_id": w.make_contact(w.customer()).id},
    "contacts.reactivate": lambda w: {"contact_id": w.make_contact(w.customer(), active=False).id},
    "contacts.new": lambda w: {"customer_id": w.customer().id},
    "contacts.relationship_map": lambda w: {"customer_id": w.customer().id},
    "competitors.new_profile": lambda w: {"customer_id": w.customer().id},
    "competitors.edit_profile": lambda w: {"profile_id": w.make_profile(w.customer()).id},
    "competitors.delete_profile": lambda w: {"profile_id": w.make_profile(w.customer()).id},
    "customers.show": lambda w: {"customer_id": w.make_customer(w.owner).id},
    "customers.timeline": lambda w: {"customer_id": w.customer().id},
}

ADMIN_ONLY: dict[str, Callable[[World], dict]] = {
    "outbox_admin.show": lambda w: {"message_id": _outbox_message(w).id},
    "outbox_admin.retry": lambda w: {"message_id": _outbox_message(w).id},
    "outbox_admin.download": lambda w: {"message_id": _outbox_message(w, eml=True).id},
    "stages.edit": _stage_in_use,
    "stages.move_up": _stage_in_use,
    "stages.move_down": _stage_in_use,
    "stages.retire": _stage_in_use,
    "stages.reactivate": _stage_in_use,
    "stages.delete": _stage_in_use,
    "customers.delete": lambda w: {"customer_id": w.customer().id},
    "reference.edit_industry": lambda w: {"industry_id": _industry().id},
    "reference.retire_industry": lambda w: {"industry_id": _industry().id},
    "reference.reactivate_industry": lambda w: {"industry_id": _industry().id},
    "reference.delete_industry": lambda w: {"industry_id": _industry().id},
    "reference.edit_competitor": lambda w: {"competitor_id": w.make_competitor().id},
    "reference.retire_competitor": lambda w: {"competitor_id": w.make_competitor().id},
    "reference.reactivate_competitor": lambda w: {"competitor_id": w.make_competitor().id},
    "reference.delete_competitor": lambda w: {"competitor_id": w.make_competitor().id},
    "admin.edit_user": lambda w: {"user_id": w.org["m2"].id},
    "admin.reset_password": lambda w: {"user_id": w.org["m2"].id},
    "admin.deactivate_user": lambda w: {"user_id": w.org["m2"].id},
    "admin.reactivate_user": lambda w: {"user_id": w.org["m2"].id},
    "admin.edit_team": lambda w: {"team_id": w.org["team1"].id},
    "admin.add_member": lambda w: {"team_id": w.org["team1"].id},
    "admin.remove_member": lambda w: {"team_id": w.org["team1"].id, "user_id": w.org["m2"].id},
}

# Routes with arguments that are not record ids (none yet).
NOT_RECORDS: set[str] = {"calendar.feed"}  # a secret token (tests/test_calendar_feed.py)


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


def _handover(w: World):
    """sup1 hands one of their own customers to the owner (m1): both see it, m2 does not."""
    from crm.extensions import db
    from crm.services.handover import HandoverOptions, Selection, hand_over

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
    return handover


def _handover_request(w: World):
    """The owner (m1) asks for a handover of one of their customers."""
    from crm.extensions import db
    from crm.services.handover_requests import request_handover

    request = request_handover(w.customer(), actor=w.owner, note="Access matrix")
    db.session.commit()
    return request
