"""The weekly plan's page (周计划), shown by `GET /plans/<id>` and again, with the refused
form, by the POST routes of blueprints/plans/routes.py."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import ConfirmForm
from blueprints.plans.forms import (
    FocusForm,
    PlannedVisitForm,
    TaskForm,
    day_names,
    offer_own_customers,
)
from crm.i18n import user_zone
from crm.services.plans import matching, periods, suggestions
from crm.services.plans import week as week_plan
from models import Customer, PlannedVisit, PlanStatus, WorkPlan

# The weekly plan page's records, loaded with the plan.
WEEK_PAGE = (
    joinedload(WorkPlan.owner),
    selectinload(WorkPlan.visits).joinedload(PlannedVisit.customer).joinedload(Customer.owner),
    selectinload(WorkPlan.visits).joinedload(PlannedVisit.opportunity),
    selectinload(WorkPlan.visits).selectinload(PlannedVisit.contacts),
    selectinload(WorkPlan.tasks),
    # Changes and verdicts: the review panel reads them, with their authors, and only for
    # a plan that was submitted (crm/services/plans/reviews.py: review_panel).
)
BUILDING = (PlanStatus.DRAFT, PlanStatus.RETURNED)


def plan_url(plan: WorkPlan) -> str:
    return url_for("plans.show", plan_id=plan.id)


def week_page(plan: WorkPlan, *, forms: dict | None = None, status: int = 200):
    """The weekly plan: focus, suggestions, planned visits by day, tasks, plan vs actual
    (once the week has begun), then the review panel. Edit controls for its manager only."""
    editable = week_plan.may_edit(plan, current_user)
    days = week_plan.week_days(plan)
    today = periods.today_for(plan.owner)
    started = today >= plan.starts_on
    actual = matching.plan_vs_actual(plan) if started else None
    visit_form = PlannedVisitForm(formdata=None, days=days)
    if editable:
        offer_own_customers(visit_form, viewer=current_user)
    shown = {
        "visit": visit_form,
        "task": TaskForm(formdata=None, days=days),
        "focus": FocusForm(formdata=None, focus=plan.focus),
        "confirm": ConfirmForm(formdata=None),
    }
    shown.update(forms or {})
    # The forms under each planned visit are written out by the page's own macros
    # (templates/plans/_planned_visit_forms.html) from these choices, built once per page.
    zone = user_zone(current_user)
    link_choices = (
        {
            o.planned.id: [
                (v.id, v.occurred_at.astimezone(zone).strftime("%m-%d %H:%M"))
                for v in actual.candidates(o.planned)
            ]
            for o in actual.outcomes
        }
        if editable and actual
        else {}
    )
    shown_customers = [p.customer_id for p in plan.visits]
    if actual:
        shown_customers += [v.customer_id for v in actual.visits]
    names = day_names(days)
    page = render_template(
        "plans/week.html",
        reachable=week_plan.reachable_customers(shown_customers, current_user),
        day_names=names,
        day_options=[(day.isoformat(), name) for day, name in names.items()],
        plan=plan,
        key=periods.key_of(plan),
        days=days,
        by_day={day: [p for p in plan.visits if p.day == day] for day in days},
        today=today,
        started=started,
        actual=actual,
        outcomes={o.planned.id: o for o in actual.outcomes} if actual else {},
        # While the plan is being built (a draft, or returned for revision): once it is
        # submitted, the page is the reviewer's and the manager adds by hand.
        suggestions=suggestions.suggestions_for(plan, today=today)
        if editable and plan.status in BUILDING
        else [],
        editable=editable,
        may_tick=editable,
        forms=shown,
        edit_choices=week_plan.edit_choices(plan) if editable else {},
        purpose_limit=week_plan.PURPOSE_LIMIT,
        link_choices=link_choices,
        plan_url=plan_url(plan),
        deadline=periods.deadline(plan.kind, plan.starts_on, plan.owner),
        on_time=periods.submitted_on_time(plan),
        change_labels=week_plan.CHANGE_LABELS,
    )
    return page, status
