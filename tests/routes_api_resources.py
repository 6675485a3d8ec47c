"""The API's opportunities, visits, follow-ups, handovers, users and teams in the access
matrix (tests/test_api_access.py), merged into tests/routes.py.

Opportunities, visits and follow-ups follow their customer, as on the web; a handover is
seen by those its customers went to, came from or are with; a person or a team by their
teammates (crm/permissions.py people_scope and team_scope: `API_ALLOWED`).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.routes import (
    ADMIN_PARAM,
    NOT_AN_ID,
    REFERENCE,
    ApiIdCase,
    Effect,
    World,
    _contract_opportunity,
    _days_from_now,
    _lost_opportunity,
    _opportunity,
    _reminder,
    _status,
    _version,
    _visit,
)

API_SCOPED: dict[str, Callable[[World], dict]] = {
    "api_opportunities.OpportunityRecord": _opportunity,
    "api_opportunities.OpportunityStage": _opportunity,
    "api_opportunities.OpportunityWon": _contract_opportunity,
    "api_opportunities.OpportunityLost": _opportunity,
    "api_opportunities.OpportunityReopen": _lost_opportunity,
    "api_visits.VisitRecord": _visit,
    "api_follow_ups.FollowUpRecord": _reminder,
    "api_follow_ups.FollowUpDone": _reminder,
    "api_follow_ups.FollowUpDismiss": _reminder,
    "api_follow_ups.FollowUpSnooze": _reminder,
}

# Who may open an id route whose scope is not the customer's (else CUSTOMER_SCOPE_ALLOWED).
API_ALLOWED: dict[str, set[str]] = {}


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
}


# Ids in the query and the body -------------------------------------------------------------


def _later() -> str:
    return _days_from_now(3).isoformat()


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
}
