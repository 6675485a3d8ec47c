"""Administration of the sales stages (admins only): names, phase, probability, order."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import confirm_or_ask, write
from blueprints.common import require_confirmation as _confirmed
from blueprints.stages import bp
from blueprints.stages.forms import ConfirmForm, StageForm
from crm.extensions import db
from crm.permissions import admin_required
from crm.services.documents import kinds as document_kinds
from crm.services.documents import library as document_library
from crm.services.pipeline import stages as stage_service
from models import Phase, Stage


@bp.route("/")
@admin_required
def index():
    stages = stage_service.all_stages()
    return render_template(
        "stages/index.html",
        phases=[(phase, [s for s in stages if s.phase is phase]) for phase in Phase],
        usage=stage_service.stage_usage(),
        in_use=stage_service.stages_in_use(),
        needs_discovery_id=stage_service.needs_discovery_stage_id(),
        document_kinds={kind.code: kind for kind in document_kinds.all_kinds()},
        confirm_form=ConfirmForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = StageForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: stage_service.create_stage(
                actor=current_user,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                phase=Phase(form.phase.data),
                probability=form.probability.data,
            ),
            done=lambda stage: _("Stage %(name)s is added.", name=stage.name_zh),
            to=url_for("stages.index"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("stages/form.html", form=form, stage=None), (400 if form.errors else 200)


@bp.route("/<int:stage_id>", methods=["GET", "POST"])
@admin_required
def edit(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = StageForm(obj=stage, kinds=document_library.active_kinds())
    if not form.is_submitted():
        form.phase.data = stage.phase.value
        form.document_rule.data = stage.document_rule.value
        form.document_kind.data = stage.document_kind or ""
    if form.validate_on_submit():
        outcome = write(
            lambda: stage_service.update_stage(
                stage,
                actor=current_user,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                phase=Phase(form.phase.data),
                probability=form.probability.data,
                is_contract=form.is_contract.data,
                document_rule=form.document_rule.data,
                document_kind=form.document_kind.data,
            ),
            done=lambda _result: _("Stage %(name)s is saved.", name=stage.name_zh),
            to=url_for("stages.index"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template("stages/form.html", form=form, stage=stage), (
        400 if form.errors else 200
    )


def _change(stage_id: int, change, done_message: str, question: str | None = None):
    """Apply a one-button change to a stage and go back to the list.

    A destructive change names its question: it is asked before anything changes.
    """
    stage = db.get_or_404(Stage, stage_id)
    if question is None:
        _confirmed()
    else:
        confirm_or_ask(question % {"name": stage.name_zh})
    name = stage.name_zh
    return write(
        lambda: change(stage),
        done=done_message % {"name": name},
        to=url_for("stages.index"),
        back=url_for("stages.index"),
    ).response


@bp.route("/<int:stage_id>/up", methods=["POST"])
@admin_required
def move_up(stage_id: int):
    return _change(
        stage_id,
        lambda s: stage_service.move_stage(s, actor=current_user, up=True),
        _("%(name)s moved up."),
    )


@bp.route("/<int:stage_id>/down", methods=["POST"])
@admin_required
def move_down(stage_id: int):
    return _change(
        stage_id,
        lambda s: stage_service.move_stage(s, actor=current_user, up=False),
        _("%(name)s moved down."),
    )


@bp.route("/<int:stage_id>/retire", methods=["POST"])
@admin_required
def retire(stage_id: int):
    return _change(
        stage_id,
        lambda s: stage_service.set_stage_active(s, actor=current_user, active=False),
        _("%(name)s is retired: opportunities in it stay, no new moves go into it."),
        _("Retire %(name)s? No new moves go into it."),
    )


@bp.route("/<int:stage_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(stage_id: int):
    return _change(
        stage_id,
        lambda s: stage_service.set_stage_active(s, actor=current_user, active=True),
        _("%(name)s is offered again."),
    )


@bp.route("/<int:stage_id>/delete", methods=["POST"])
@admin_required
def delete(stage_id: int):
    return _change(
        stage_id,
        lambda s: stage_service.delete_stage(s, actor=current_user),
        _("Stage %(name)s is deleted."),
        _("Delete %(name)s? This cannot be undone."),
    )
