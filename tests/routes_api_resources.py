"""The API's opportunities, visits, follow-ups, handovers, users and teams in the access
matrix (tests/test_api_access.py), merged into tests/routes.py.

Opportunities, visits and follow-ups follow their customer, as on the web; a handover is
seen by those its customers went to, came from or are with; a person or a team by their
teammates (crm/permissions.py people_scope and team_scope: `API_ALLOWED`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.routes import (
    ADMIN_PARAM,
    DECIDERS,
    NOT_AN_ID,
    REFERENCE,
    ApiIdCase,
    Effect,
    World,
    _contract_opportunity,
    _days_from_now,
    _handover_page,
    _lost_opportunity,
    _opportunity,
    _opportunity_with_competitor,
    _opportunity_with_contact,
    _reminder,
    _status,
    _team,
    _user,
    _version,
    _visit,
)


def _with_link(builder: Callable[[World], dict], name: str, link_id: Callable[[Any], int]):
    """The builder's opportunity and, as `name`, the id of the contact or competitor on it
    (the record stays the opportunity: a write's effect is read from it)."""

    def build(w: World) -> dict:
        return {**builder(w), name: link_id(w.record)}

    return build


def _opportunity_with_history(w: World) -> dict:
    """An opportunity with its first history row (as creating it through the service writes)."""
    from crm.extensions import db
    from models import OpportunityHistory

    kwargs = _opportunity(w)
    opportunity = w.record
    db.session.add(
        OpportunityHistory(
            opportunity=opportunity,
            actor_id=w.owner.id,
            stage_id=opportunity.stage_id,
            status=opportunity.status,
            probability=opportunity.probability,
            changes={},
        )
    )
    db.session.commit()
    return kwargs


API_SCOPED: dict[str, Callable[[World], dict]] = {
    "api_opportunities.OpportunityRecord": _opportunity,
    "api_opportunities.OpportunityStage": _opportunity,
    "api_opportunities.OpportunityWon": _contract_opportunity,
    "api_opportunities.OpportunityLost": _opportunity,
    "api_opportunities.OpportunityReopen": _lost_opportunity,
    # Pages of the opportunity's parts: one contact, one competitor, one history row on it.
    "api_opportunities.OpportunityContacts": _opportunity_with_contact,
    "api_opportunities.OpportunityContactLink": _with_link(
        _opportunity_with_contact, "contact_id", lambda o: o.contacts[0].contact_id
    ),
    "api_opportunities.OpportunityCompetitors": _opportunity_with_competitor,
    "api_opportunities.OpportunityCompetitorLink": _with_link(
        _opportunity_with_competitor, "competitor_id", lambda o: o.competitors[0].competitor_id
    ),
    "api_opportunities.OpportunityHistoryRows": _opportunity_with_history,
    "api_visits.VisitRecord": _visit,
    "api_follow_ups.FollowUpRecord": _reminder,
    "api_follow_ups.FollowUpDone": _reminder,
    "api_follow_ups.FollowUpDismiss": _reminder,
    "api_follow_ups.FollowUpSnooze": _reminder,
    # sup1 hands one of their customers to the owner (m1): m1, sup1 and admins see it.
    "api_handovers.HandoverRecord": _handover_page,
    "api_handovers.HandoverCustomers": _handover_page,
    "api_handovers.HandoverUndo": _handover_page,
    # m2 and Team One: seen by the team (m1, m2, sup1) and admins.
    "api_people.UserRecord": _user,
    "api_people.TeamRecord": _team,
}

# Who may open an id route whose scope is not the customer's (else CUSTOMER_SCOPE_ALLOWED).
TEAM_ALLOWED = {"owner", "teammate", "supervisor", "admin"}
API_ALLOWED: dict[str, set[str]] = {
    "api_people.UserRecord": TEAM_ALLOWED,
    "api_people.TeamRecord": TEAM_ALLOWED,
}


def _stage_id(name_en: str) -> int:
    from sqlalchemy import select

    from crm.extensions import db
    from models import Stage

    return db.session.scalar(select(Stage.id).where(Stage.name_en == name_en))


API_EFFECTS: dict[tuple[str, str], Effect] = {
    ("api_opportunities.OpportunityRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "title": "矩阵"}, lambda o: o.title == "矩阵"
    ),
    ("api_opportunities.OpportunityStage", "POST"): Effect(
        lambda w: {**_version(w), "stage_id": _stage_id("Needs discovery")},
        lambda o: o.stage_id == _stage_id("Needs discovery"),
    ),
    ("api_opportunities.OpportunityWon", "POST"): Effect(
        lambda w: {**_version(w), "contract_date": "2026-05-01", "amount": "880000"},
        _status("won"),
    ),
    ("api_opportunities.OpportunityLost", "POST"): Effect(
        lambda w: {**_version(w), "reason": "price"}, _status("lost")
    ),
    ("api_opportunities.OpportunityReopen", "POST"): Effect(_version, _status("open")),
    ("api_opportunities.OpportunityContacts", "POST"): Effect(
        lambda w: {"contact_id": w.make_contact(w.record.customer).id, "role": "influencer"},
        lambda o: len(o.contacts) == 2,
    ),
    ("api_opportunities.OpportunityContactLink", "DELETE"): Effect(
        lambda w: {}, lambda o: not o.contacts
    ),
    ("api_opportunities.OpportunityCompetitors", "POST"): Effect(
        lambda w: {"competitor_id": w.make_competitor().id, "offer": "矩阵"},
        lambda o: len(o.competitors) == 2,
    ),
    ("api_opportunities.OpportunityCompetitorLink", "DELETE"): Effect(
        lambda w: {}, lambda o: not o.competitors
    ),
    ("api_visits.VisitRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "outcome": "矩阵"}, lambda v: v.outcome == "矩阵"
    ),
    ("api_visits.VisitRecord", "DELETE"): Effect(lambda w: {}, lambda v: v is None),
    ("api_follow_ups.FollowUpRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "due_on": _days_from_now(9).isoformat()},
        lambda r: r.due_on == _days_from_now(9),
    ),
    ("api_follow_ups.FollowUpDone", "POST"): Effect(_version, _status("done")),
    ("api_follow_ups.FollowUpDismiss", "POST"): Effect(_version, _status("dismissed")),
    ("api_follow_ups.FollowUpSnooze", "POST"): Effect(
        lambda w: {**_version(w), "days": 3}, lambda r: r.due_on > _days_from_now(1)
    ),
    # The customer's new owner (m1, a manager) sees the handover but may not undo it (403).
    ("api_handovers.HandoverUndo", "POST"): Effect(
        lambda w: {}, _status("undone"), personas=DECIDERS
    ),
}


# Ids in the query and the body -------------------------------------------------------------


def _later() -> str:
    return _days_from_now(3).isoformat()


def _customer_of_supervisor(side) -> Any:
    """A new customer of the side's supervisor (sup1): one to hand to someone of the team."""
    from crm.extensions import db
    from models import Customer

    customer = Customer(name=f"主管客户{side.customer.id}", owner=side.team.supervisor)
    db.session.add(customer)
    db.session.commit()
    return customer


def _handover_body(own, named, *, to_owner, **extra) -> dict:
    """sup1 hands a customer of theirs to `to_owner`, with the preview's fingerprint when
    the preview allows the handover (else a stand-in: the request is refused before it)."""
    from crm.extensions import db
    from crm.services.errors import DomainError
    from crm.services.handover.transfer import HandoverOptions, Selection, preview

    customer = _customer_of_supervisor(own)
    try:
        fingerprint = preview(
            actor=own.team.supervisor,
            selection=Selection(ids=[customer.id]),
            to_owner=to_owner,
            options=HandoverOptions(),
        ).fingerprint
    except DomainError:
        fingerprint = "0" * 32
    db.session.rollback()
    return {
        "to_owner_id": to_owner.id,
        "selection": {"ids": [customer.id]},
        "note": "接口交接",
        "fingerprint": fingerprint,
        **extra,
    }


def _answering(own, named) -> dict:
    """sup1 hands the own customer to m2, answering the named side's pending request."""
    from crm.services.handover.transfer import HandoverOptions, Selection, preview

    teammate = next(
        u for u in own.team.members if u.id not in (own.user.id, own.team.supervisor_id)
    )
    fingerprint = preview(
        actor=own.team.supervisor,
        selection=Selection(ids=[own.customer.id]),
        to_owner=teammate,
        options=HandoverOptions(),
    ).fingerprint
    return {
        "to_owner_id": teammate.id,
        "selection": {"ids": [own.customer.id]},
        "note": "同意",
        "fingerprint": fingerprint,
        "request_id": named.request.id,
    }


API_ID_FIELDS: dict[tuple[str, str, str], ApiIdCase | str] = {
    # Opportunities.
    ("GET /api/v1/opportunities/", "query", "customer_id"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/opportunities/?customer_id={named.customer.id}", None)
    ),
    ("GET /api/v1/opportunities/", "query", "owner"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/opportunities/?owner={named.user.id}", None)
    ),
    ("GET /api/v1/opportunities/", "query", "team"): ADMIN_PARAM,  # others: 404 or 422
    ("GET /api/v1/opportunities/", "query", "stage"): REFERENCE,
    ("GET /api/v1/opportunities/", "query", "been_in"): REFERENCE,
    ("GET /api/v1/opportunities/", "query", "lost_to"): REFERENCE,
    ("POST /api/v1/opportunities/", "json", "customer_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/opportunities/",
            {"customer_id": named.customer.id, "title": "接口商机"},
        )
    ),
    ("POST /api/v1/opportunities/", "json", "owner_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/opportunities/",
            {"customer_id": own.customer.id, "title": "接口商机", "owner_id": named.user.id},
        ),
        refusal=422,  # the web form's owner rule, with its message
    ),
    ("POST /api/v1/opportunities/", "json", "stage_id"): REFERENCE,
    ("POST /api/v1/opportunities/", "json", "probability"): NOT_AN_ID,
    ("PATCH /api/v1/opportunities/{opportunity_id}", "json", "owner_id"): ApiIdCase(
        lambda own, named: (
            "PATCH",
            f"/api/v1/opportunities/{own.opportunity.id}",
            {"owner_id": named.user.id, "version": own.opportunity.version},
        ),
        refusal=422,
    ),
    ("PATCH /api/v1/opportunities/{opportunity_id}", "json", "probability"): NOT_AN_ID,
    ("POST /api/v1/opportunities/{opportunity_id}/stage", "json", "stage_id"): REFERENCE,
    ("POST /api/v1/opportunities/{opportunity_id}/lost", "json", "competitor_id"): REFERENCE,
    # Another team's contact is not found; one of another customer in scope is the
    # service's refusal (422, tests/test_api_opportunity_links.py).
    ("POST /api/v1/opportunities/{opportunity_id}/contacts", "json", "contact_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            f"/api/v1/opportunities/{own.opportunity.id}/contacts",
            {"contact_id": named.contact.id},
        )
    ),
    ("POST /api/v1/opportunities/{opportunity_id}/competitors", "json", "competitor_id"): (
        REFERENCE
    ),
    # Visits.
    ("GET /api/v1/visits/", "query", "member"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/visits/?member={named.user.id}", None)
    ),
    ("GET /api/v1/visits/", "query", "team"): ADMIN_PARAM,
    ("POST /api/v1/visits/", "json", "customer_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/visits/",
            {"customer_id": named.customer.id, "occurred_at": "2026-01-05T02:00:00Z"},
        )
    ),
    ("POST /api/v1/visits/", "json", "opportunity_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/visits/",
            {
                "customer_id": own.customer.id,
                "occurred_at": "2026-01-05T02:00:00Z",
                "opportunity_id": named.opportunity.id,
            },
        )
    ),
    ("PATCH /api/v1/visits/{visit_id}", "json", "opportunity_id"): ApiIdCase(
        lambda own, named: (
            "PATCH",
            f"/api/v1/visits/{own.visit.id}",
            {"opportunity_id": named.opportunity.id, "version": own.visit.version},
        )
    ),
    # Follow-ups.
    ("GET /api/v1/follow-ups/", "query", "owner"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/follow-ups/?owner={named.user.id}", None)
    ),
    ("POST /api/v1/follow-ups/", "json", "customer_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/follow-ups/",
            {"customer_id": named.customer.id, "due_on": _later()},
        )
    ),
    ("POST /api/v1/follow-ups/", "json", "opportunity_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/follow-ups/",
            {
                "customer_id": own.customer.id,
                "due_on": _later(),
                "opportunity_id": named.opportunity.id,
            },
        )
    ),
    ("POST /api/v1/follow-ups/{reminder_id}/snooze", "json", "days"): NOT_AN_ID,
    # Handovers: supervisors and admins make them.
    ("POST /api/v1/handovers/preview", "json", "to_owner_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/handovers/preview",
            {
                "to_owner_id": named.user.id,
                "selection": {"ids": [_customer_of_supervisor(own).id]},
            },
        ),
        refusal=422,  # the web's rule: only to members of one's own team
        personas=("supervisor",),
    ),
    ("POST /api/v1/handovers/", "json", "to_owner_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/handovers/",
            _handover_body(own, named, to_owner=named.user),
        ),
        refusal=422,
        personas=("supervisor",),
    ),
    ("POST /api/v1/handovers/", "json", "request_id"): ApiIdCase(
        lambda own, named: ("POST", "/api/v1/handovers/", _answering(own, named)),
        personas=("supervisor",),
    ),
    # Users: the team's filter.
    ("GET /api/v1/users/", "query", "team"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/users/?team={named.team.id}", None)
    ),
}
