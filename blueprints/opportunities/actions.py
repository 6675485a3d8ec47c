"""What is done on an opportunity's page: win, lose, reopen; contacts and competitors on it."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import confirm_or_ask, write
from blueprints.opportunities import bp
from blueprints.opportunities.forms import (
    AddCompetitorForm,
    AddContactForm,
    ConfirmForm,
    LostForm,
    RemoveCompetitorForm,
    RemoveContactForm,
    WonForm,
)
from blueprints.opportunities.views import lost_competitors, render_show
from crm.permissions import get_opportunity_or_404
from crm.services.archive import competitors as competitor_service
from crm.services.pipeline import links
from crm.services.pipeline import opportunities as pipeline
from models import LostReason


def _page(opportunity) -> str:
    return url_for("opportunities.show", opportunity_id=opportunity.id)


def _stale_message() -> str:
    return _("Someone else changed this opportunity meanwhile; look again and retry.")


def _stale_answer(stale, opportunity):
    """Someone changed the opportunity since the page was opened: back to it, saying so."""
    if stale.current is None:  # a race no service caught (another row): nothing was saved
        abort(409)
    flash(_stale_message(), "danger")
    return redirect(_page(opportunity))


def _close_out(opportunity, form, change, *, done, refused: str, form_name: str):
    """Win or lose through the write path; a refusal re-shows the page with the form's errors."""
    if form.validate_on_submit():
        outcome = write(change, done=done, to=_page(opportunity), form=form)
        if outcome.response is not None:
            return outcome.response
        if outcome.stale:
            return _stale_answer(outcome.stale, opportunity)
    flash(refused, "danger")
    return render_show(opportunity, 400, **{form_name: form})


@bp.route("/<int:opportunity_id>/won", methods=["POST"])
@login_required
def mark_won(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = WonForm()
    return _close_out(
        opportunity,
        form,
        lambda: pipeline.mark_won(
            opportunity,
            actor=current_user,
            contract_date=form.contract_date.data,
            amount=form.amount.data,
            version=form.version.data or None,
        ),
        done=lambda _result: _("%(title)s is won.", title=opportunity.title),
        refused=_("The opportunity is not marked won: see the form below."),
        form_name="won_form",
    )


@bp.route("/<int:opportunity_id>/lost", methods=["POST"])
@login_required
def mark_lost(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = LostForm(competitors=lost_competitors(opportunity))
    return _close_out(
        opportunity,
        form,
        lambda: pipeline.mark_lost(
            opportunity,
            actor=current_user,
            reason=LostReason(form.reason.data),
            competitor=competitor_service.competitor_by_id(form.competitor_id.data)
            if form.competitor_id.data
            else None,
            note=form.note.data,
            version=form.version.data or None,
        ),
        done=lambda _result: _("%(title)s is marked lost.", title=opportunity.title),
        refused=_("The opportunity is not marked lost: see the form below."),
        form_name="lost_form",
    )


@bp.route("/<int:opportunity_id>/reopen", methods=["POST"])
@login_required
def reopen(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return write(
        lambda: pipeline.reopen(opportunity, actor=current_user),
        done=lambda _result: _("%(title)s is open again.", title=opportunity.title),
        to=_page(opportunity),
        back=_page(opportunity),
    ).response


# Contacts and competitors on the opportunity ------------------------------------------


@bp.route("/<int:opportunity_id>/contacts", methods=["POST"])
@login_required
def add_contact(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = AddContactForm(contacts=links.addable_contacts(opportunity))
    if form.validate_on_submit():
        contact = links.contact_by_id(form.contact_id.data)
        outcome = write(
            lambda: links.add_contact(
                opportunity,
                contact,
                actor=current_user,
                role=form.role.data,
                is_primary=form.is_primary.data,
            ),
            done=lambda _result: _("%(name)s is on the opportunity.", name=contact.name),
            to=_page(opportunity),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_show(opportunity, 400, add_contact_form=form)


@bp.route("/<int:opportunity_id>/contacts/remove", methods=["POST"])
@login_required
def remove_contact(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    confirm_or_ask(_("Take this contact off the opportunity?"), button=_("Take off"))
    form = RemoveContactForm()
    if not form.validate_on_submit():
        flash(_("Choose the contact to take off."), "danger")
        return redirect(_page(opportunity))
    return write(
        lambda: links.remove_contact(opportunity, form.contact_id.data, actor=current_user),
        done=_("The contact is taken off the opportunity."),
        to=_page(opportunity),
        back=_page(opportunity),
    ).response


@bp.route("/<int:opportunity_id>/competitors", methods=["POST"])
@login_required
def add_competitor(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    form = AddCompetitorForm(competitors=links.addable_competitors(opportunity))
    if form.validate_on_submit():
        competitor = competitor_service.competitor_by_id(form.competitor_id.data)
        outcome = write(
            lambda: links.add_competitor(
                opportunity, competitor, actor=current_user, offer=form.offer.data
            ),
            done=lambda _result: _("%(name)s is recorded as bidding.", name=competitor.name),
            to=_page(opportunity),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return render_show(opportunity, 400, add_competitor_form=form)


@bp.route("/<int:opportunity_id>/competitors/remove", methods=["POST"])
@login_required
def remove_competitor(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    confirm_or_ask(
        _("Take this competitor and its offer off the opportunity?"), button=_("Take off")
    )
    form = RemoveCompetitorForm()
    if not form.validate_on_submit():
        flash(_("Choose the competitor to take off."), "danger")
        return redirect(_page(opportunity))
    return write(
        lambda: links.remove_competitor(opportunity, form.competitor_id.data, actor=current_user),
        done=_("The competitor is taken off the opportunity."),
        to=_page(opportunity),
        back=_page(opportunity),
    ).response
