"""The admin's document kinds (Settings → Reference data → Document kinds)."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import confirm_or_ask, write
from blueprints.common import require_confirmation as _confirmed
from blueprints.documents import kinds_bp
from blueprints.documents.forms import ConfirmForm, KindForm
from crm.extensions import db
from crm.permissions import admin_required
from crm.services.documents import kinds as kind_service
from models import DocumentKind


@kinds_bp.route("/document-kinds")
@admin_required
def index():
    return render_template(
        "documents/kinds.html",
        kinds=kind_service.all_kinds(),
        usage=kind_service.kind_usage(),
        confirm_form=ConfirmForm(),
    )


@kinds_bp.route("/document-kinds/new", methods=["GET", "POST"])
@admin_required
def new():
    form = KindForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: kind_service.create_kind(
                actor=current_user,
                code=form.code.data or "",
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                position=form.position.data,
            ),
            done=lambda kind: _("Document kind %(name)s is added.", name=kind.name_zh),
            to=url_for("document_kinds.index"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("documents/kind_form.html", form=form, kind=None), (
        400 if form.errors else 200
    )


@kinds_bp.route("/document-kinds/<int:kind_id>", methods=["GET", "POST"])
@admin_required
def edit(kind_id: int):
    kind = db.get_or_404(DocumentKind, kind_id)
    form = KindForm(obj=kind)
    if form.validate_on_submit():
        outcome = write(
            lambda: kind_service.update_kind(
                kind,
                actor=current_user,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                position=form.position.data,
            ),
            done=lambda _result: _("Document kind %(name)s is saved.", name=kind.name_zh),
            to=url_for("document_kinds.index"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("documents/kind_form.html", form=form, kind=kind), (
        400 if form.errors else 200
    )


@kinds_bp.route("/document-kinds/<int:kind_id>/retire", methods=["POST"])
@admin_required
def retire(kind_id: int):
    kind = db.get_or_404(DocumentKind, kind_id)
    confirm_or_ask(_("Retire %(name)s? New uploads no longer offer it.", name=kind.name_zh))
    return write(
        lambda: kind_service.set_kind_active(kind, actor=current_user, active=False),
        done=lambda _result: _(
            "%(name)s is retired: documents keep it, new uploads no longer offer it.",
            name=kind.name_zh,
        ),
        to=url_for("document_kinds.index"),
        back=url_for("document_kinds.index"),
    ).response


@kinds_bp.route("/document-kinds/<int:kind_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(kind_id: int):
    kind = db.get_or_404(DocumentKind, kind_id)
    _confirmed()
    return write(
        lambda: kind_service.set_kind_active(kind, actor=current_user, active=True),
        done=lambda _result: _("%(name)s is offered again.", name=kind.name_zh),
        to=url_for("document_kinds.index"),
        back=url_for("document_kinds.index"),
    ).response
