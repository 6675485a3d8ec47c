"""Marking a customer lost: why it left and to which competitor."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import write
from blueprints.customers import bp
from blueprints.customers.forms import LostCustomerForm
from crm.permissions import get_customer_or_404
from crm.services.archive import competitors as competitor_service
from crm.services.archive import loss


@bp.route("/<int:customer_id>/lost", methods=["GET", "POST"])
@login_required
def mark_lost(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    form = LostCustomerForm(competitors=loss.loss_competitors(customer))
    stale = None
    if not form.is_submitted():
        form.version.data = customer.version
        if customer.lost_reason:  # correcting the reason of a customer lost already
            form.reason.data = customer.lost_reason.value
            form.competitor_id.data = customer.lost_to_id or 0
            form.note.data = customer.lost_note
    if form.validate_on_submit():
        outcome = write(
            lambda: loss.mark_lost(
                customer,
                actor=current_user,
                reason=form.reason.data,
                competitor=competitor_service.competitor_by_id(form.competitor_id.data)
                if form.competitor_id.data
                else None,
                note=form.note.data,
                version=form.version.data,
            ),
            done=_("%(name)s is marked lost.", name=customer.name),
            to=url_for("customers.show", customer_id=customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:  # the customer reloaded with what the other user saved
            stale = str(outcome.stale.message)
            form.version.data = customer.version
        status = outcome.status
    else:
        status = 400 if form.errors else 200
    return render_template("customers/lost.html", customer=customer, form=form, stale=stale), status
