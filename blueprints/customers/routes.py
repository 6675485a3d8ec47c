"""Customer list, customer page, and creating, editing and deleting customers."""

from __future__ import annotations

from types import SimpleNamespace

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, load_only
from werkzeug.routing import BuildError

from blueprints.common import confirm_or_ask, write
from blueprints.customers import bp, history
from blueprints.customers.forms import ConfirmForm, CustomerEditForm, CustomerForm
from blueprints.customers.timeline import timeline_page, timeline_url
from blueprints.reminders.routes import due_text
from crm.extensions import db
from crm.permissions import (
    admin_required,
    get_customer_or_404,
    get_in_scope_or_404,
)
from crm.services import audit
from crm.services.activity import timeline as timeline_service
from crm.services.archive import customers as customer_service
from crm.services.archive import hub as customer_hub
from crm.services.archive import reference as reference_service
from crm.services.archive import search as customer_search
from crm.services.archive.groups import group_tree
from crm.services.archive.search import CustomerFilters, search_customers
from crm.services.errors import DomainError
from crm.services.figures import panels as figures_panels
from crm.services.figures.trend import TREND_BANDS
from models import (
    BuyingRole,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerStatus,
    Strategy,
    Tier,
    User,
)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


LIST_COLUMNS = (
    Customer.name,
    Customer.tier,
    Customer.strategy,
    Customer.industry_id,
    Customer.region,
    Customer.status,
    Customer.owner_id,
    Customer.annual_spend,
    Customer.contract_expiry,
    Customer.revenue_trend,
)


@bp.route("/")
@login_required
def index():
    filters = CustomerFilters.from_args(request.args)
    stmt = search_customers(current_user, filters).options(
        # The list's columns, not the whole archive record (address, notes, products...).
        load_only(*LIST_COLUMNS),
        joinedload(Customer.owner).load_only(User.display_name),
        joinedload(Customer.industry),
    )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    ids = [customer.id for customer in page.items]
    sees_owners = not current_user.is_manager
    return render_template(
        "customers/index.html",
        page=page,
        filters=filters,
        with_decision_maker=customer_search.with_decision_maker(ids),
        industries=reference_service.all_industries(),
        regions=customer_search.regions_in_scope(viewer=current_user),
        owners=(
            customer_search.owner_filter_choices(viewer=current_user, chosen=filters.owner)
            if sees_owners
            else None
        ),
        filtered=bool(set(filters.as_args()) - {"sort"}),
        tiers=list(Tier),
        trend_bands=TREND_BANDS,
        strategies=list(Strategy),
        statuses=list(CustomerStatus),
        locale=_locale(),
    )


# The customer page ----------------------------------------------------------


# Loaded with the customer: everything its page and the included partials show.
CUSTOMER_PAGE = (
    joinedload(Customer.owner),
    joinedload(Customer.industry),
    joinedload(Customer.created_by),
    joinedload(Customer.updated_by),
    # Contacts and competitor profiles ride in the customer's statement: a customer has a
    # few dozen contacts and a handful of competitors, so their product stays small.
    joinedload(Customer.contacts).joinedload(Contact.reports_to),
    joinedload(Customer.competitor_profiles).joinedload(CompetitorProfile.competitor),
    joinedload(Customer.health),  # the health panel's one row
    *figures_panels.SUMMARY,  # the figures line's two months
)


def _optional_url(endpoint: str, **values) -> str | None:
    """A link to a page another part of the archive may not provide yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.route("/<int:customer_id>")
@login_required
def show(customer_id: int):
    customer = get_in_scope_or_404(Customer, customer_id, current_user, *CUSTOMER_PAGE)
    has_decision_maker = any(
        c.role is BuyingRole.DECISION_MAKER and c.active for c in customer.contacts
    )
    return render_template(
        "customers/show.html",
        customer=customer,
        tree=group_tree(customer, actor=current_user),
        has_decision_maker=has_decision_maker,
        add_contact_url=_optional_url("contacts.new", customer_id=customer.id),
        opportunities=customer_hub.customer_opportunities(customer, actor=current_user),
        follow_ups=customer_hub.customer_follow_ups(customer, actor=current_user),
        due_text=due_text,
        timeline=timeline_page(customer, limit=timeline_service.LATEST),
        timeline_sources=timeline_service.SOURCES,
        timeline_url=timeline_url,
        locale=_locale(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/<int:customer_id>/timeline")
@login_required
def timeline(customer_id: int):
    """The customer's whole timeline, a page at a time (the customer page shows the newest)."""
    customer = get_customer_or_404(customer_id, current_user)
    return render_template(
        "customers/timeline.html",
        customer=customer,
        timeline=timeline_page(customer, limit=timeline_service.PAGE_SIZE),
        timeline_sources=timeline_service.SOURCES,
        timeline_url=timeline_url,
        full_timeline=True,
    )


# Creating and editing -------------------------------------------------------


def _form(form_cls, customer: Customer | None = None, *, parent: int | None = None, **kwargs):
    """The customer form with its pickers' short lists, which hold the chosen parent and owner:
    submitted, asked for (`parent`), the record's, or (a new customer's owner) the user."""
    form = form_cls(
        industries=reference_service.selectable_industries(
            customer.industry_id if customer else None
        ),
        locale=_locale(),
        **kwargs,
    )
    if form.is_submitted():
        parent, owner = form.parent_id.data, form.owner_id.data
    elif customer is not None:
        parent, owner = customer.parent_id, customer.owner_id
    else:
        owner = current_user.id
    form.offer(
        parents=customer_service.parent_choices(customer, actor=current_user, chosen=parent),
        owners=customer_service.owner_choices(customer, actor=current_user, chosen=owner),
        urls={
            "parent_id": url_for("customers.pick"),
            "owner_id": url_for("people.pick"),
        },
    )
    return form


def _refusal_context(error: DomainError | None) -> dict:
    """What the form shows beside a refusal: the similar names or the duplicate found."""
    context: dict = {}
    if isinstance(error, customer_service.SimilarNames):
        context["similar"] = error.similar
        context["visible_similar"] = customer_service.visible_ids(error.similar, current_user)
    if isinstance(error, customer_service.DuplicateCreditCode):
        # Out of scope the field's message says whom to ask: the customer stays unnamed.
        context["duplicate"] = error.existing if error.visible else None
    return context


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    parent = request.args.get("parent", type=int)
    form = _form(CustomerForm, parent=parent)
    context: dict = {}
    if not form.is_submitted():
        form.tier.data, form.status.data = "C", "prospect"
        if "owner_id" in form:
            form.owner_id.data = current_user.id
        if parent in {choice[0] for choice in form.parent_id.iter_choices()}:
            form.parent_id.data = parent  # in the short list: the parent is in scope
    if form.validate_on_submit():
        outcome = write(
            lambda: customer_service.create_customer(
                actor=current_user,
                confirm_duplicate=form.confirm_duplicate.data,
                **form.profile_values(),
            ),
            done=lambda customer: _("Customer %(name)s is created.", name=customer.name),
            to=lambda customer: url_for("customers.show", customer_id=customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        context = _refusal_context(outcome.error)
    status = 400 if form.errors or context else 200
    return render_template("customers/new.html", form=form, **context), status


def _comparison(customer: Customer, submitted: dict) -> list[history.Comparison]:
    fields = customer_service.PROFILE_FIELDS
    stored = {name: getattr(customer, name) for name in fields}
    return history.side_by_side(
        audit.snapshot(SimpleNamespace(**stored), fields),
        audit.snapshot(SimpleNamespace(**(stored | submitted)), fields),
        _locale(),
    )


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    form = _form(CustomerEditForm, customer, obj=customer)
    context: dict = {}
    if not form.is_submitted():
        form.show_customer(customer)
    if form.validate_on_submit():
        outcome = write(
            lambda: customer_service.update_customer(
                customer,
                actor=current_user,
                version=form.version.data,
                confirm_duplicate=form.confirm_duplicate.data,
                **form.profile_values(),
            ),
            done=lambda saved: _("Changes to %(name)s are saved.", name=customer.name),
            to=url_for("customers.show", customer_id=customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        context = _refusal_context(outcome.error)
        if outcome.stale:  # the customer reloaded with what the other user saved
            context["stale"] = str(outcome.stale.message)
            context["comparison"] = _comparison(customer, form.profile_values())
            # Saving again now is a deliberate choice made with their values in view.
            form.version.data = customer.version
    status = 409 if "stale" in context else 400 if form.errors or context else 200
    return render_template(
        "customers/edit.html",
        form=form,
        customer=customer,
        locale=_locale(),
        **context,
    ), status


@bp.route("/<int:customer_id>/delete", methods=["POST"])
@admin_required
def delete(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    confirm_or_ask(
        _("Delete %(name)s? This cannot be undone.", name=customer.name), button=_("Delete")
    )
    return write(
        lambda: customer_service.delete_customer(customer, actor=current_user),
        done=_("Customer %(name)s is deleted.", name=customer.name),
        to=url_for("customers.index"),
        back=url_for("customers.show", customer_id=customer_id),
    ).response
