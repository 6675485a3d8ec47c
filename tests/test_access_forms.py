"""Ids in form fields: the other team's id is refused (404 or a form error) and changes
nothing; the same submission with one's own id does its work.

Each case submits one form twice in separate worlds: once naming the owner's (m1, Team One)
record and once naming the other team's (m3, Team Two) record of the same kind.
"""

# ruff: noqa: F811  (the two_teams fixture is imported, then requested by name)
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from crm.extensions import db
from models import (
    Contact,
    Customer,
    HandoverRequest,
    Opportunity,
    OpportunityContact,
    PlanKeyCustomer,
    Reminder,
    ServiceTicket,
    Stage,
    Target,
    Visit,
)
from tests.test_access_matrix import _errors, _snapshot
from tests.test_access_query import Side, two_teams  # noqa: F401  (fixture)

TODAY = datetime.now(UTC).date()  # a visit today and a follow-up in 3 days are valid anywhere


@dataclass
class FormCase:
    persona: str  # key of the `org` fixture
    url: Callable[[dict[str, Side]], str]
    data: Callable[[dict[str, Side], Side], dict]  # the form naming this side's record
    done: Callable[[dict[str, Side]], bool]  # the own submission took effect
    refusals: tuple[int, ...] = (400,)
    setup: Callable[[dict[str, Side]], None] | None = None
    preview_first: bool = field(default=False)  # handovers: commit what the preview showed


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _visit_fields(**more) -> dict:
    return {"occurred_on": TODAY.isoformat(), "occurred_time": "00:05", "kind": "on_site", **more}


def _first_stage() -> int:
    return db.session.scalar(select(Stage.id).where(Stage.position == 1))


def _link_own_contact(s: dict[str, Side]) -> None:
    own = s["own"]
    db.session.add(
        OpportunityContact(opportunity=own.opportunity, contact=own.contact, role="user")
    )
    db.session.commit()


def _no_pending_requests(s: dict[str, Side]) -> None:
    """The world's requests are in the way of a new one for the same customers."""
    db.session.execute(delete(HandoverRequest))
    db.session.commit()


def _month_plan_of_m1(s: dict[str, Side]) -> None:
    """m1's plan for this month, for the key-customer form (kept beside the sides)."""
    from models import PlanKind, WorkPlan

    plan = WorkPlan(owner=s["own"].user, kind=PlanKind.MONTH, starts_on=TODAY.replace(day=1))
    db.session.add(plan)
    db.session.commit()
    s["plan"] = plan


def _user(username: str) -> int:
    from models import User

    return db.session.scalar(select(User.id).where(User.username == username))


def _own_week_plan(s: dict[str, Side]) -> None:
    """The owner's (m1) plan for this week, with a planned visit to their customer."""
    from crm.services.plans import lifecycle, periods
    from models import PlanKind, PlannedVisit

    m1 = s["own"].customer.owner
    monday = periods.starts_on_for(PlanKind.WEEK, periods.today_for(m1))
    plan = lifecycle.start_plan(PlanKind.WEEK, monday, actor=m1)
    db.session.add(PlannedVisit(plan=plan, customer=s["own"].customer, day=monday))
    db.session.commit()


def _plan():
    from models import WorkPlan

    return db.session.scalar(select(WorkPlan))


def _planned():
    from models import PlannedVisit

    db.session.expire_all()
    return db.session.scalar(select(PlannedVisit))


CASES = {
    "contact on an opportunity": FormCase(
        "m1",
        lambda s: f"/opportunities/{s['own'].opportunity.id}/contacts",
        lambda s, side: {"contact_id": side.contact.id, "role": ""},
        lambda s: (
            _count(OpportunityContact, OpportunityContact.contact_id == s["own"].contact.id) == 1
        ),
    ),
    "contact taken off an opportunity": FormCase(
        "m1",
        lambda s: f"/opportunities/{s['own'].opportunity.id}/contacts/remove",
        lambda s, side: {"contact_id": side.contact.id, "confirmed": "1"},
        lambda s: _count(OpportunityContact) == 0,
        refusals=(302, 400, 404),
        setup=_link_own_contact,
    ),
    "contact met on a new visit": FormCase(
        "m1",
        lambda s: f"/visits/new?customer_id={s['own'].customer.id}",
        lambda s, side: _visit_fields(contact_ids=side.contact.id),
        lambda s: _count(Visit) == 3,
    ),
    "opportunity of a new visit": FormCase(
        "m1",
        lambda s: f"/visits/new?customer_id={s['own'].customer.id}",
        lambda s, side: _visit_fields(opportunity_id=side.opportunity.id),
        lambda s: _count(Visit, Visit.opportunity_id == s["own"].opportunity.id) == 1,
    ),
    "contact met on an edited visit": FormCase(
        "m1",
        lambda s: f"/visits/{s['own'].visit.id}/edit",
        lambda s, side: _visit_fields(contact_ids=side.contact.id, version=s["own"].visit.version),
        lambda s: len(db.session.get(Visit, s["own"].visit.id).contacts) == 1,
    ),
    "opportunity of a follow-up": FormCase(
        "m1",
        lambda s: f"/reminders/new?customer_id={s['own'].customer.id}",
        lambda s, side: {
            "due_on": (TODAY + timedelta(days=3)).isoformat(),
            "opportunity_id": side.opportunity.id,
        },
        lambda s: _count(Reminder, Reminder.opportunity_id == s["own"].opportunity.id) == 1,
    ),
    "owner of a new opportunity": FormCase(
        "sup1",
        lambda s: f"/opportunities/new?customer_id={s['own'].customer.id}",
        lambda s, side: {"title": "新商机", "stage_id": _first_stage(), "owner_id": side.user.id},
        lambda s: _count(Opportunity, Opportunity.title == "新商机") == 1,
    ),
    "owner of an edited opportunity": FormCase(
        "sup1",
        lambda s: f"/opportunities/{s['own'].opportunity.id}/edit",
        lambda s, side: {
            "title": "改过的商机",
            "probability": 10,
            "owner_id": side.user.id,
            "version": s["own"].opportunity.version,
        },
        lambda s: _count(Opportunity, Opportunity.title == "改过的商机") == 1,
    ),
    "owner of a new customer": FormCase(
        "sup1",
        lambda s: "/customers/new",
        lambda s, side: {
            "name": "新建集团有限公司",
            "tier": "C",
            "status": "prospect",
            "strategy": "",
            "parent_id": 0,
            "industry_id": 0,
            "owner_id": side.user.id,
        },
        lambda s: _count(Customer, Customer.name == "新建集团有限公司") == 1,
    ),
    "parent of a new customer": FormCase(
        "m1",
        lambda s: "/customers/new",
        lambda s, side: {
            "name": "新建分公司有限公司",
            "tier": "C",
            "status": "prospect",
            "strategy": "",
            "parent_id": side.customer.id,
            "industry_id": 0,
        },
        lambda s: _count(Customer, Customer.parent_id == s["own"].customer.id) == 1,
    ),
    "manager of a new contact": FormCase(
        "m1",
        lambda s: f"/customers/{s['own'].customer.id}/contacts/new",
        lambda s, side: {
            "name": "新联系人",
            "role": "user",
            "attitude": "neutral",
            "strength": 3,
            "reports_to_id": side.contact.id,
        },
        lambda s: _count(Contact, Contact.reports_to_id == s["own"].contact.id) == 1,
    ),
    "customer of a handover": FormCase(
        "sup1",
        lambda s: "/handovers/new",
        lambda s, side: {"sel_ids": side.customer.id, "to_owner": _user("m2"), "note": "交接"},
        lambda s: db.session.get(Customer, s["own"].customer.id).owner_id == _user("m2"),
        preview_first=True,
    ),
    "new owner of a handover": FormCase(
        "sup1",
        lambda s: "/handovers/new",
        lambda s, side: {
            "sel_ids": s["own"].customer.id,
            "to_owner": _user("m2") if side is s["own"] else side.user.id,
            "note": "交接",
        },
        lambda s: db.session.get(Customer, s["own"].customer.id).owner_id == _user("m2"),
        preview_first=True,
    ),
    "customer of a handover request": FormCase(
        "m1",
        lambda s: "/handovers/requests/new",
        lambda s, side: {"customer": side.customer.id, "note": "请交接", "to_owner": 0},
        lambda s: _count(HandoverRequest, HandoverRequest.note == "请交接") == 1,
        refusals=(404,),
        setup=_no_pending_requests,
    ),
    "suggested owner of a handover request": FormCase(
        "m1",
        lambda s: "/handovers/requests/new",
        lambda s, side: {
            "customer": s["own"].customer.id,
            "note": "请交接",
            "to_owner": _user("m2") if side is s["own"] else side.user.id,
        },
        lambda s: _count(HandoverRequest, HandoverRequest.note == "请交接") == 1,
        setup=_no_pending_requests,
    ),
    "key customer of a monthly plan": FormCase(
        "m1",
        lambda s: f"/plans/{s['plan'].id}/key-customers",
        lambda s, side: {"customer_id": side.customer.id, "aim_kind": "advance", "aim": "签约"},
        lambda s: _count(PlanKeyCustomer, PlanKeyCustomer.customer_id == s["own"].customer.id) == 1,
        setup=_month_plan_of_m1,
    ),
    "manager of a target": FormCase(
        "sup1",
        lambda s: "/reports/targets",
        lambda s, side: {"manager_id": side.user.id, "weekly_visits": 5, "quarterly_won": "1000"},
        lambda s: _count(Target) == 1,
        refusals=(404,),
    ),
    "customer of a planned visit": FormCase(
        "m1",
        lambda s: f"/plans/{_plan().id}/visits",
        lambda s, side: {
            "customer_id": side.customer.id,
            "day": (_plan().starts_on + timedelta(days=1)).isoformat(),
        },
        lambda s: len(_plan().visits) == 2,
        refusals=(400,),
        setup=_own_week_plan,
    ),
    "opportunity of a planned visit": FormCase(
        "m1",
        lambda s: f"/plans/{_plan().id}/visits",
        lambda s, side: {
            "customer_id": s["own"].customer.id,
            "day": (_plan().starts_on + timedelta(days=1)).isoformat(),
            "opportunity_id": side.opportunity.id,
        },
        lambda s: any(p.opportunity_id == s["own"].opportunity.id for p in _plan().visits),
        setup=_own_week_plan,
    ),
    "contact to meet on a planned visit": FormCase(
        "m1",
        lambda s: f"/plans/visits/{_planned().id}/edit",
        lambda s, side: {
            f"v{_planned().id}-day": _planned().day.isoformat(),
            f"v{_planned().id}-contact_ids": side.contact.id,
        },
        lambda s: [c.id for c in _planned().contacts] == [s["own"].contact.id],
        refusals=(302,),
        setup=_own_week_plan,
    ),
    "visit that carried out a planned visit": FormCase(
        "m1",
        lambda s: f"/plans/visits/{_planned().id}/link",
        lambda s, side: {f"l{_planned().id}-visit_id": side.visit.id},
        lambda s: _planned().visit_id == s["own"].visit.id,
        refusals=(302,),
        setup=_own_week_plan,
    ),
    "contact who raised a new service ticket": FormCase(
        "m1",
        lambda s: f"/service/new?customer_id={s['own'].customer.id}",
        lambda s, side: _ticket_fields(raised_by_id=side.contact.id),
        lambda s: _count(ServiceTicket, ServiceTicket.raised_by_id == s["own"].contact.id) == 1,
    ),
    "handler of a new service ticket": FormCase(
        "m1",
        lambda s: f"/service/new?customer_id={s['own'].customer.id}",
        lambda s, side: _ticket_fields(handler_id=side.user.id),
        lambda s: _count(ServiceTicket, ServiceTicket.handler_id == s["own"].user.id) == 1,
    ),
    "handler of a service ticket": FormCase(
        "sup1",
        lambda s: f"/service/{s['own'].ticket.id}/handler",
        lambda s, side: {"handler_id": side.user.id, "version": s["own"].ticket.version},
        lambda s: _count(ServiceTicket, ServiceTicket.handler_id == s["own"].user.id) == 1,
    ),
}


def _ticket_fields(**more) -> dict:
    return {
        "kind": "complaint",
        "category": "network_quality",
        "severity": "medium",
        "title": "专线中断",
        "raised_by_id": 0,
        "handler_id": 0,
        **more,
    }


def _submit(client, case: FormCase, sides: dict[str, Side], side: Side):
    data = case.data(sides, side)
    if case.preview_first:
        page = client.post(case.url(sides), data={**data, "preview": "1"})
        body = page.get_data(as_text=True)
        if side is sides["other"]:
            assert side.customer.name not in body, "the preview shows the other team's customer"
        hidden = dict(re.findall(r'name="(fingerprint|token)" type="hidden" value="([^"]*)"', body))
        data = {**data, **hidden, "commit": "1"}
    return client.post(case.url(sides), data=data)


@pytest.mark.parametrize("name", CASES, ids=[name.replace(" ", "_") for name in CASES])
def test_ones_own_id_in_the_form_does_its_work(client, login, org, two_teams, name):
    case = CASES[name]
    if case.setup:
        case.setup(two_teams)
    login(client, org[case.persona])

    response = _submit(client, case, two_teams, two_teams["own"])

    body = response.get_data(as_text=True)
    assert response.status_code in (302, 303), (name, response.status_code, _errors(body))
    assert case.done(two_teams), f"{name}: the own submission changed nothing"


@pytest.mark.parametrize("name", CASES, ids=[name.replace(" ", "_") for name in CASES])
def test_the_other_teams_id_in_the_form_changes_nothing(client, login, org, two_teams, name):
    case = CASES[name]
    if case.setup:
        case.setup(two_teams)
    login(client, org[case.persona])
    before = _snapshot()

    response = _submit(client, case, two_teams, two_teams["other"])

    assert response.status_code in case.refusals, (name, response.status_code)
    assert _snapshot() == before, f"{name}: the other team's id changed data"
    body = response.get_data(as_text=True)
    other = two_teams["other"]
    for text in (other.customer.name, other.contact.name, other.opportunity.title):
        assert text not in body, f"{name}: the answer names the other team's record"
