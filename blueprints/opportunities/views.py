"""Rendering one opportunity's page, shared by its GET view and the actions that re-show it."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from blueprints.opportunities.forms import (
    HISTORY_LABELS,
    AddCompetitorForm,
    AddContactForm,
    ConfirmForm,
    LostForm,
    MoveForm,
    WonForm,
)
from crm.i18n import today_in, user_zone
from crm.services.archive import competitors as competitor_service
from crm.services.pipeline import links
from crm.services.pipeline.opportunities import target_stages
from crm.services.pipeline.search import flagged_ids
from crm.services.pipeline.stage_history import days_in_stages, history_changes, history_with_actors
from crm.services.pipeline.stages import all_stages
from models import Competitor, Opportunity, OpportunityStatus


def lost_competitors(opportunity: Opportunity) -> list[Competitor]:
    """The registry's active competitors, and any retired one already bidding on it."""
    active = competitor_service.active_competitors()
    bidding = [bid.competitor for bid in opportunity.competitors]
    return [c for c in bidding if c not in active] + list(active)


def render_show(opportunity: Opportunity, status: int = 200, **forms):
    """The opportunity's page; `forms` replaces a default form (to show its errors)."""
    stages = all_stages()
    stages_by_id = {stage.id: stage for stage in stages}
    history = history_with_actors(opportunity)
    if "won_form" not in forms:
        forms["won_form"] = WonForm(
            formdata=None,
            contract_date=today_in(user_zone(current_user)),
            amount=opportunity.amount,
            version=opportunity.version,
        )
    if "lost_form" not in forms:
        forms["lost_form"] = LostForm(
            formdata=None,
            competitors=lost_competitors(opportunity),
            version=opportunity.version,
        )
    if "add_contact_form" not in forms:
        forms["add_contact_form"] = AddContactForm(
            formdata=None, contacts=links.addable_contacts(opportunity)
        )
    if "add_competitor_form" not in forms:
        forms["add_competitor_form"] = AddCompetitorForm(
            formdata=None, competitors=links.addable_competitors(opportunity)
        )
    forms.setdefault(
        "move_form",
        MoveForm(
            formdata=None,
            stages=target_stages(opportunity, [s for s in stages if s.active]),
            version=opportunity.version,
        ),
    )
    return render_template(
        "opportunities/show.html",
        opportunity=opportunity,
        customer=opportunity.customer,
        flagged=opportunity.id in flagged_ids([opportunity.id]),
        contacts=links.sorted_contacts(opportunity),
        history=[(row, history_changes(row, stages_by_id)) for row in reversed(history)],
        stage_times=days_in_stages(opportunity),
        field_labels=HISTORY_LABELS,
        confirm_form=ConfirmForm(),
        OpportunityStatus=OpportunityStatus,
        **forms,
    ), status
