"""The customer's site (where on-site check-ins are measured from), set by an administrator.

Managers set it from a check-in on the visit form ("this is the customer's site");
an administrator sets, corrects or clears it here, from the customer page.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import write
from blueprints.customers import bp
from blueprints.visits.forms import SiteForm
from crm.permissions import admin_required, get_customer_or_404
from crm.services.activity import check_in as check_in_service


@bp.route("/<int:customer_id>/site", methods=["POST"])
@admin_required
def set_site(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    page = url_for("customers.show", customer_id=customer.id, _anchor="customer-site")
    form = SiteForm()
    status = 400
    if form.validate_on_submit():
        outcome = write(
            lambda: check_in_service.set_customer_site(
                customer, actor=current_user, lat=form.site_lat.data, lng=form.site_lng.data
            ),
            done=lambda saved: (
                _("The site of %(name)s is saved.", name=customer.name)
                if saved.site_lat is not None
                else _("The site of %(name)s is cleared.", name=customer.name)
            ),
            to=page,
            form=form,
        )
        if outcome.response:
            return outcome.response
        status = outcome.status
    # A refused site is shown on a page of its own, with each field's message.
    return render_template("customers/site.html", customer=customer, form=form, back=page), status
