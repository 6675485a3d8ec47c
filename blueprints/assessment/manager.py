"""One manager's scorecard, the records behind each of its lines, and the temporary tasks
(临时任务) the supervisor sets and scores on it."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.assessment import bp
from blueprints.assessment.forms import ScoreForm, TaskForm
from blueprints.assessment.routes import period_or_404
from blueprints.common import ConfirmForm, confirm_or_ask, write
from crm.permissions import get_in_scope_or_404, refuse
from crm.services.assessment import assessing, catalog, records, store, tasks, words
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.reporting.targets import may_set_targets
from models import TemporaryTask, User


def manager_or_404(user_id: int) -> User:
    manager = store.manager_in_view(user_id, current_user)
    if manager is None:
        refuse(404, f"assessment of user {user_id}", current_user)
    return manager


def _page(
    period: AssessmentPeriod,
    manager: User,
    *,
    task_form: TaskForm | None = None,
    failed_task: tuple[int, ScoreForm] | None = None,
    status: int = 200,
):
    stored = store.card_of(period, manager, current_user)
    assessor = may_set_targets(current_user, manager)
    own_tasks = tasks.tasks_for(period, [manager.id]).get(manager.id, []) if assessor else []
    score_forms = {
        task.id: ScoreForm(
            formdata=None,
            prefix=f"task{task.id}",
            score=task.score,
            comment=task.comment,
            version=task.version,
        )
        for task in own_tasks
    }
    if failed_task is not None:
        score_forms[failed_task[0]] = failed_task[1]
    history = (
        store.publications(period, manager.team_id)
        if stored is not None and stored.publication_id and manager.team_id
        else []
    )
    previous = store.stored_totals(period.previous(), [manager.id], points=False).get(manager.id)
    return (
        render_template(
            "assessment/scorecard.html",
            period=period,
            manager=manager,
            stored=stored,
            history=history,
            previous=previous,
            indicators=catalog.INDICATORS,
            parts=catalog.PARTS,
            words=words,
            assessor=assessor,
            tasks=own_tasks,
            task_form=task_form or TaskForm(formdata=None),
            score_forms=score_forms,
            delete_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.route("/assessment/<period>/managers/<int:user_id>")
@login_required
def scorecard(period: str, user_id: int):
    return _page(period_or_404(period), manager_or_404(user_id))


@bp.route("/assessment/<period>/managers/<int:user_id>/<code>")
@login_required
def line_records(period: str, user_id: int, code: str):
    """What one line of the sheet counts: the customers, complaints, visits, deals, plans."""
    chosen = period_or_404(period)
    manager = manager_or_404(user_id)
    if code not in catalog.INDICATORS:
        abort(404)
    stored = store.card_of(chosen, manager, current_user)
    if stored is None:  # a manager's own sheet before it is published
        refuse(404, f"assessment records of user {user_id}", current_user)
    return render_template(
        "assessment/records.html",
        period=chosen,
        manager=manager,
        stored=stored,
        line=stored.card.line(code),
        indicator=catalog.INDICATORS[code],
        records=records.records(code, chosen, manager, current_user),
        words=words,
    )


@bp.route("/assessment/<period>/managers/<int:user_id>/tasks", methods=["POST"])
@login_required
def add_task(period: str, user_id: int):
    chosen = period_or_404(period)
    manager = manager_or_404(user_id)
    form = TaskForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: assessing.add_task(
                manager,
                chosen,
                title=form.title.data,
                description=form.description.data,
                weight=form.weight.data,
                actor=current_user,
            ),
            done=_("The temporary task is set."),
            to=url_for("assessment.scorecard", period=chosen.key, user_id=manager.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return _page(chosen, manager, task_form=form, status=400)


def _task_or_404(task_id: int) -> tuple[TemporaryTask, AssessmentPeriod]:
    task = get_in_scope_or_404(TemporaryTask, task_id, current_user)
    return task, period_or_404(task.period)


@bp.route("/assessment/tasks/<int:task_id>/score", methods=["POST"])
@login_required
def score_task(task_id: int):
    task, period = _task_or_404(task_id)
    form = ScoreForm(prefix=f"task{task.id}")
    if form.validate_on_submit():
        outcome = write(
            lambda: assessing.score_task(
                task,
                period,
                score=form.score.data,
                comment=form.comment.data,
                version=int(form.version.data) if (form.version.data or "").isdigit() else None,
                actor=current_user,
            ),
            done=_("The task is scored."),
            to=url_for("assessment.scorecard", period=period.key, user_id=task.user_id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return _page(period, task.user, failed_task=(task.id, form), status=400)


@bp.route("/assessment/tasks/<int:task_id>/delete", methods=["POST"])
@login_required
def delete_task(task_id: int):
    task, period = _task_or_404(task_id)
    confirm_or_ask(_("Remove the task “%(title)s”?", title=task.title), button=_("Remove"))
    back = url_for("assessment.scorecard", period=period.key, user_id=task.user_id)
    return write(
        lambda: assessing.remove_task(task, period, actor=current_user),
        done=_("The task is removed."),
        to=back,
        back=back,
    ).response
