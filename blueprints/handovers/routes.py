"""Handover pages: the record, select → preview → commit, one handover, undo."""

from __future__ import annotations

import secrets

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from blueprints.common import confirm_or_ask, write
from blueprints.common import show_error as _show_error
from blueprints.handovers import bp
from blueprints.handovers.forms import ConfirmForm, HandoverForm
from crm.extensions import db
from crm.permissions import get_customer_or_404, get_in_scope_or_404, refuse
from crm.services.archive.search import CustomerFilters
from crm.services.errors import DomainError
from crm.services.handover import lists as handover_lists
from crm.services.handover import requests as handover_requests
from crm.services.handover.scope import in_scope_now, shown_counts
from crm.services.handover.transfer import (
    HandoverOptions,
    Selection,
    SelectionChanged,
    may_hand_over,
    preview,
)
from crm.services.handover.undo import can_undo, undo, undo_deadline
from crm.services.people import users as user_service
from models import Handover

SELECTION_PREFIX = "sel_"


def _selection(args, prefix: str = "") -> Selection:
    """The selection from the URL (GET) or from the form's sel_* inputs (POST)."""
    values = {key[len(prefix) :]: args.get(key) for key in args if key.startswith(prefix)}
    ids = [int(i) for i in args.getlist(prefix + "ids") if i.isdigit()][:1000]
    return Selection(filters=CustomerFilters.from_args(values), ids=ids)


def _require_hand_over() -> None:
    if not may_hand_over(current_user):
        refuse(403, "handover", current_user)


@bp.route("/")
@login_required
def index():
    stmt = handover_lists.handovers_newest_first(viewer=current_user)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    shown = shown_counts([h.id for h in page.items], current_user)
    pending = handover_lists.pending_request_count(viewer=current_user)
    return render_template(
        "handovers/index.html",
        page=page,
        shown=shown,
        pending=pending,
        may_hand_over=may_hand_over(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _require_hand_over()
    form = HandoverForm()
    if request.method == "POST":
        selection = _selection(request.form, SELECTION_PREFIX)
        pending = handover_lists.pending_request(form.request_id.data, viewer=current_user)
    else:
        selection = _selection(request.args)
        pending = handover_lists.pending_request(request.args.get("request"), viewer=current_user)
        if pending is not None:
            selection = Selection(ids=[pending.customer_id])
            form.to_owner.data = pending.to_owner_id or 0
            form.note.data = pending.note
            form.request_id.data = str(pending.id)
        elif request.args.get("to", "").isdigit():
            form.to_owner.data = int(request.args["to"])
    # The pickers' short lists hold the chosen new owner and the filter's current owner.
    owner_picker = url_for("people.pick", role=handover_lists.TARGET_ROLES)
    form.offer_owners(
        handover_lists.owners_to_hand_to(viewer=current_user, chosen=form.to_owner.data),
        owner_picker,
    )
    owners = handover_lists.owners_to_hand_to(
        viewer=current_user,
        chosen=int(selection.filters.owner) if selection.filters.owner else None,
        with_username=False,  # the current-owner filter, as the lists' owner filters
    )
    result, status = None, 200
    if form.validate_on_submit():
        to_owner = user_service.user_by_id(form.to_owner.data)
        options = HandoverOptions(
            open_opportunities=form.open_opportunities.data,
            pending_reminders=form.pending_reminders.data,
            closed_opportunities=form.closed_opportunities.data,
        )
        if form.commit.data and form.token.data:
            done = _commit(form, selection, to_owner, options, pending)
            if done is not None:
                return done
            status = 409 if form.fingerprint.errors else 400
        elif form.preview.data:
            form.token.data = secrets.token_urlsafe(24)  # a new preview is a new handover
        try:
            result = preview(
                actor=current_user, selection=selection, to_owner=to_owner, options=options
            )
            form.fingerprint.data = result.fingerprint
            form.token.data = form.token.data or secrets.token_urlsafe(24)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            status = 400
    elif form.is_submitted():
        status = 400
    page = db.paginate(
        handover_lists.selected_customers(selection, viewer=current_user),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "handovers/new.html",
        form=form,
        selection=selection,
        selection_args=selection.filters.as_args(),
        prefix=SELECTION_PREFIX,
        page=page,
        total=handover_lists.selected_customer_count(selection, viewer=current_user),
        owners=owners,
        owner_picker=owner_picker,
        result=result,
        pending=pending,
    ), status


def _commit(form, selection, to_owner, options, pending):
    """Hand over; the redirect on success, or None after showing why not."""

    def done(handover) -> str:
        return _(
            "%(n)d customers are handed over to %(name)s.",
            n=handover.customers_count,
            name=handover.to_owner.display_name,
        )

    def to(handover) -> str:
        return url_for("handovers.show", handover_id=handover.id)

    try:
        outcome = write(
            lambda: handover_requests.hand_over_answering(
                pending,
                actor=current_user,
                selection=selection,
                to_owner=to_owner,
                options=options,
                note=form.note.data,
                reason=form.reason.data,
                token=form.token.data,
                expected_fingerprint=form.fingerprint.data,
            ),
            done=done,
            to=to,
            form=form,
        )
    except IntegrityError:
        # The same form submitted twice at once: the other request handed over.
        db.session.rollback()
        handover = handover_lists.handover_by_token(form.token.data)
        if handover is None:
            raise
        flash(done(handover), "success")
        return redirect(to(handover))
    if isinstance(outcome.error, SelectionChanged):
        flash(str(outcome.error.message), "warning")
    return outcome.response


@bp.route("/<int:handover_id>")
@login_required
def show(handover_id: int):
    handover = get_in_scope_or_404(Handover, handover_id, current_user)
    rows = handover_lists.customer_rows_by_name(handover, viewer=current_user)
    page = db.paginate(rows, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    shown = shown_counts([handover.id], current_user)[handover.id]
    if not shown.visible:
        refuse(404, f"handover {handover_id} (no customer in scope)", current_user)
    # Whom a customer is with now is shown only while it is in the viewer's scope.
    owner_shown = in_scope_now([row.customer_id for row in page.items], current_user)
    related = handover_lists.related_handovers(handover, viewer=current_user)
    return render_template(
        "handovers/show.html",
        handover=handover,
        page=page,
        shown=shown,
        owner_shown=owner_shown,
        related=related,
        can_undo=can_undo(handover, current_user),
        undo_until=undo_deadline(handover),
        confirm_form=ConfirmForm(),
    )


@bp.route("/<int:handover_id>/undo", methods=["POST"])
@login_required
def undo_handover(handover_id: int):
    handover = get_in_scope_or_404(Handover, handover_id, current_user)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("handovers.show", handover_id=handover.id))
    confirm_or_ask(
        _("Undo this handover? Its customers go back to their previous owners."),
        button=_("Undo this handover"),
        back=url_for("handovers.show", handover_id=handover.id),
    )
    outcome = write(
        lambda: undo(handover, actor=current_user),
        done=lambda report: _("%(n)d customers are handed back.", n=report.moved_back),
        to=lambda report: url_for("handovers.show", handover_id=report.handovers[0].id),
        back=url_for("handovers.show", handover_id=handover_id),
    )
    report = outcome.result
    if report is None:
        return outcome.response
    if report.moved_on:
        flash(
            _(
                "%(n)d customers were handed on since and stay with their current owner.",
                n=report.moved_on,
            ),
            "warning",
        )
    if report.changed_since:
        flash(
            _(
                "%(n)d customers were changed since the handover; they went back as they are now.",
                n=report.changed_since,
            ),
            "info",
        )
    return outcome.response


@bp.route("/customers/<int:customer_id>")
@login_required
def customer_history(customer_id: int):
    """The ownership history of one customer: every handover it was part of."""
    customer = get_customer_or_404(customer_id, current_user)
    rows = handover_lists.ownership_history(customer)
    return render_template("handovers/customer_history.html", customer=customer, rows=rows)
