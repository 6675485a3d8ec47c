"""More of the JSON API in the page timings (issue 17): customers, contacts, service tickets
and documents, lists of 100 and records, and a customer's 13 months of figures
(scripts/benchmark/api_pages.py has the pipeline's, the work log's, the follow-ups' and the
people's).

The same targets and statement ceiling as the pages; each page with a token of its role in
the Authorization header (api_pages.token_client). A customer holds two documents in the
dataset, so the documents list is a customer's, not a hundred.
"""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from scripts.benchmark.api_pages import LIST, _page
from scripts.benchmark.timings import Page

API_PAGES: dict[str, Page] = {
    "API customers, 100 (manager)": _page(
        "manager", lambda c: f"/api/v1/customers/?limit={LIST}", 25
    ),
    "API customers, 100 (supervisor)": _page(
        "supervisor", lambda c: f"/api/v1/customers/?limit={LIST}", 25
    ),
    "API customers, 100 (admin, filter)": _page(
        "admin", lambda c: f"/api/v1/customers/?tier=A&region={c['region']}&limit={LIST}", 25
    ),
    "API customer": _page("manager", lambda c: f"/api/v1/customers/{c['customer_id']}", 25, False),
    "API contacts, 100 (manager)": _page(
        "manager", lambda c: f"/api/v1/contacts/?limit={LIST}", 25
    ),
    "API contacts, 100 (supervisor)": _page(
        "supervisor", lambda c: f"/api/v1/contacts/?limit={LIST}", 25
    ),
    "API contact": _page("manager", lambda c: f"/api/v1/contacts/{c['api_contact_id']}", 25, False),
    "API tickets, 100 (manager)": _page(
        "manager", lambda c: f"/api/v1/tickets/?status=all&limit={LIST}", 25
    ),
    "API tickets, 100 (supervisor, by severity)": _page(
        "supervisor", lambda c: f"/api/v1/tickets/?status=all&sort=severity&limit={LIST}", 25
    ),
    "API tickets being worked on (admin)": _page(
        "admin", lambda c: f"/api/v1/tickets/?limit={LIST}", 25
    ),
    "API ticket": _page("manager", lambda c: f"/api/v1/tickets/{c['api_ticket_id']}", 25, False),
    "API documents of a customer": _page(
        "manager", lambda c: f"/api/v1/documents/?customer_id={c['customer_id']}&limit={LIST}", 25
    ),
    "API document": _page("manager", lambda c: f"/api/v1/documents/{c['document_id']}", 25, False),
    "API customer's figures, 13 months": _page(
        "manager", lambda c: f"/api/v1/customers/{c['customer_id']}/figures", 25, False
    ),
}


def ids(ctx: dict) -> dict:
    """The records these pages open: of the context's customer (inside an app context)."""
    from models import Contact, ServiceTicket

    def first(model) -> int:
        return (
            db.session.scalar(
                select(model.id).where(model.customer_id == ctx["customer_id"]).limit(1)
            )
            or 0
        )

    return {"api_contact_id": first(Contact), "api_ticket_id": first(ServiceTicket)}
