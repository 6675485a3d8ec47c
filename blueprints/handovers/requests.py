"""Handover requests: a manager asks, the supervisor approves (through the preview) or declines."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import confirm_or_ask, write
from blueprints.handovers import bp
from blueprints.handovers.forms import DeclineForm, RequestForm
from crm.extensions import db
from crm.permissions import get_customer_or_404, get_in_scope_or_404, refuse
from crm.services.handover import lists as handover_lists
from crm.services.handover import requests as handover_requests
from crm.services.handover.transfer import may_hand_over
from crm.services.people import users as user_service
from models import HandoverRequest


@bp.route("/requests")
@login_required
def requests():
    stmt = handover_lists.requests_pending_first(viewer=current_user)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    q = (request.args.get("q") or "").strip()[:100]
    matches = []
    if q:  # a manager finds the customer to ask about among their own
        matches = handover_lists.own_customers_named(q, viewer=current_user)
    return render_template(
        "handovers/requests.html",
        page=page,
        q=q,
        matches=matches,
        decides=may_hand_over(current_user),
        decline_form=DeclineForm(formdata=None),
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    customer_id = request.values.get("customer", "")
    if not customer_id.isdigit():
        refuse(404, "handover request without customer", current_user)
    customer = get_customer_or_404(int(customer_id), current_user)
    form = RequestForm(owners=handover_lists.colleagues(viewer=current_user))
    if form.validate_on_submit():
        to_owner = user_service.user_by_id(form.to_owner.data)
        outcome = write(
            lambda: handover_requests.request_handover(
                customer, actor=current_user, to_owner=to_owner, note=form.note.data
            ),
            done=lambda _result: _(
                "Your supervisor has been asked to hand over %(name)s.", name=customer.name
            ),
            to=url_for("handovers.requests"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template(
        "handovers/request_new.html", form=form, customer=customer
    ), 400 if form.is_submitted() else 200


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@login_required
def decline_request(request_id: int):
    pending = get_in_scope_or_404(HandoverRequest, request_id, current_user)
    confirm_or_ask(_("Decline this handover request?"), button=_("Decline"))
    form = DeclineForm()
    if not form.validate_on_submit():
        return redirect(url_for("handovers.requests"))
    return write(
        lambda: handover_requests.decline(pending, actor=current_user, note=form.note.data),
        done=_("The request is declined."),
        category="info",
        to=url_for("handovers.requests"),
        back=url_for("handovers.requests"),
    ).response
