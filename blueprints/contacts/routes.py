"""Contacts: the people at each customer, their reporting lines and the relationship map."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import contains_eager

from blueprints.common import confirm_or_ask, require_confirmation, write
from blueprints.contacts import bp
from blueprints.contacts.forms import FIELD_LABELS, ConfirmForm, ContactForm
from blueprints.paging import paginate_up_to_a_bound
from crm.labels import label
from crm.permissions import get_customer_or_404, get_in_scope_or_404
from crm.services import audit
from crm.services.archive import contacts as contact_service
from models import Attitude, AuditAction, AuditEntry, BuyingRole, Contact, Customer

# Loaded with each Contact its pages show.
CONTACT_PAGE = (contains_eager(Contact.customer),)


def _shown(name: str, value: Any, names: dict[int, str]) -> str:
    """An audited value as the user reads it."""
    if value is None or value == "":
        return "—"
    if name == "role":
        return label(BuyingRole(value))
    if name == "attitude":
        return label(Attitude(value))
    if name == "reports_to_id":
        return names.get(value, f"#{value}")
    if name == "active":
        return _("Yes") if value else _("No")
    if name == "strength":
        return f"{'●' * int(value)}{'○' * (5 - int(value))}"
    return str(value)


def _value_rows(values: dict[str, Any], names: dict[int, str]) -> list[tuple[str, str]]:
    return [
        (str(FIELD_LABELS.get(name, name)), _shown(name, value, names))
        for name, value in values.items()
    ]


def _history(contact: Contact, names: dict[int, str]) -> list[tuple[AuditEntry, list]]:
    """The contact's audit entries, newest first, with their changes made readable."""
    rows = []
    for entry in contact_service.contact_history(contact):
        if entry.action is AuditAction.UPDATE:
            changes = [
                (
                    str(FIELD_LABELS.get(name, name)),
                    _shown(name, pair[0], names),
                    _shown(name, pair[1], names),
                )
                for name, pair in entry.changes.items()
            ]
        else:
            shown = {k: v for k, v in entry.changes.items() if v not in (None, "")}
            changes = [(text, "", value) for text, value in _value_rows(shown, names)]
        rows.append((entry, changes))
    return rows


# Pages -----------------------------------------------------------------------


@bp.route("/contacts/")
@login_required
def index():
    filters = contact_service.ContactFilters.from_args(request.args)
    # An admin's search matched 40,000 of 300,000 contacts at province: counting them all
    # cost 170-270 ms of the page; it counts up to a bound past the page.
    page = paginate_up_to_a_bound(contact_service.search_contacts(current_user, filters))
    return render_template(
        "contacts/index.html", page=page, filters=filters, roles=list(BuyingRole)
    )


@bp.route("/contacts/<int:contact_id>")
@login_required
def show(contact_id: int):
    contact = get_in_scope_or_404(Contact, contact_id, current_user, *CONTACT_PAGE)
    colleagues = contact_service.customer_contacts(contact.customer)
    names = {c.id: c.name for c in colleagues}
    reports = sorted(
        (c for c in colleagues if c.reports_to_id == contact.id), key=contact_service.tree_order
    )
    return render_template(
        "contacts/show.html",
        contact=contact,
        customer=contact.customer,
        chain=contact_service.reporting_chain(contact, colleagues),
        reports=reports,
        history=_history(contact, names),
        confirm_form=ConfirmForm(),
    )


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@login_required
def new(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    form = ContactForm(managers=contact_service.possible_managers(customer))
    if not form.is_submitted():
        form.strength.data = 3
        form.reports_to_id.data = request.args.get("reports_to", 0, type=int)
    if form.validate_on_submit():
        outcome = write(
            lambda: contact_service.create_contact(
                customer, actor=current_user, **form.contact_fields()
            ),
            done=lambda contact: _("%(name)s is added to the contacts.", name=contact.name),
            to=url_for("customers.show", customer_id=customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
    status = 400 if form.errors else 200
    return render_template("contacts/form.html", form=form, customer=customer, contact=None), status


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    contact = get_in_scope_or_404(Contact, contact_id, current_user, *CONTACT_PAGE)
    customer = contact.customer
    managers = contact_service.possible_managers(customer, contact)
    form = ContactForm(obj=contact, managers=managers)
    if not form.is_submitted():
        form.role.data = contact.role.value
        form.attitude.data = contact.attitude.value
        form.reports_to_id.data = contact.reports_to_id or 0
        form.version.data = contact.version
    current = None
    if form.validate_on_submit():
        outcome = write(
            lambda: contact_service.update_contact(
                contact, actor=current_user, version=form.version.data, **form.contact_fields()
            ),
            done=lambda saved: _("Changes to %(name)s are saved.", name=contact.name),
            to=url_for("contacts.show", contact_id=contact.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:
            current = _value_rows(
                audit.snapshot(contact, contact_service.FIELDS),
                {c.id: c.name for c in contact_service.customer_contacts(customer)},
            )
            # Saving again now deliberately replaces what the other person saved.
            form.version.data = contact.version
    status = 409 if current else 400 if form.errors else 200
    return render_template(
        "contacts/form.html", form=form, customer=customer, contact=contact, current=current
    ), status


def _set_active(contact_id: int, active: bool):
    contact = get_in_scope_or_404(Contact, contact_id, current_user, *CONTACT_PAGE)
    if active:
        require_confirmation()
    else:
        confirm_or_ask(
            _("Mark %(name)s as having left the company?", name=contact.name),
            button=_("Mark as left the company"),
        )
    back = url_for("contacts.show", contact_id=contact.id)
    if active:
        done = _("%(name)s is an active contact again.", name=contact.name)
    else:
        done = _("%(name)s is marked as having left the company.", name=contact.name)
    return write(
        lambda: contact_service.set_contact_active(contact, active, actor=current_user),
        done=done,
        to=back,
        back=back,
    ).response


@bp.route("/contacts/<int:contact_id>/deactivate", methods=["POST"])
@login_required
def deactivate(contact_id: int):
    return _set_active(contact_id, False)


@bp.route("/contacts/<int:contact_id>/reactivate", methods=["POST"])
@login_required
def reactivate(contact_id: int):
    return _set_active(contact_id, True)


@bp.route("/customers/<int:customer_id>/map")
@login_required
def relationship_map(customer_id: int):
    customer: Customer = get_customer_or_404(customer_id, current_user)
    contacts = contact_service.customer_contacts(customer)
    return render_template(
        "contacts/map.html",
        customer=customer,
        tree=contact_service.build_tree(contacts),
        former=[c for c in contacts if not c.active],
        has_decision_maker=any(c.active and c.role is BuyingRole.DECISION_MAKER for c in contacts),
        roles=list(BuyingRole),
        attitudes=list(Attitude),
    )
