"""Admin-editable reference data: industries and the competitor registry (admins only)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import confirm_or_ask, write
from blueprints.common import require_confirmation as _confirmed
from blueprints.reference import bp
from blueprints.reference.forms import CompetitorForm, ConfirmForm, IndustryForm
from crm.extensions import db
from crm.permissions import admin_required
from crm.services.archive import competitors as competitor_service
from crm.services.archive import reference as reference_service
from models import Competitor, Industry

# Industries -------------------------------------------------------------------


@bp.route("/industries")
@admin_required
def industries():
    return render_template(
        "reference/industries.html",
        industries=reference_service.all_industries(),
        usage=reference_service.industry_usage(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/industries/new", methods=["GET", "POST"])
@admin_required
def new_industry():
    form = IndustryForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: reference_service.create_industry(
                actor=current_user,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                position=form.position.data,
            ),
            done=lambda industry: _("Industry %(name)s is added.", name=industry.name_zh),
            to=url_for("reference.industries"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("reference/industry_form.html", form=form, industry=None), (
        400 if form.errors else 200
    )


@bp.route("/industries/<int:industry_id>", methods=["GET", "POST"])
@admin_required
def edit_industry(industry_id: int):
    industry = db.get_or_404(Industry, industry_id)
    form = IndustryForm(obj=industry)
    if form.validate_on_submit():
        outcome = write(
            lambda: reference_service.update_industry(
                industry,
                actor=current_user,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                position=form.position.data,
            ),
            done=lambda _result: _("Industry %(name)s is saved.", name=industry.name_zh),
            to=url_for("reference.industries"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("reference/industry_form.html", form=form, industry=industry), (
        400 if form.errors else 200
    )


@bp.route("/industries/<int:industry_id>/retire", methods=["POST"])
@admin_required
def retire_industry(industry_id: int):
    industry = db.get_or_404(Industry, industry_id)
    confirm_or_ask(_("Retire %(name)s? New choices no longer offer it.", name=industry.name_zh))
    return write(
        lambda: reference_service.set_industry_active(industry, actor=current_user, active=False),
        done=lambda _result: _(
            "%(name)s is retired: customers keep it, new choices no longer offer it.",
            name=industry.name_zh,
        ),
        to=url_for("reference.industries"),
        back=url_for("reference.industries"),
    ).response


@bp.route("/industries/<int:industry_id>/reactivate", methods=["POST"])
@admin_required
def reactivate_industry(industry_id: int):
    industry = db.get_or_404(Industry, industry_id)
    _confirmed()
    return write(
        lambda: reference_service.set_industry_active(industry, actor=current_user, active=True),
        done=lambda _result: _("%(name)s is offered again.", name=industry.name_zh),
        to=url_for("reference.industries"),
        back=url_for("reference.industries"),
    ).response


@bp.route("/industries/<int:industry_id>/delete", methods=["POST"])
@admin_required
def delete_industry(industry_id: int):
    industry = db.get_or_404(Industry, industry_id)
    confirm_or_ask(_("Delete %(name)s? This cannot be undone.", name=industry.name_zh))
    name = industry.name_zh
    return write(
        lambda: reference_service.delete_industry(industry, actor=current_user),
        done=_("Industry %(name)s is deleted.", name=name),
        to=url_for("reference.industries"),
        back=url_for("reference.industries"),
    ).response


# The competitor registry ------------------------------------------------------


@bp.route("/competitors")
@admin_required
def competitors():
    return render_template(
        "reference/competitors.html",
        competitors=competitor_service.all_competitors(),
        usage=competitor_service.competitor_usage(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/competitors/new", methods=["GET", "POST"])
@admin_required
def new_competitor():
    form = CompetitorForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: competitor_service.create_competitor(
                actor=current_user, name=form.name.data, notes=form.notes.data
            ),
            done=lambda competitor: _("Competitor %(name)s is added.", name=competitor.name),
            to=url_for("reference.competitors"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("reference/competitor_form.html", form=form, competitor=None), (
        400 if form.errors else 200
    )


@bp.route("/competitors/<int:competitor_id>", methods=["GET", "POST"])
@admin_required
def edit_competitor(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    form = CompetitorForm(obj=competitor)
    if form.validate_on_submit():
        outcome = write(
            lambda: competitor_service.update_competitor(
                competitor, actor=current_user, name=form.name.data, notes=form.notes.data
            ),
            done=lambda _result: _("Competitor %(name)s is saved.", name=competitor.name),
            to=url_for("reference.competitors"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("reference/competitor_form.html", form=form, competitor=competitor), (
        400 if form.errors else 200
    )


@bp.route("/competitors/<int:competitor_id>/retire", methods=["POST"])
@admin_required
def retire_competitor(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    confirm_or_ask(_("Retire %(name)s? New choices no longer offer it.", name=competitor.name))
    return write(
        lambda: competitor_service.set_competitor_active(
            competitor, actor=current_user, active=False
        ),
        done=lambda _result: _(
            "%(name)s is retired: existing profiles stay, no new ones can be added.",
            name=competitor.name,
        ),
        to=url_for("reference.competitors"),
        back=url_for("reference.competitors"),
    ).response


@bp.route("/competitors/<int:competitor_id>/reactivate", methods=["POST"])
@admin_required
def reactivate_competitor(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    _confirmed()
    return write(
        lambda: competitor_service.set_competitor_active(
            competitor, actor=current_user, active=True
        ),
        done=lambda _result: _("%(name)s is offered again.", name=competitor.name),
        to=url_for("reference.competitors"),
        back=url_for("reference.competitors"),
    ).response


@bp.route("/competitors/<int:competitor_id>/delete", methods=["POST"])
@admin_required
def delete_competitor(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    confirm_or_ask(_("Delete %(name)s? This cannot be undone.", name=competitor.name))
    name = competitor.name
    return write(
        lambda: competitor_service.delete_competitor(competitor, actor=current_user),
        done=_("Competitor %(name)s is deleted.", name=name),
        to=url_for("reference.competitors"),
        back=url_for("reference.competitors"),
    ).response
