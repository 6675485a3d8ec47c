"""Visit cadences per tier (admins only): how often each tier must be visited."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.visits import cadences_bp
from blueprints.visits.forms import CadenceForm
from crm.extensions import db
from crm.permissions import admin_required
from crm.services import cadence as cadence_service
from crm.services.errors import DomainError
from models import Tier


@cadences_bp.route("/cadences", methods=["GET", "POST"])
@admin_required
def edit():
    stored = cadence_service.cadence_days()
    form = CadenceForm(data={CadenceForm.field_name(t): d for t, d in stored.items()})
    if form.validate_on_submit():
        try:
            cadence_service.set_cadences(form.days(), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors.append(str(error.message))
            else:
                flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("The visit cadences are saved."), "success")
            return redirect(url_for("cadences.edit"))
    fields = [(tier, form[CadenceForm.field_name(tier)]) for tier in Tier]
    return render_template("visits/cadences.html", form=form, fields=fields), (
        400 if form.errors else 200
    )
