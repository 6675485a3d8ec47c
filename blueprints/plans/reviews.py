"""The supervisor's review: the queue of plans to review, and reviewing or returning one.

The panel under a plan (templates/plans/_review_panel.html) is filled by `review_panel`,
a template global, so every plan page shows it without its view knowing.
"""

from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.common import write
from blueprints.paging import paginate_up_to_a_bound
from blueprints.plans import bp
from blueprints.plans.review_form import ReviewForm
from crm.extensions import db
from crm.permissions import get_in_scope_or_404, refuse
from crm.services.plans import periods
from crm.services.plans import reviews as review_service
from models import WorkPlan


@bp.app_template_global("review_panel")
def review_panel(plan: WorkPlan, form: ReviewForm | None = None) -> dict:
    """What the review panel shows the current user under `plan`, and its form."""
    panel = review_service.review_panel(plan, viewer=current_user)
    if form is None and panel.reviewable:
        form = ReviewForm(formdata=None, version=plan.version)
    return {"panel": panel, "form": form}


@bp.app_template_global("may_see_review_queue")
def may_see_review_queue() -> bool:
    return current_user.is_authenticated and review_service.may_see_queue(current_user)


@bp.route("/reviews")
@login_required
def review_queue():
    if not review_service.may_see_queue(current_user):
        refuse(404, "review queue", current_user)  # a manager's plans are reviewed, not theirs
    # An admin's queue is every team's: thousands of plans, counted up to a bound.
    page = paginate_up_to_a_bound(review_service.queue(current_user))
    return render_template(
        "plans/reviews.html",
        page=page,
        rows=review_service.queue_rows(page.items),
        period_key=periods.key_of,
        plan_url=plan_url,
    )


def _plan(plan_id: int) -> WorkPlan:
    return get_in_scope_or_404(WorkPlan, plan_id, current_user, joinedload(WorkPlan.owner))


def plan_url(plan: WorkPlan) -> str:
    return url_for("plans.show", plan_id=plan.id)


def _verdict_page(plan: WorkPlan, form: ReviewForm, outcome=None):
    """The plan's review panel again: with the form's errors (400), or, when the manager
    changed the plan meanwhile, with the changes to read and the new version (409)."""
    status = 400
    if outcome is not None and outcome.stale:
        db.session.refresh(plan)
        flash(str(outcome.error.message), "warning")
        form.version.data = plan.version
        status = 409
    return render_template(
        "plans/review.html",
        plan=plan,
        review_form=form,
        period_key=periods.key_of(plan),
        plan_url=plan_url,
    ), status


@bp.route("/<int:plan_id>/review", methods=["POST"])
@login_required
def review(plan_id: int):
    plan = _plan(plan_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _verdict_page(plan, form)
    outcome = write(
        lambda: review_service.review(
            plan,
            actor=current_user,
            version=form.version.data,
            rating=form.chosen_rating(),
            comment=form.comment.data,
        ),
        done=_("The plan is reviewed; %(name)s is told.", name=plan.owner.display_name),
        to=plan_url(plan),
        form=form,
    )
    return outcome.response or _verdict_page(plan, form, outcome)


@bp.route("/<int:plan_id>/return", methods=["POST"])
@login_required
def return_plan(plan_id: int):
    plan = _plan(plan_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _verdict_page(plan, form)
    outcome = write(
        lambda: review_service.return_for_revision(
            plan, actor=current_user, version=form.version.data, reason=form.comment.data
        ),
        done=_("The plan goes back to %(name)s for revision.", name=plan.owner.display_name),
        to=plan_url(plan),
        form=form,
    )
    return outcome.response or _verdict_page(plan, form, outcome)
