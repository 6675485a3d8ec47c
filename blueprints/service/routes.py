"""After-sale service tickets: the list, a new ticket, one ticket and its changes."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import write
from blueprints.paging import paginate_up_to_a_bound
from blueprints.service import bp
from blueprints.service.forms import (
    CloseForm,
    HandlerForm,
    ReopenForm,
    ResolveForm,
    StartForm,
    TicketForm,
)
from crm.permissions import get_customer_or_404, get_in_scope_or_404
from crm.services.archive import hub as customer_hub
from crm.services.archive import picker as customer_picker
from crm.services.archive import search as customer_search
from crm.services.tickets import lifecycle, sla, summary
from crm.services.tickets.search import TicketFilters, customer_in_filter, search_tickets
from crm.services.tickets.timeline import due_in_owner_zone
from models import (
    Customer,
    ServiceTicket,
    TicketCategory,
    TicketEvent,
    TicketKind,
    TicketSeverity,
    TicketStatus,
)
from models.base import utcnow

MATCH_LIMIT = 30
MAX_PAGE = 100_000  # a page number out of the database's integer range is the last page


@bp.app_template_global()
def service_panel(customer: Customer) -> summary.TicketCounts:
    """The customer page's service panel: its counts (read with its timeline, mostly)."""
    return summary.customer_ticket_counts(customer)


@bp.context_processor
def ticket_helpers() -> dict:
    return {"due_text": due_text, "is_overdue": sla.is_overdue}


def due_text(ticket: ServiceTicket) -> str:
    """The due time on the owner's clock; the zone is named when it is not the viewer's."""
    owner = ticket.customer.owner  # the customer's manager now (loaded with every list line)
    text = due_in_owner_zone(ticket, owner)
    zone = owner.timezone or "Asia/Shanghai"
    if zone == (current_user.timezone or "Asia/Shanghai"):
        text = text.rsplit(" (", 1)[0]
    return text


# The list -----------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    filters = TicketFilters.from_args(request.args)
    # An admin's list holds every team's open tickets (30,000 at province): counted up to a
    # bound past the page, as the opportunity list is.
    page = paginate_up_to_a_bound(
        search_tickets(current_user, filters),
        page=min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE),
    )
    sees_owners = not current_user.is_manager
    return render_template(
        "service/index.html",
        page=page,
        filters=filters,
        now=utcnow(),
        customer=customer_in_filter(filters, viewer=current_user),
        owners=(
            customer_search.owner_filter_choices(viewer=current_user, chosen=filters.owner)
            if sees_owners
            else None
        ),
        statuses=list(TicketStatus),
        kinds=list(TicketKind),
        categories=list(TicketCategory),
        severities=list(TicketSeverity),
        filtered=bool(set(filters.as_args()) - {"sort"}),
    )


# A new ticket ---------------------------------------------------------------------------


def _pick_customer():
    """Without a customer id: find one in my portfolio first."""
    q = (request.args.get("q") or "").strip()[:100]
    matches = []
    if q:
        matches = customer_picker.customers_matching(q, viewer=current_user, limit=MATCH_LIMIT)
    return render_template("service/pick.html", q=q, matches=matches)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    customer_id = request.args.get("customer_id", type=int)
    if not customer_id:
        return _pick_customer()
    customer = get_customer_or_404(customer_id, current_user)
    form = TicketForm(
        contacts=customer_hub.contact_choices(customer),
        handlers=lifecycle.handler_choices(customer),
    )
    if form.validate_on_submit():
        outcome = write(
            lambda: lifecycle.open_ticket(
                customer,
                actor=current_user,
                kind=form.kind.data,
                category=form.category.data,
                severity=form.severity.data,
                title=form.title.data,
                description=form.description.data,
                raised_by_id=form.raised_by_id.data or None,
                handler_id=form.handler_id.data or None,
            ),
            done=lambda ticket: _(
                "Ticket #%(id)d is open for %(name)s, due %(due)s.",
                id=ticket.id,
                name=customer.name,
                due=due_text(ticket),
            ),
            to=lambda ticket: url_for("service.show", ticket_id=ticket.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return render_template(
        "service/new.html", form=form, customer=customer, sla_hours=sla.sla_table()
    ), 400 if form.errors else 200


# One ticket -------------------------------------------------------------------------------

# Loaded with the ticket: what its page shows, its history included.
TICKET_PAGE = (
    joinedload(ServiceTicket.customer).joinedload(Customer.owner),
    joinedload(ServiceTicket.raised_by),
    joinedload(ServiceTicket.owner),
    joinedload(ServiceTicket.handler),
    joinedload(ServiceTicket.created_by),
    selectinload(ServiceTicket.events).joinedload(TicketEvent.actor),
    selectinload(ServiceTicket.events).joinedload(TicketEvent.handler),
)
FORMS = {
    "start": StartForm,
    "resolve": ResolveForm,
    "close": CloseForm,
    "reopen": ReopenForm,
    "assign": HandlerForm,
}


def _load(ticket_id: int) -> ServiceTicket:
    return get_in_scope_or_404(ServiceTicket, ticket_id, current_user, *TICKET_PAGE)


def _show_page(ticket: ServiceTicket, *, failed=None, stale: bool = False):
    """The ticket with the changes its status allows; `failed`: a refused form to show again."""
    allowed = lifecycle.allowed_actions(ticket)
    handlers = lifecycle.handler_choices(ticket.customer, keep=ticket.handler_id)
    forms = {}
    for action in allowed:
        extra = (
            {"handlers": handlers, "handler_id": ticket.handler_id} if action == "assign" else {}
        )
        forms[action] = FORMS[action](formdata=None, version=ticket.version, **extra)
    if failed is not None:
        if stale:
            failed.version.data = str(ticket.version)  # seen what is stored: may go on from it
        action = next(name for name, cls in FORMS.items() if isinstance(failed, cls))
        if action in allowed:
            forms[action] = failed
    return render_template(
        "service/show.html",
        ticket=ticket,
        forms=forms,
        stale=stale,
        overdue=sla.is_overdue(ticket),
        revisit=lifecycle.revisit_of(ticket, viewer=current_user),
    )


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    return _show_page(_load(ticket_id))


def _change(ticket_id: int, form, change, done_message: str):
    """Validate, change, commit once, back to the ticket; on any refusal nothing is saved."""
    ticket = _load(ticket_id)
    if not form.validate_on_submit():
        return _show_page(ticket, failed=form), 400
    outcome = write(
        lambda: change(ticket, form),
        done=done_message,
        to=url_for("service.show", ticket_id=ticket_id),
        form=form,
    )
    if outcome.response:
        return outcome.response
    if outcome.stale:
        flash(str(outcome.stale.message), "warning")
    return _show_page(_load(ticket_id), failed=form, stale=bool(outcome.stale)), outcome.status


@bp.route("/<int:ticket_id>/start", methods=["POST"])
@login_required
def start(ticket_id: int):
    return _change(
        ticket_id,
        StartForm(),
        lambda t, f: lifecycle.start(
            t, actor=current_user, version=f.version.data, note=f.note.data
        ),
        _("The ticket is in progress."),
    )


@bp.route("/<int:ticket_id>/resolve", methods=["POST"])
@login_required
def resolve(ticket_id: int):
    return _change(
        ticket_id,
        ResolveForm(),
        lambda t, f: lifecycle.resolve(
            t, actor=current_user, version=f.version.data, resolution=f.resolution.data
        ),
        _("The ticket is resolved; the owner has a follow-up to revisit the customer."),
    )


@bp.route("/<int:ticket_id>/close", methods=["POST"])
@login_required
def close(ticket_id: int):
    return _change(
        ticket_id,
        CloseForm(),
        lambda t, f: lifecycle.close(
            t,
            actor=current_user,
            version=f.version.data,
            satisfaction=f.score,
            comment=f.comment.data,
        ),
        _("The ticket is closed with the customer's answer at the revisit."),
    )


@bp.route("/<int:ticket_id>/reopen", methods=["POST"])
@login_required
def reopen(ticket_id: int):
    return _change(
        ticket_id,
        ReopenForm(),
        lambda t, f: lifecycle.reopen(
            t, actor=current_user, version=f.version.data, note=f.note.data
        ),
        _("The ticket is open again; its due time starts over."),
    )


@bp.route("/<int:ticket_id>/handler", methods=["POST"])
@login_required
def assign(ticket_id: int):
    ticket = _load(ticket_id)
    form = HandlerForm(handlers=lifecycle.handler_choices(ticket.customer, keep=ticket.handler_id))
    return _change(
        ticket_id,
        form,
        lambda t, f: lifecycle.assign_handler(
            t, actor=current_user, version=f.version.data, handler_id=f.handler_id.data
        ),
        _("The handler is set."),
    )
