"""Opportunity pages: the board, the list, a new opportunity, one opportunity and its edit page."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import commit_once, write
from blueprints.opportunities import bp, document_hints
from blueprints.opportunities.board_cards import CardViews
from blueprints.opportunities.forms import (
    FIELD_LABELS,
    EditOpportunityForm,
    MoveForm,
    NewOpportunityForm,
)
from blueprints.opportunities.views import render_show
from blueprints.paging import paginate_up_to_a_bound
from crm.auth import safe_next_url
from crm.labels import label
from crm.permissions import get_customer_or_404, get_opportunity_or_404
from crm.services.archive import competitors as competitor_service
from crm.services.errors import StaleEdit
from crm.services.people import users as user_service
from crm.services.pipeline import board as board_service
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline import search
from crm.services.pipeline.document_rules import DocumentMissing
from crm.services.pipeline.stages import (
    active_stages,
    all_stages,
    first_pre_sale_stage,
    stage_by_id,
)
from crm.templating import money
from models import LostReason, Phase, Tier


def _filter_context(filters: search.OpportunityFilters) -> dict:
    return {
        "filters": filters,
        "owners": search.owner_choices(current_user, chosen=filters.owner),
        "teams": search.team_choices(current_user) if current_user.is_admin else [],
        "tiers": list(Tier),
        "phase_choices": list(Phase),
        "statuses": search.STATUS_FILTERS,
        "lost_reason_names": {reason.value: label(reason) for reason in LostReason},
        "lost_to_name": _competitor_name(filters.lost_to),
        "been_in_name": _stage_name(filters.been_in),
    }


def _stage_name(stage_id: str) -> str:
    stage = stage_by_id(int(stage_id)) if stage_id else None
    return stage.name_for(str(get_locale())) if stage else ""


def _competitor_name(competitor_id: str) -> str:
    competitor = competitor_service.competitor_by_id(int(competitor_id)) if competitor_id else None
    return competitor.name if competitor else ""


# The board and the list ------------------------------------------------------


# A supervisor's board has a dozen columns; 20 cards each keeps it quick to render and
# to scan, and every column links to the full list for the rest.
BOARD_CARDS_PER_COLUMN = 20


@bp.route("/board")
@login_required
def board():
    filters = search.OpportunityFilters.from_args(request.args, current_user)
    phases = board_service.board(current_user, filters, per_column=BOARD_CARDS_PER_COLUMN)
    return render_template(
        "opportunities/board.html",
        phases=phases,
        card_view=CardViews(active_stages()),
        **_filter_context(filters),
    )


@bp.route("/")
@login_required
def index():
    filters = search.OpportunityFilters.from_args(request.args, current_user)
    # An admin's list matches every open opportunity: count them only a bound ahead.
    page = paginate_up_to_a_bound(search.search_opportunities(current_user, filters))
    flagged = search.flagged_ids([opportunity.id for opportunity in page.items])
    return render_template(
        "opportunities/index.html",
        page=page,
        flagged=flagged,
        stages=all_stages(),
        **_filter_context(filters),
    )


# Creating and editing ----------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    customer_id = request.args.get("customer_id", type=int)
    if customer_id is None:
        return _choose_customer()
    customer = get_customer_or_404(customer_id, current_user)
    stages = [s for s in active_stages() if s.phase is Phase.PRE_SALE]
    form = NewOpportunityForm(stages=stages)
    _offer_owners(form, keep=customer.owner)
    if not form.is_submitted():
        first = first_pre_sale_stage()
        form.stage_id.data = first.id if first else None
        form.owner_id.data = customer.owner_id
    if form.validate_on_submit():
        outcome = write(
            lambda: pipeline.create_opportunity(
                customer,
                actor=current_user,
                stage=stage_by_id(form.stage_id.data),
                probability=form.probability.data,
                owner=_chosen_owner(form),
                **form.detail_fields(),
            ),
            done=lambda opportunity: _(
                "Opportunity %(title)s is created.", title=opportunity.title
            ),
            to=lambda opportunity: url_for("opportunities.show", opportunity_id=opportunity.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_template(
        "opportunities/form.html", form=form, customer=customer, opportunity=None, current=None
    ), 400 if form.errors else 200


def _chosen_owner(form):
    """The owner the form's picker chose; an id of no account is refused on the field."""
    return user_service.chosen_user(
        form.owner_id.data, field="owner_id", refusal=pipeline.OWNER_REFUSAL
    )


def _offer_owners(form, *, keep) -> None:
    """The owner picker's short list, holding the submitted owner and `keep` (the current
    owner, or the customer's for a new opportunity)."""
    chosen = form.owner_id.data if form.is_submitted() else None
    form.offer_owners(
        pipeline.assignable_owner_choices(viewer=current_user, keep=keep, chosen=chosen),
        url_for("people.pick"),
    )


def _choose_customer():
    """Without a customer: search the user's customers to open one for."""
    q = (request.args.get("q") or "").strip()[:100]
    return render_template(
        "opportunities/choose_customer.html",
        customers=search.customers_to_open_for(q, viewer=current_user),
        q=q,
    )


def _current_values(opportunity) -> list[tuple[str, str]]:
    """The stored values, shown beside the user's unsaved input after a stale save."""
    return [
        (str(FIELD_LABELS["title"]), opportunity.title),
        (str(FIELD_LABELS["solution"]), opportunity.solution or ""),
        (str(FIELD_LABELS["amount"]), money(opportunity.amount)),
        (str(FIELD_LABELS["expected_close"]), str(opportunity.expected_close or "")),
        (str(FIELD_LABELS["probability"]), f"{opportunity.probability} %"),
        (str(FIELD_LABELS["owner_id"]), opportunity.owner.display_name),
        (str(FIELD_LABELS["next_step"]), opportunity.next_step or ""),
        (str(FIELD_LABELS["next_step_on"]), str(opportunity.next_step_on or "")),
    ]


@bp.route("/<int:opportunity_id>/edit", methods=["GET", "POST"])
@login_required
def edit(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = EditOpportunityForm(obj=opportunity)
    _offer_owners(form, keep=opportunity.owner)
    if not form.is_submitted():
        form.version.data = opportunity.version
    current = None
    if form.validate_on_submit():
        outcome = write(
            lambda: pipeline.update_opportunity(
                opportunity,
                actor=current_user,
                version=form.version.data,
                probability=form.probability.data,
                owner=_chosen_owner(form),
                **form.detail_fields(),
            ),
            done=lambda _result: _("Changes to %(title)s are saved.", title=opportunity.title),
            to=url_for("opportunities.show", opportunity_id=opportunity.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        if outcome.stale:
            current = _current_values(opportunity)
            # Saving again now deliberately replaces what the other person saved.
            form.version.data = opportunity.version
    status = 409 if current else 400 if form.errors else 200
    return render_template(
        "opportunities/form.html",
        form=form,
        customer=opportunity.customer,
        opportunity=opportunity,
        current=current,
    ), status


# One opportunity ------------------------------------------------------------------


@bp.route("/<int:opportunity_id>")
@login_required
def show(opportunity_id: int):
    return render_show(get_opportunity_or_404(opportunity_id, current_user))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/<int:opportunity_id>/stage", methods=["POST"])
@login_required
def move(opportunity_id: int):
    """Move to another stage: the board's drag and drop (JSON) and its plain card forms."""
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = MoveForm(stages=all_stages())
    back = safe_next_url(form.next.data) or url_for(
        "opportunities.show", opportunity_id=opportunity.id
    )
    message = None
    missing = None  # a stage document rule refused it: the message links to the upload
    if not form.validate_on_submit():
        message = _("Choose the stage to move to.")
    else:
        stage = stage_by_id(form.stage_id.data)
        _result, error = commit_once(
            lambda: pipeline.move_to_stage(
                opportunity, stage, actor=current_user, version=form.version.data or None
            )
        )
        if isinstance(error, StaleEdit) and error.current is None:
            abort(409)  # a race no service caught: nothing was saved
        if isinstance(error, StaleEdit):
            message = _("Someone else changed this opportunity meanwhile; look again and retry.")
        elif error is not None:
            message = str(error.message)
            if isinstance(error, DocumentMissing):
                missing = document_hints.missing_link(error)
    if _wants_json():
        if message:
            return jsonify(ok=False, message=message, **(missing or {})), 400
        # The board reloads after a move: the hint waits for it as a flashed message.
        document_hints.flash_suggestion(opportunity)
        return jsonify(ok=True, stage_id=opportunity.stage_id, version=opportunity.version)
    if message:
        flash(missing or message, "danger")
    else:
        flash(
            _(
                "%(title)s moved to %(stage)s.",
                title=opportunity.title,
                stage=opportunity.stage.name_for(str(get_locale())),
            ),
            "success",
        )
        document_hints.flash_suggestion(opportunity)
    return redirect(back)
