"""The monthly plan (月计划): its page, starting it, goals and key customers.

`month_page(plan)` renders a month plan; `GET /plans/<id>` (routes.py) calls it for one.
"""

from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.common import ConfirmForm, confirm_or_ask, require_confirmation, write
from blueprints.main import homes
from blueprints.plans import bp
from blueprints.plans.forms import offer_own_customers
from blueprints.plans.month_forms import GoalsForm, KeyCustomerForm
from crm.permissions import get_in_scope_or_404
from crm.services.plans import lifecycle, month_actuals, periods
from crm.services.plans import month as month_plan
from models import PlanKind, WorkPlan

# The monthly plan page's records, loaded with the plan.
MONTH_PAGE = (joinedload(WorkPlan.owner),)  # the key customers: month_page reads them


def months_around(first) -> dict[str, str]:
    """The keys of the month before and after, for the page's navigation."""
    return {
        "before": periods.month_key(periods.following(PlanKind.MONTH, first, -1)),
        "after": periods.month_key(periods.following(PlanKind.MONTH, first, 1)),
    }


def plan_url(plan: WorkPlan) -> str:
    return url_for("plans.show", plan_id=plan.id)


def _goal_values(plan: WorkPlan) -> dict:
    return {
        "visits": plan.goal_visits,
        "new_opportunities": plan.goal_new_opportunities,
        "won_amount": plan.goal_won_amount,
        "focus": plan.focus,
        "version": plan.version,
    }


def month_page(plan: WorkPlan, *, forms: dict | None = None, status: int = 200):
    """The rendered page of a month plan: goals against actual figures, key customers and
    what happened with them, the free text, the manager's forms and the review panel.

    The key customers are read here, with which of them the viewer may open, whoever
    loaded the plan."""
    reachable = month_plan.key_customers_in_view(plan, current_user)
    editable = month_plan.may_edit(plan, current_user)
    key_customer_form = KeyCustomerForm(formdata=None)
    if editable:
        offer_own_customers(key_customer_form, viewer=current_user)
    shown = {
        "goals": GoalsForm(formdata=None, **_goal_values(plan)),
        "key_customer": key_customer_form,
        "confirm": ConfirmForm(formdata=None),
    }
    shown.update(forms or {})
    period = periods.period_of(plan)
    actuals = month_actuals.month_actuals(plan)
    page = render_template(
        "plans/month.html",
        plan=plan,
        key=periods.key_of(plan),
        period=period,
        goals=month_actuals.goal_lines(plan, actuals),
        actuals=actuals,
        activity=month_actuals.key_customer_activity(plan),
        editable=editable,
        forms=shown,
        reachable=reachable,
        months=months_around(plan.starts_on),
        deadline=periods.deadline(plan.kind, plan.starts_on, plan.owner),
        on_time=periods.submitted_on_time(plan),
        opportunities_url=homes.opportunities_url,
        closed_in=homes.closed_in,
        created_in=homes.created_in,
        visits_in=homes.visits_in,
    )
    return page, status


def _month_or_404(plan_id: int) -> WorkPlan:
    plan = get_in_scope_or_404(WorkPlan, plan_id, current_user, *MONTH_PAGE)
    if plan.kind is not PlanKind.MONTH:
        abort(404)
    return plan


@bp.route("/month/<key>", methods=["GET", "POST"])
@login_required
def month(key: str):
    """My plan for the month (2026-12): its page, or a button that starts it."""
    starts_on = periods.parse_month(key)
    if starts_on is None:
        abort(404)
    if request.method == "POST":
        require_confirmation()
        outcome = write(
            lambda: lifecycle.start_plan(PlanKind.MONTH, starts_on, actor=current_user),
            done=_("The monthly plan is started."),
            to=plan_url,
            back=url_for("plans.month", key=key),
        )
        return outcome.response
    plan = lifecycle.find_plan(current_user, PlanKind.MONTH, starts_on)
    if plan is not None:
        return month_page(plan)
    return render_template(
        "plans/month_start.html",
        key=key,
        first=starts_on,
        form=ConfirmForm(formdata=None),
        may_plan=lifecycle.may_plan(current_user),
        months=months_around(starts_on),
        deadline=periods.deadline(PlanKind.MONTH, starts_on, current_user),
    )


@bp.route("/<int:plan_id>/goals", methods=["POST"])
@login_required
def goals(plan_id: int):
    plan = _month_or_404(plan_id)
    form = GoalsForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: month_plan.set_goals(
                plan,
                actor=current_user,
                version=form.version.data,
                visits=form.visits.data,
                new_opportunities=form.new_opportunities.data,
                won_amount=form.won_amount.data,
                focus=form.focus.data,
            ),
            done=_("The goals are saved."),
            to=plan_url(plan),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:
            flash(str(outcome.stale.message), "warning")
        return month_page(plan, forms={"goals": form}, status=outcome.status)
    return month_page(plan, forms={"goals": form}, status=400)


@bp.route("/<int:plan_id>/key-customers", methods=["POST"])
@login_required
def add_key_customer(plan_id: int):
    plan = _month_or_404(plan_id)
    form = KeyCustomerForm()
    offer_own_customers(form, viewer=current_user)
    if form.validate_on_submit():
        outcome = write(
            lambda: month_plan.add_key_customer(
                plan,
                actor=current_user,
                customer_id=form.customer_id.data,
                aim_kind=form.aim_kind.data,
                aim=form.aim.data,
            ),
            done=lambda row: _("%(name)s is in the plan.", name=row.customer.name),
            to=plan_url(plan),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:
            flash(str(outcome.stale.message), "warning")
        status = outcome.status
    else:
        status = 400
    return month_page(plan, forms={"key_customer": form}, status=status)


@bp.route("/<int:plan_id>/key-customers/<int:key_customer_id>/remove", methods=["POST"])
@login_required
def remove_key_customer(plan_id: int, key_customer_id: int):
    plan = _month_or_404(plan_id)
    row = next((kc for kc in plan.key_customers if kc.id == key_customer_id), None)
    if row is None:
        abort(404)
    confirm_or_ask(
        _("Take %(name)s off this plan?", name=row.customer.name),
        button=_("Take off the plan"),
        back=plan_url(plan),
    )
    outcome = write(
        lambda: month_plan.remove_key_customer(
            plan, actor=current_user, key_customer_id=key_customer_id
        ),
        done=lambda customer: _("%(name)s is off the plan.", name=customer.name),
        to=plan_url(plan),
        back=plan_url(plan),
    )
    return outcome.response
