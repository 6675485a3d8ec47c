"""Every GET route of the URL map in the bench (issue 18), for every role that may open it.

The named pages (timings.PAGES and the API's) are the bench's headline rows; this module
adds an entry for each (GET endpoint, role) they leave out, as the access matrix covers
every route (tests/routes.py). `registry(url_map)` says which entries time each endpoint;
tests/test_bench_coverage.py fails naming a GET endpoint with neither an entry nor one of
the EXCUSED reasons, and tests/test_bench_small.py opens every entry with its role (200)
and every other role (refused): the roles listed are exactly those that may open it.

    scripts/bench --all-routes [--size province] [--database-url URL]
    scripts/bench --growth [--reuse]          (every entry at tenth and at province)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect

from crm.extensions import db
from crm.i18n import user_zone
from scripts.benchmark.timings import Page

MANAGER, SUPERVISOR, ADMIN = "manager", "supervisor", "admin"
ALL = (MANAGER, SUPERVISOR, ADMIN)
LEADS = (SUPERVISOR, ADMIN)
ADMINS = (ADMIN,)
SIGNED_OUT = ("anonymous",)  # a client without a session
ROLES = ("anonymous", *ALL)

# Answered whoever asks (the URL's secret is the access, or the page is public): their
# one entry's role is "anonymous" and the other roles' answers are not checked.
OPEN_TO_ANY = {"calendar.feed", "api-docs.openapi_json", "api_docs.docs"}

# GET endpoints not timed, each with why. Short on purpose: a page a user opens is timed.
EXCUSED: dict[str, str] = {
    "static": "files the web server sends (css, js, images); no application code",
    "favicon": "a static file",
    "main.healthz": "the load balancer's liveness probe, no page (one SELECT 1)",
    "documents.file": "a stored file's bytes: scripts/bench-documents measures the stream",
    "documents.thumbnail": "a stored image's bytes, as documents.file",
    "api_documents.DocumentFile": "a stored file's bytes over the API, as documents.file",
    "outbox_admin.download": "a stored .eml file's bytes",
}


@dataclass(frozen=True)
class Route:
    """An endpoint's entries: `label (role)` for each role that may open it."""

    label: str
    url: Callable[[dict], str]
    roles: tuple[str, ...]
    target_p95_ms: float | None = 25
    is_list: bool = False
    # Its answer holds all of the viewer's scope (an export): it grows with an admin's data.
    whole_scope: bool = False


def _r(label, url, roles=ALL, target=25, is_list=False, whole_scope=False) -> Route:
    return Route(label, url, roles, target, is_list, whole_scope)


def _lst(label, url, roles=ALL, target=25) -> Route:
    return Route(label, url, roles, target, True)


# endpoint -> its entries. Ids and filters come from the context (timings.context and ids()
# below): the manager's first customer and its records, the manager's team.
ROUTES: dict[str, Route] = {
    # Customers and what hangs off them
    "customers.index": _lst("customer list", lambda c: "/customers/"),
    "customers.show": _r("customer page", lambda c: f"/customers/{c['customer_id']}"),
    "customers.new": _r("customer form", lambda c: "/customers/new"),
    "customers.edit": _r("customer edit form", lambda c: f"/customers/{c['customer_id']}/edit"),
    "customers.mark_lost": _r(
        "customer lost form", lambda c: f"/customers/{c['customer_id']}/lost"
    ),
    "customers.timeline": _r(
        "customer timeline", lambda c: f"/customers/{c['customer_id']}/timeline"
    ),
    "customers.pick": _lst(
        "customer picker, 2 characters", lambda c: f"/customers/pick.json?q={c['q']}"
    ),
    "health.at_risk_list": _lst("at-risk list", lambda c: "/customers/at-risk"),
    "health.customer_history": _r(
        "customer health history", lambda c: f"/customers/{c['customer_id']}/health"
    ),
    "figures.show": _r("customer figures", lambda c: f"/customers/{c['customer_id']}/figures"),
    "contacts.index": _lst("contact list, search", lambda c: f"/contacts/?q={c['q']}"),
    "contacts.show": _r("contact page", lambda c: f"/contacts/{c['api_contact_id']}"),
    "contacts.edit": _r("contact edit form", lambda c: f"/contacts/{c['api_contact_id']}/edit"),
    "contacts.new": _r("contact form", lambda c: f"/customers/{c['customer_id']}/contacts/new"),
    "contacts.relationship_map": _r(
        "relationship map", lambda c: f"/customers/{c['customer_id']}/map"
    ),
    "competitors.index": _lst("competitor overview", lambda c: "/competitors/"),
    "competitors.new_profile": _r(
        "competitor profile form", lambda c: f"/customers/{c['customer_id']}/competitors/new"
    ),
    "competitors.edit_profile": _r(
        "competitor profile edit form",
        lambda c: f"/competitors/profiles/{c['profile_id']}/edit",
    ),
    "imports.export_customers": _r(
        "customers export (CSV)", lambda c: "/customers/export.csv", whole_scope=True
    ),
    "imports.export_contacts": _r(
        "contacts export (CSV)", lambda c: "/contacts/export.csv", whole_scope=True
    ),
    "imports.upload": _r("customer import form", lambda c: "/customers/import"),
    "imports.merge": _r("customer merge form", lambda c: "/customers/merge", ADMINS),
    # Pipeline
    "opportunities.index": _lst(
        "opportunity list, search", lambda c: f"/opportunities/?q={c['q']}"
    ),
    "opportunities.board": _lst("board", lambda c: "/opportunities/board", target=60),
    "opportunities.show": _r(
        "opportunity page", lambda c: f"/opportunities/{c['api_opportunity_id']}"
    ),
    "opportunities.edit": _r(
        "opportunity edit form", lambda c: f"/opportunities/{c['api_opportunity_id']}/edit"
    ),
    "opportunities.new": _r(
        "opportunity form", lambda c: f"/opportunities/new?customer_id={c['customer_id']}"
    ),
    # Work log, follow-ups, service
    "visits.index": _lst("visit log", lambda c: "/visits/"),
    "visits.show": _r("visit page", lambda c: f"/visits/{c['api_visit_id']}"),
    "visits.edit": _r("visit edit form", lambda c: f"/visits/{c['api_visit_id']}/edit"),
    "visits.new": _r("visit form", lambda c: f"/visits/new?customer_id={c['customer_id']}"),
    "reminders.index": _lst("follow-ups", lambda c: "/reminders/"),
    "reminders.show": _r("follow-up page", lambda c: f"/reminders/{c['api_reminder_id']}"),
    "reminders.new": _r(
        "follow-up form", lambda c: f"/reminders/new?customer_id={c['customer_id']}"
    ),
    "service.index": _lst("service tickets", lambda c: "/service/"),
    "service.show": _r("service ticket page", lambda c: f"/service/{c['api_ticket_id']}"),
    "service.new": _r(
        "service ticket form", lambda c: f"/service/new?customer_id={c['customer_id']}"
    ),
    "calendar.feed": _r(
        "follow-ups calendar feed (ICS)",
        lambda c: f"/calendar/{c['calendar_token']}.ics",
        SIGNED_OUT,
    ),
    # Documents
    "documents.show": _r("document page", lambda c: f"/documents/{c['document_id']}"),
    "documents.upload_to_customer": _r(
        "document upload page", lambda c: f"/customers/{c['customer_id']}/documents"
    ),
    "documents.upload_to_opportunity": _r(
        "opportunity document upload page",
        lambda c: f"/opportunities/{c['api_opportunity_id']}/documents",
    ),
    "documents.upload_to_visit": _r(
        "visit document upload page", lambda c: f"/visits/{c['api_visit_id']}/documents"
    ),
    # Handovers
    "handovers.index": _lst("handovers", lambda c: "/handovers/"),
    "handovers.new": _r("handover form", lambda c: "/handovers/new", LEADS),
    "handovers.new_request": _r(
        "handover request form", lambda c: f"/handovers/requests/new?customer={c['customer_id']}"
    ),
    "handovers.requests": _lst("handover requests", lambda c: "/handovers/requests"),
    "handovers.show": _r("handover page", lambda c: f"/handovers/{c['handover_id']}"),
    "handovers.customer_history": _r(
        "customer's handovers", lambda c: f"/handovers/customers/{c['customer_id']}"
    ),
    # Homes, notices, plans, reports
    "main.home": _r("home", lambda c: "/", target=60),
    "notices.index": _lst("notices", lambda c: "/notices/"),
    "plans.index": _r("plans page", lambda c: "/plans/", target=60),
    "plans.show": _r("plan page", lambda c: f"/plans/{c['week_plan_id']}"),
    "plans.month": _r("month plan by its key", lambda c: f"/plans/month/{c['month_key']}"),
    "plans.week": _r("team week by its key", lambda c: f"/plans/week/{c['week_key']}", LEADS),
    "plans.review_queue": _r("review queue", lambda c: "/plans/reviews", LEADS, target=60),
    "reports.index": _r("reports", lambda c: "/reports/", target=60),
    "reports.plans": _r("plans report", lambda c: "/reports/plans", target=60),
    "reports.targets_page": _r("targets page", lambda c: "/reports/targets", LEADS, target=60),
    "reports.export": _r(
        "report export (CSV)", lambda c: "/reports/export.csv?report=movement", whole_scope=True
    ),
    # Assessment
    "assessment.index": _r("assessment", lambda c: "/assessment/", target=60),
    "assessment.period_view": _r(
        "assessment period", lambda c: f"/assessment/{c['assessment_month']}", LEADS, 60
    ),
    "assessment.level_review": _r(
        "assessment level review",
        lambda c: f"/assessment/{c['assessment_quarter']}/review",
        LEADS,
        target=60,
    ),
    "assessment.team": _r(
        "assessment team sheet",
        lambda c: f"/assessment/{c['assessment_month']}/team/{c['team_id']}",
        LEADS,
        target=60,
    ),
    "assessment.targets_page": _r(
        "assessment targets",
        lambda c: f"/assessment/{c['assessment_month']}/team/{c['team_id']}/targets",
        LEADS,
        target=60,
    ),
    "assessment.export": _r(
        "assessment team sheet (CSV)",
        lambda c: f"/assessment/{c['assessment_month']}/team/{c['team_id']}/sheet.csv",
        LEADS,
        target=60,
    ),
    "assessment.scorecard": _r(
        "assessment scorecard",
        lambda c: f"/assessment/{c['assessment_month']}/managers/{c['manager_id']}",
    ),
    "assessment.line_records": _r(
        "assessment line records",
        lambda c: f"/assessment/{c['assessment_month']}/managers/{c['manager_id']}/01",
    ),
    # The signed-in user, people
    "auth.account": _r("account page", lambda c: "/account"),
    "auth.login": _r("sign-in page", lambda c: "/login", SIGNED_OUT),
    "people.pick": _lst(
        "people picker, 2 characters", lambda c: f"/people/pick.json?q={c['person_q']}"
    ),
    # Administration
    "admin.index": _r("admin: index", lambda c: "/admin/", ADMINS),
    "admin.users": _lst("admin: users", lambda c: "/admin/users", ADMINS),
    "admin.edit_user": _r("admin: user", lambda c: f"/admin/users/{c['manager_id']}", ADMINS),
    "admin.new_user": _r("admin: new user", lambda c: "/admin/users/new", ADMINS),
    "admin.teams": _lst("admin: teams", lambda c: "/admin/teams", ADMINS),
    "admin.edit_team": _r("admin: team", lambda c: f"/admin/teams/{c['team_id']}", ADMINS),
    "admin.new_team": _r("admin: new team", lambda c: "/admin/teams/new", ADMINS),
    "admin.settings": _r("admin: settings", lambda c: "/admin/settings", ADMINS),
    "assessment_admin.index": _r(
        "admin: assessment weights", lambda c: "/admin/assessment", ADMINS
    ),
    "assessment_admin.edit": _r(
        "admin: a level's weights", lambda c: "/admin/assessment/month/junior", ADMINS
    ),
    "assessment_admin.version": _r(
        "admin: a weights version",
        lambda c: f"/admin/assessment/versions/{c['weight_set_id']}",
        ADMINS,
    ),
    "cadences.edit": _r("admin: visit cadences", lambda c: "/admin/cadences", ADMINS),
    "document_kinds.index": _lst(
        "admin: document kinds", lambda c: "/admin/document-kinds", ADMINS
    ),
    "document_kinds.new": _r(
        "admin: new document kind", lambda c: "/admin/document-kinds/new", ADMINS
    ),
    "document_kinds.edit": _r(
        "admin: document kind", lambda c: f"/admin/document-kinds/{c['kind_id']}", ADMINS
    ),
    "outbox_admin.index": _lst("admin: outbox", lambda c: "/admin/outbox/", ADMINS),
    "outbox_admin.show": _r(
        "admin: outbox message", lambda c: f"/admin/outbox/{c['message_id']}", ADMINS
    ),
    "outbox_admin.retry_failed": _r(
        "admin: outbox retry form", lambda c: "/admin/outbox/retry-failed", ADMINS
    ),
    "reference.industries": _lst("admin: industries", lambda c: "/admin/industries", ADMINS),
    "reference.new_industry": _r("admin: new industry", lambda c: "/admin/industries/new", ADMINS),
    "reference.edit_industry": _r(
        "admin: industry", lambda c: f"/admin/industries/{c['industry_id']}", ADMINS
    ),
    "reference.competitors": _lst("admin: competitors", lambda c: "/admin/competitors", ADMINS),
    "reference.new_competitor": _r(
        "admin: new competitor", lambda c: "/admin/competitors/new", ADMINS
    ),
    "reference.edit_competitor": _r(
        "admin: competitor", lambda c: f"/admin/competitors/{c['competitor_id']}", ADMINS
    ),
    "stages.index": _lst("admin: stages", lambda c: "/admin/stages/", ADMINS),
    "stages.new": _r("admin: new stage", lambda c: "/admin/stages/new", ADMINS),
    "stages.edit": _r("admin: stage", lambda c: f"/admin/stages/{c['stage_id']}", ADMINS),
    "webhooks_admin.index": _lst("admin: webhooks", lambda c: "/admin/webhooks/", ADMINS),
    "webhooks_admin.new": _r("admin: new webhook", lambda c: "/admin/webhooks/new", ADMINS),
    "webhooks_admin.show": _r(
        "admin: webhook", lambda c: f"/admin/webhooks/{c['subscription_id']}", ADMINS
    ),
    "webhooks_admin.edit": _r(
        "admin: webhook edit form",
        lambda c: f"/admin/webhooks/{c['subscription_id']}/edit",
        ADMINS,
    ),
    "webhooks_admin.delivery": _r(
        "admin: webhook call",
        lambda c: f"/admin/webhooks/deliveries/{c['delivery_id']}",
        ADMINS,
    ),
    # The JSON API (issue 17): lists of 100 and records, with a token of the role
    "api-docs.openapi_json": _r(
        "API OpenAPI document", lambda c: "/api/v1/openapi.json", SIGNED_OUT
    ),
    "api_docs.docs": _r("API documentation page", lambda c: "/api/v1/docs", SIGNED_OUT),
    "api_customers.Customers": _lst("API customers, 100", lambda c: "/api/v1/customers/?limit=100"),
    "api_customers.CustomerRecord": _r(
        "API customer", lambda c: f"/api/v1/customers/{c['customer_id']}"
    ),
    "api_figures.CustomerFigures": _r(
        "API customer's figures, 13 months",
        lambda c: f"/api/v1/customers/{c['customer_id']}/figures",
    ),
    "api_contacts.Contacts": _lst("API contacts, 100", lambda c: "/api/v1/contacts/?limit=100"),
    "api_contacts.ContactRecord": _r(
        "API contact", lambda c: f"/api/v1/contacts/{c['api_contact_id']}"
    ),
    "api_competitors.Competitors": _lst("API competitors", lambda c: "/api/v1/competitors/"),
    "api_competitors.Profiles": _lst(
        "API competitor profiles, 100", lambda c: "/api/v1/competitor-profiles/?limit=100"
    ),
    "api_competitors.ProfileRecord": _r(
        "API competitor profile", lambda c: f"/api/v1/competitor-profiles/{c['profile_id']}"
    ),
    "api_opportunities.Opportunities": _lst(
        "API opportunities, 100", lambda c: "/api/v1/opportunities/?limit=100"
    ),
    "api_opportunities.OpportunityRecord": _r(
        "API opportunity", lambda c: f"/api/v1/opportunities/{c['api_opportunity_id']}"
    ),
    "api_opportunities.OpportunityContacts": _r(
        "API opportunity's contacts",
        lambda c: f"/api/v1/opportunities/{c['api_opportunity_id']}/contacts",
    ),
    "api_opportunities.OpportunityCompetitors": _r(
        "API opportunity's competitors",
        lambda c: f"/api/v1/opportunities/{c['api_opportunity_id']}/competitors",
    ),
    "api_opportunities.OpportunityHistoryRows": _r(
        "API opportunity's history",
        lambda c: f"/api/v1/opportunities/{c['api_opportunity_id']}/history",
    ),
    "api_stages.Stages": _r("API stages", lambda c: "/api/v1/stages/"),
    "api_visits.Visits": _lst(
        "API visits, a month, 100",
        lambda c: f"/api/v1/visits/?from={c['api_month_from']}&to={c['api_month_to']}&limit=100",
    ),
    "api_visits.VisitRecord": _r("API visit", lambda c: f"/api/v1/visits/{c['api_visit_id']}"),
    "api_follow_ups.FollowUps": _lst(
        "API follow-ups, 100", lambda c: "/api/v1/follow-ups/?status=done&limit=100"
    ),
    "api_follow_ups.FollowUpRecord": _r(
        "API follow-up", lambda c: f"/api/v1/follow-ups/{c['api_reminder_id']}"
    ),
    "api_tickets.Tickets": _lst(
        "API tickets, 100", lambda c: "/api/v1/tickets/?status=all&limit=100"
    ),
    "api_tickets.TicketRecord": _r("API ticket", lambda c: f"/api/v1/tickets/{c['api_ticket_id']}"),
    "api_documents.Documents": _lst(
        "API documents of a customer",
        lambda c: f"/api/v1/documents/?customer_id={c['customer_id']}&limit=100",
    ),
    "api_documents.DocumentRecord": _r(
        "API document", lambda c: f"/api/v1/documents/{c['document_id']}"
    ),
    "api_documents.DocumentKinds": _r("API document kinds", lambda c: "/api/v1/documents/kinds"),
    "api_handovers.Handovers": _lst("API handovers", lambda c: "/api/v1/handovers/?limit=100"),
    "api_handovers.HandoverRecord": _r(
        "API handover", lambda c: f"/api/v1/handovers/{c['handover_id']}"
    ),
    "api_handovers.HandoverCustomers": _r(
        "API handover's customers", lambda c: f"/api/v1/handovers/{c['handover_id']}/customers"
    ),
    "api_people.Users": _lst("API users, 100", lambda c: "/api/v1/users/?limit=100"),
    "api_people.UserRecord": _r("API user", lambda c: f"/api/v1/users/{c['manager_id']}"),
    "api_people.Teams": _lst("API teams", lambda c: "/api/v1/teams/"),
    "api_people.TeamRecord": _r("API team", lambda c: f"/api/v1/teams/{c['team_id']}"),
}


class _AnyIds(dict):
    """A context in which every id is 1: enough to tell which endpoint a URL reaches."""

    def __missing__(self, key):
        return "1"


def endpoint_of(url_map: Map, url: str) -> str | None:
    """The endpoint a GET of `url` reaches (None: not in this map, e.g. /_bench pages)."""
    adapter = url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
    except RequestRedirect as redirect:  # a missing trailing slash
        return endpoint_of(url_map, redirect.new_url.removeprefix("http://localhost"))
    except HTTPException:
        return None
    return endpoint


def role_of(page: Page) -> str:
    return MANAGER if page.role == "planner" else page.role  # a manager building a plan


def route_pages(named: dict[str, Page], url_map: Map) -> dict[str, Page]:
    """An entry for each (endpoint, role) of ROUTES that no named page already times."""
    covered = {
        (endpoint_of(url_map, page.url(_AnyIds())), role_of(page)) for page in named.values()
    }
    pages: dict[str, Page] = {}
    for endpoint, route in ROUTES.items():
        for role in route.roles:
            if (endpoint, role) in covered:
                continue
            name = f"{route.label} ({role})"
            pages[name] = Page(
                role,
                route.url,
                route.target_p95_ms,
                route.is_list,
                api=role in ALL and route.url(_AnyIds()).startswith("/api/"),  # a token
                whole_scope=route.whole_scope and role == ADMIN,
            )
    return pages


def registry(named: dict[str, Page], url_map: Map) -> dict[str, dict[str, list[str]]]:
    """endpoint -> role -> the names of the entries that time it (named and generated)."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, page in {**named, **route_pages(named, url_map)}.items():
        endpoint = endpoint_of(url_map, page.url(_AnyIds()))
        if endpoint is not None:
            found.setdefault(endpoint, {}).setdefault(role_of(page), []).append(name)
    return found


# The records the route entries open ------------------------------------------------------


def prepare_rows() -> None:
    """Rows the generator does not write but pages open (inside an app context, committed):
    a handover into the first manager's portfolio and a pending request, an outbox message,
    a webhook with one failed call, a stored weights version. Each once, kept by --reuse."""
    from crm.services.assessment import catalog, periods, weights
    from crm.services.handover.requests import request_handover
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over
    from models import (
        AssessmentWeightSet,
        Customer,
        Handover,
        HandoverRequest,
        Level,
        MessageKind,
        MessageStatus,
        OutboxMessage,
        PeriodKind,
        Role,
        User,
        WebhookDelivery,
        WebhookEvent,
        WebhookSubscription,
    )

    manager = db.session.scalar(
        select(User).where(User.role == Role.MANAGER).order_by(User.id).limit(1)
    )
    supervisor = db.session.scalar(
        select(User).where(User.role == Role.SUPERVISOR, User.team_id == manager.team_id)
    )
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
    if not db.session.scalar(select(Handover.id).limit(1)):
        teammate_customer = db.session.scalar(
            select(Customer)
            .join(User, User.id == Customer.owner_id)
            .where(User.team_id == manager.team_id, User.id != manager.id)
            .where(Customer.parent_id.is_(None))
            .order_by(Customer.id.desc())
            .limit(1)
        )
        hand_over(
            actor=supervisor,
            selection=Selection(ids=[teammate_customer.id]),
            to_owner=manager,
            options=HandoverOptions(),
            note="bench",
            token="bench-handover",
            expected_fingerprint=None,
        )
    if not db.session.scalar(select(HandoverRequest.id).limit(1)):
        last = db.session.scalar(
            select(Customer)
            .where(Customer.owner_id == manager.id)
            .order_by(Customer.id.desc())
            .limit(1)
        )
        request_handover(last, actor=manager, note="bench")
    if not db.session.scalar(select(OutboxMessage.id).limit(1)):
        db.session.add(
            OutboxMessage(
                key="bench:1",
                kind=MessageKind.REMINDER,
                recipient=manager,
                subject="Follow-up due",
                body_text="text",
                status=MessageStatus.FAILED,
                last_error="550 no such user",
            )
        )
    if not db.session.scalar(select(WebhookSubscription.id).limit(1)):
        subscription = WebhookSubscription(
            name="数据仓库",
            url="https://hooks.example.com/crm",
            events=[WebhookEvent.CUSTOMER_CREATED.value],
            secret="whsec_bench",
        )
        db.session.add(
            WebhookDelivery(
                subscription=subscription,
                key="webhook:bench:1",
                event=WebhookEvent.CUSTOMER_CREATED,
                event_id="bench-1",
                body="{}",
                status=MessageStatus.FAILED,
                attempts=1,
                response_code=404,
                last_error="HTTP 404",
            )
        )
    if not db.session.scalar(select(AssessmentWeightSet.id).limit(1)):
        weights.save_version(
            Level.JUNIOR,
            PeriodKind.MONTH,
            periods.current(PeriodKind.MONTH).following().first,
            catalog.BUILT_IN[(Level.JUNIOR, PeriodKind.MONTH)],
            note="bench",
            actor=admin,
        )
    db.session.commit()


def ids(ctx: dict) -> dict:
    """The ids the route entries open (inside an app context, after prepare_rows)."""
    from crm.services.assessment import periods as assessment_periods
    from crm.services.followups import calendar
    from crm.services.plans import periods
    from models import (
        AssessmentWeightSet,
        Competitor,
        CompetitorProfile,
        Customer,
        DocumentKind,
        Handover,
        Industry,
        OutboxMessage,
        PeriodKind,
        PlanKind,
        Stage,
        WebhookDelivery,
    )

    def first(column, *where) -> int:
        return db.session.scalar(select(column).where(*where).order_by(column).limit(1)) or 0

    manager = db.session.merge(ctx["users"]["manager"])
    delivery = db.session.scalar(select(WebhookDelivery).limit(1))
    # A fixed secret, not a new one each run: two benches on one dataset would otherwise
    # each revoke the other's feed URL (the feed stores the secret's digest only).
    token = f"bench-calendar-{manager.id}"
    if manager.calendar_token != calendar._digest(token):
        manager.calendar_token = calendar._digest(token)
        db.session.commit()
        for user in ctx["users"].values():  # loaded again: the commit expired them
            db.session.refresh(user)
    today = datetime.now(UTC).astimezone(user_zone(manager)).date()
    monday = periods.starts_on_for(PlanKind.WEEK, today)
    return {
        "profile_id": first(
            CompetitorProfile.id,
            CompetitorProfile.customer_id.in_(
                select(Customer.id).where(Customer.owner_id == manager.id)
            ),
        ),
        "competitor_id": first(Competitor.id),
        "industry_id": first(Industry.id),
        "stage_id": first(Stage.id),
        "kind_id": first(DocumentKind.id),
        "handover_id": first(Handover.id),
        "message_id": first(OutboxMessage.id),
        "subscription_id": delivery.subscription_id if delivery else 0,
        "delivery_id": delivery.id if delivery else 0,
        "weight_set_id": first(AssessmentWeightSet.id),
        "calendar_token": token,
        "week_key": periods.week_key(monday),
        "assessment_quarter": assessment_periods.current(PeriodKind.QUARTER).previous().key,
    }
