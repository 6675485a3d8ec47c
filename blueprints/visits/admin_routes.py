"""Visit cadences per tier (admins only): how often each tier must be visited."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import write
from blueprints.visits import cadences_bp
from blueprints.visits.forms import CadenceForm
from crm.permissions import admin_required
from crm.services.activity import cadence as cadence_service
from models import Tier


@cadences_bp.route("/cadences", methods=["GET", "POST"])
@admin_required
def edit():
    stored = cadence_service.cadence_days()
    form = CadenceForm(data={CadenceForm.field_name(t): d for t, d in stored.items()})
    if form.validate_on_submit():
        outcome = write(
            lambda: cadence_service.set_cadences(form.days(), actor=current_user),
            done=_("The visit cadences are saved."),
            to=url_for("cadences.edit"),
            form=form,
        )
        if outcome.response:
            return outcome.response
    fields = [(tier, form[CadenceForm.field_name(tier)]) for tier in Tier]
    return render_template("visits/cadences.html", form=form, fields=fields), (
        400 if form.errors else 200
    )
