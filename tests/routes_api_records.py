"""The API's documents, service tickets and business figures in the access matrix
(tests/test_api_access.py), merged into tests/routes.py.

All three follow their customer, as on the web: the owner, the team's supervisor and
administrators see them; other teams get 404. A document's new version is a multipart
upload (tests/api_support.py Multipart); its file answers bytes, not JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api_support import Multipart
from tests.routes import (
    NOT_AN_ID,
    ApiIdCase,
    Effect,
    World,
    _customer,
    _document,
    _document_file,
    _status,
    _ticket,
    _version,
)

PDF = b"%PDF-1.4\n(API access matrix)\n%%EOF\n"

API_SCOPED: dict[str, Callable[[World], dict]] = {
    "api_documents.DocumentRecord": _document,
    "api_documents.DocumentVersions": _document,
    "api_documents.DocumentFile": _document_file,
    "api_tickets.TicketRecord": _ticket,
    "api_tickets.TicketStart": _ticket,
    "api_tickets.TicketResolve": lambda w: _ticket(w, "in_progress"),
    "api_tickets.TicketClose": lambda w: _ticket(w, "resolved"),
    "api_tickets.TicketReopen": lambda w: _ticket(w, "closed"),
    "api_tickets.TicketHandler": _ticket,
    "api_figures.CustomerFigures": _customer,
}

API_EFFECTS: dict[tuple[str, str], Effect] = {
    ("api_documents.DocumentRecord", "PATCH"): Effect(
        lambda w: {**_version(w), "title": "矩阵"}, lambda d: d.title == "矩阵"
    ),
    ("api_documents.DocumentRecord", "DELETE"): Effect(
        lambda w: {}, lambda d: d.deleted_at is not None
    ),
    ("api_documents.DocumentVersions", "POST"): Effect(
        lambda w: Multipart(file=("v2.pdf", PDF)), lambda d: d.current_version == 2
    ),
    ("api_tickets.TicketStart", "POST"): Effect(_version, _status("in_progress")),
    ("api_tickets.TicketResolve", "POST"): Effect(
        lambda w: {**_version(w), "resolution": "矩阵：已修复"}, _status("resolved")
    ),
    ("api_tickets.TicketClose", "POST"): Effect(
        lambda w: {**_version(w), "satisfaction": 4, "comment": "满意"},
        lambda t: t is not None and t.status == "closed" and t.satisfaction == 4,
    ),
    ("api_tickets.TicketReopen", "POST"): Effect(_version, _status("open")),
    # The owner (m1) handles it: a handler every persona who sees the customer may choose.
    ("api_tickets.TicketHandler", "POST"): Effect(
        lambda w: {**_version(w), "handler_id": w.owner.id},
        lambda t: t is not None and t.handler_id == t.owner_id,
    ),
}


# Ids in the query and the body -------------------------------------------------------------


def _upload(target: str, record) -> tuple[str, str, Multipart]:
    return (
        "POST",
        "/api/v1/documents/",
        Multipart({target: str(record.id), "files": ("矩阵.pdf", PDF)}),
    )


def _new_ticket(own, **named) -> dict:
    return {
        "customer_id": own.customer.id,
        "kind": "complaint",
        "category": "billing",
        "severity": "low",
        "title": "接口工单",
        **named,
    }


API_ID_FIELDS: dict[tuple[str, str, str], ApiIdCase | str] = {
    **{
        ("GET /api/v1/documents/", "query", field): ApiIdCase(
            lambda own, named, record=record: (
                "GET",
                f"/api/v1/documents/?{record}_id={getattr(named, record).id}",
                None,
            )
        )
        for field, record in (
            ("customer_id", "customer"),
            ("opportunity_id", "opportunity"),
            ("visit_id", "visit"),
        )
    },
    **{
        ("POST /api/v1/documents/", "multipart", field): ApiIdCase(
            lambda own, named, field=field, record=record: _upload(field, getattr(named, record))
        )
        for field, record in (
            ("customer_id", "customer"),
            ("opportunity_id", "opportunity"),
            ("visit_id", "visit"),
        )
    },
    ("GET /api/v1/tickets/", "query", "customer_id"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/tickets/?customer_id={named.customer.id}", None)
    ),
    ("GET /api/v1/tickets/", "query", "owner"): ApiIdCase(
        lambda own, named: ("GET", f"/api/v1/tickets/?owner={named.user.id}", None)
    ),
    ("POST /api/v1/tickets/", "json", "customer_id"): ApiIdCase(
        lambda own, named: ("POST", "/api/v1/tickets/", _new_ticket(named))
    ),
    # The web form's refusals: a field error, not a 404 (the service checks the customer's).
    ("POST /api/v1/tickets/", "json", "raised_by_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            "/api/v1/tickets/",
            _new_ticket(own, raised_by_id=named.contact.id),
        ),
        refusal=422,
    ),
    ("POST /api/v1/tickets/", "json", "handler_id"): ApiIdCase(
        lambda own, named: ("POST", "/api/v1/tickets/", _new_ticket(own, handler_id=named.user.id)),
        refusal=422,
    ),
    ("POST /api/v1/tickets/{ticket_id}/handler", "json", "handler_id"): ApiIdCase(
        lambda own, named: (
            "POST",
            f"/api/v1/tickets/{own.ticket.id}/handler",
            {"handler_id": named.user.id, "version": _stored_version(own.ticket)},
        ),
        refusal=422,
    ),
    ("POST /api/v1/tickets/{ticket_id}/close", "json", "satisfaction"): NOT_AN_ID,
}


def _stored_version(record: Any) -> int:
    """The record's version as stored now (an earlier request of the case may have moved it)."""
    from crm.extensions import db

    db.session.refresh(record)
    return record.version
