"""The plans page, the weekly plan (周计划) and its changes; `show` opens any plan by id.

Only the plan's manager sees the edit controls; their supervisor (or an admin) sees the
same page read-only, with the review panel under plan vs actual.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.common import ConfirmForm, confirm_or_ask, require_confirmation, write
from blueprints.plans import bp
from blueprints.plans.forms import (
    FocusForm,
    LinkVisitForm,
    PlannedVisitEditForm,
    PlannedVisitForm,
    TaskForm,
    offer_own_customers,
)
from blueprints.plans.month import month_page
from blueprints.plans.week_page import WEEK_PAGE, plan_url, week_page
from crm.permissions import get_in_scope_or_404
from crm.services.plans import lifecycle, matching, overview, periods
from crm.services.plans import week as week_plan
from models import PlanKind, PlannedVisit, PlanTask, WorkPlan

PLANNED_VISIT = (joinedload(PlannedVisit.plan).selectinload(WorkPlan.visits),)
PLAN_TASK = (joinedload(PlanTask.plan).selectinload(WorkPlan.tasks),)


# The plans page -------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    today = periods.today_for(current_user)
    this_monday = periods.starts_on_for(PlanKind.WEEK, today)
    mondays = [this_monday, periods.following(PlanKind.WEEK, this_monday)]
    may_plan = lifecycle.may_plan(current_user)
    team = overview.team_weeks(current_user, mondays)
    this_weeks = [row.plans[this_monday] for row in team if row.plans[this_monday]]
    return render_template(
        "plans/index.html",
        may_plan=may_plan,
        cards=overview.my_periods(current_user, today=today) if may_plan else [],
        recent=overview.recent_plans(current_user) if may_plan else [],
        team=team,
        mondays=mondays,
        completions=matching.completion_for(this_weeks),
        latest=overview.latest_plans(current_user) if current_user.is_admin else [],
        week_key=periods.week_key,
        key_of=periods.key_of,
    )


# The weekly plan ------------------------------------------------------------------


@bp.route("/week/<key>", methods=["GET", "POST"])
@login_required
def week(key: str):
    """My plan for the week (2026-W50): opens it, or offers a button that starts it."""
    monday = periods.parse_week(key)
    if monday is None:
        abort(404)
    if request.method == "POST":
        require_confirmation()
        return write(
            lambda: lifecycle.start_plan(PlanKind.WEEK, monday, actor=current_user),
            done=_("The weekly plan is started."),
            to=plan_url,
            back=url_for("plans.week", key=key),
        ).response
    plan = lifecycle.find_plan(current_user, PlanKind.WEEK, monday)
    if plan is not None:
        return redirect(plan_url(plan))
    return render_template(
        "plans/week_start.html",
        key=key,
        days=week_plan.days_of(monday),
        form=ConfirmForm(formdata=None),
        may_plan=lifecycle.may_plan(current_user),
        deadline=periods.deadline(PlanKind.WEEK, monday, current_user),
    )


@bp.route("/<int:plan_id>")
@login_required
def show(plan_id: int):
    plan = get_in_scope_or_404(WorkPlan, plan_id, current_user, *WEEK_PAGE)
    if plan.kind is PlanKind.MONTH:
        return month_page(plan)
    return week_page(plan)


def _week_or_404(plan_id: int) -> WorkPlan:
    plan = get_in_scope_or_404(WorkPlan, plan_id, current_user, *WEEK_PAGE)
    if plan.kind is not PlanKind.WEEK:
        abort(404)
    return plan


def _form_refused(form, plan: WorkPlan):
    """A small form of the page sent with bad values: say what, back to the plan."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")
            break
        break
    return redirect(plan_url(plan))


# Planned visits -------------------------------------------------------------------


@bp.route("/<int:plan_id>/visits", methods=["POST"])
@login_required
def add_visit(plan_id: int):
    plan = _week_or_404(plan_id)
    form = PlannedVisitForm(days=week_plan.week_days(plan))
    offer_own_customers(form, viewer=current_user)
    if form.validate_on_submit():
        outcome = write(
            lambda: week_plan.add_planned_visit(
                plan,
                actor=current_user,
                customer=form.customer_id.data,
                day=form.day.data,
                purpose=form.purpose.data,
                opportunity=form.opportunity_id.data or None,
            ),
            done=lambda planned: _("%(name)s is planned.", name=planned.customer.name),
            to=plan_url(plan),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return week_page(plan, forms={"visit": form}, status=400)


@bp.route("/visits/<int:planned_id>/edit", methods=["POST"])
@login_required
def edit_visit(planned_id: int):
    planned = get_in_scope_or_404(PlannedVisit, planned_id, current_user, *PLANNED_VISIT)
    plan = planned.plan
    form = PlannedVisitEditForm(prefix=f"v{planned.id}", days=week_plan.week_days(plan))
    if not form.validate_on_submit():
        return _form_refused(form, plan)
    return write(
        lambda: week_plan.update_planned_visit(
            planned,
            actor=current_user,
            day=form.day.data,
            purpose=form.purpose.data,
            contacts=form.contact_ids.data or [],
            opportunity=form.opportunity_id.data or None,
        ),
        done=_("The planned visit is saved."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response


@bp.route("/visits/<int:planned_id>/remove", methods=["POST"])
@login_required
def remove_visit(planned_id: int):
    planned = get_in_scope_or_404(PlannedVisit, planned_id, current_user, *PLANNED_VISIT)
    plan = planned.plan
    confirm_or_ask(
        _("Take the visit to %(name)s off the plan?", name=planned.customer.name),
        button=_("Remove"),
        back=plan_url(plan),
    )
    return write(
        lambda: week_plan.remove_planned_visit(planned, actor=current_user),
        done=_("The planned visit is removed."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response


@bp.route("/visits/<int:planned_id>/link", methods=["POST"])
@login_required
def link_visit(planned_id: int):
    """Say which logged visit carried out the planned visit (0: find it automatically)."""
    planned = get_in_scope_or_404(PlannedVisit, planned_id, current_user, *PLANNED_VISIT)
    plan = planned.plan
    form = LinkVisitForm(prefix=f"l{planned.id}")
    if not form.validate_on_submit():
        return _form_refused(form, plan)
    return write(
        lambda: (
            matching.link_visit(planned, form.visit_id.data, actor=current_user)
            if form.visit_id.data
            else matching.match_automatically(planned, actor=current_user)
        ),
        done=_("The planned visit's match is saved."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response


@bp.route("/visits/<int:planned_id>/unlink", methods=["POST"])
@login_required
def unlink_visit(planned_id: int):
    """Say that no logged visit carried out the planned visit."""
    planned = get_in_scope_or_404(PlannedVisit, planned_id, current_user, *PLANNED_VISIT)
    plan = planned.plan
    require_confirmation()
    return write(
        lambda: matching.unlink_visit(planned, actor=current_user),
        done=_("The planned visit is marked as not carried out."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response


# Tasks, focus, submission ---------------------------------------------------------


@bp.route("/<int:plan_id>/tasks", methods=["POST"])
@login_required
def add_task(plan_id: int):
    plan = _week_or_404(plan_id)
    form = TaskForm(days=week_plan.week_days(plan))
    if form.validate_on_submit():
        outcome = write(
            lambda: week_plan.add_task(
                plan, actor=current_user, text=form.text.data, day=form.day.data
            ),
            done=_("The task is added."),
            to=plan_url(plan),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return week_page(plan, forms={"task": form}, status=400)


@bp.route("/tasks/<int:task_id>/toggle", methods=["POST"])
@login_required
def toggle_task(task_id: int):
    task = get_in_scope_or_404(PlanTask, task_id, current_user, *PLAN_TASK)
    require_confirmation()
    return write(
        lambda: week_plan.set_task_done(task, actor=current_user, done=not task.done),
        done=lambda task: _("Ticked.") if task.done else _("Unticked."),
        to=plan_url(task.plan),
        back=plan_url(task.plan),
    ).response


@bp.route("/tasks/<int:task_id>/remove", methods=["POST"])
@login_required
def remove_task(task_id: int):
    task = get_in_scope_or_404(PlanTask, task_id, current_user, *PLAN_TASK)
    plan = task.plan
    confirm_or_ask(
        _("Remove the task “%(text)s”?", text=task.text), button=_("Remove"), back=plan_url(plan)
    )
    return write(
        lambda: week_plan.remove_task(task, actor=current_user),
        done=_("The task is removed."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response


@bp.route("/<int:plan_id>/focus", methods=["POST"])
@login_required
def focus(plan_id: int):
    plan = _week_or_404(plan_id)
    form = FocusForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: week_plan.set_focus(plan, actor=current_user, focus=form.focus.data),
            done=_("The focus of the week is saved."),
            to=plan_url(plan),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return week_page(plan, forms={"focus": form}, status=400)


@bp.route("/<int:plan_id>/submit", methods=["POST"])
@login_required
def submit(plan_id: int):
    plan = get_in_scope_or_404(WorkPlan, plan_id, current_user, *WEEK_PAGE)
    require_confirmation()
    return write(
        lambda: lifecycle.submit(plan, actor=current_user),
        done=_("The plan is submitted to your supervisor."),
        to=plan_url(plan),
        back=plan_url(plan),
    ).response
