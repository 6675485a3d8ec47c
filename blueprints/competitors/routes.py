"""Competitor profiles of a customer, and where competitors are present across the user's scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.common import confirm_or_ask, write
from blueprints.competitors import bp
from blueprints.competitors.forms import ConfirmForm, ProfileForm
from blueprints.paging import paginate_up_to_a_bound
from crm.i18n import today_in, user_zone
from crm.labels import label
from crm.permissions import get_customer_or_404, get_in_scope_or_404
from crm.services.archive import competitors as competitor_service
from crm.services.archive.competitors import DuplicateProfile, PresenceFilters
from crm.templating import local_date
from models import CompetitorProfile, ThreatLevel

bp.add_app_template_global(competitor_service.EXPIRY_WARNING_DAYS, "COMPETITOR_EXPIRY_WARNING_DAYS")
bp.add_app_template_global(
    competitor_service.CONFIRMATION_STALE_DAYS, "COMPETITOR_CONFIRMATION_STALE_DAYS"
)


@bp.app_template_global()
def days_from_today(day: date | None) -> int | None:
    """Days from today (in the user's time zone) to `day`; negative when it is past."""
    if day is None:
        return None
    return (day - _today()).days


def _today() -> date:
    return today_in(user_zone(current_user))


# Loaded with each CompetitorProfile its pages show.
PROFILE_PAGE = (
    contains_eager(CompetitorProfile.customer),
    joinedload(CompetitorProfile.competitor),
)


def _customer_page(customer_id: int) -> str:
    return url_for("customers.show", customer_id=customer_id, _anchor="competition")


def _comparison(form: ProfileForm, stored: CompetitorProfile) -> list[tuple[str, str, str, bool]]:
    """(field label, stored value, the user's unsaved input, whether they differ) per field."""
    rows = []
    for name in competitor_service.EDITABLE_FIELDS:
        field = getattr(form, name)
        saved, typed = getattr(stored, name), field.data
        if name in ("threat", "source"):
            choice_labels = {str(choice.value): choice.label for choice in field.choices}
            saved_text = label(saved)
            typed_text = choice_labels.get(str(typed or ""), "")
        else:
            saved_text, typed_text = _plain(saved), _plain(typed)
        rows.append((str(field.label.text), saved_text, typed_text, saved_text != typed_text))
    return rows


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return local_date(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value).strip()


def _submitted_version(form: ProfileForm) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() else None


@bp.route("/competitors/")
@login_required
def index():
    filters = PresenceFilters.from_args(request.args)
    today = _today()
    # Counted up to a bound past the page: an admin's lists every team's profiles.
    page = paginate_up_to_a_bound(competitor_service.search_presence(current_user, filters, today))
    return render_template(
        "competitors/index.html",
        page=page,
        filters=filters,
        summary=competitor_service.presence_summary(current_user, filters.days, today),
        registry=competitor_service.all_competitors(),
        windows=competitor_service.WINDOW_CHOICES,
        threats=list(ThreatLevel),
        is_admin=current_user.is_admin,
    )


@bp.route("/customers/<int:customer_id>/competitors/new", methods=["GET", "POST"])
@login_required
def new_profile(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    form = ProfileForm(competitors=competitor_service.available_competitors(customer))
    if not form.is_submitted():
        form.confirmed_on.data = _today()
    existing_id = None
    if form.validate_on_submit():
        competitor = competitor_service.competitor_by_id(form.competitor_id.data)
        outcome = write(
            lambda: competitor_service.create_profile(
                customer, actor=current_user, competitor=competitor, **form.values()
            ),
            done=lambda profile: _(
                "%(name)s is added to the competitive situation.", name=competitor.name
            ),
            to=_customer_page(customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        error = outcome.error
        if isinstance(error, DuplicateProfile) and error.existing is not None:
            existing_id = error.existing.id
    return render_template(
        "competitors/profile_form.html",
        form=form,
        customer=customer,
        profile=None,
        existing_id=existing_id,
        is_admin=current_user.is_admin,
    ), 400 if form.errors else 200


@bp.route("/competitors/profiles/<int:profile_id>/edit", methods=["GET", "POST"])
@login_required
def edit_profile(profile_id: int):
    profile = get_in_scope_or_404(CompetitorProfile, profile_id, current_user, *PROFILE_PAGE)
    customer = profile.customer
    form = ProfileForm(obj=profile)
    if not form.is_submitted():
        form.threat.data = profile.threat.value
        form.source.data = profile.source.value if profile.source else ""
    status, stale = 200, None
    if form.validate_on_submit():
        outcome = write(
            lambda: competitor_service.update_profile(
                profile, actor=current_user, version=_submitted_version(form), **form.values()
            ),
            done=lambda saved: _("The profile of %(name)s is saved.", name=profile.competitor.name),
            to=_customer_page(customer.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:
            # The user's input stays in the form beside the stored values; saving again
            # from here is a deliberate choice made after seeing what the colleague saved.
            form.version.data = str(profile.version)
            status, stale = 409, _comparison(form, profile)
    if form.errors:
        status = 400
    return render_template(
        "competitors/profile_form.html",
        form=form,
        customer=customer,
        profile=profile,
        stale=stale,
        delete_form=ConfirmForm(formdata=None),
    ), status


@bp.route("/competitors/profiles/<int:profile_id>/delete", methods=["POST"])
@login_required
def delete_profile(profile_id: int):
    profile = get_in_scope_or_404(CompetitorProfile, profile_id, current_user, *PROFILE_PAGE)
    confirm_or_ask(
        _("Delete the profile of %(name)s? This cannot be undone.", name=profile.competitor.name),
        button=_("Delete"),
    )
    back = _customer_page(profile.customer_id)
    return write(
        lambda: competitor_service.delete_profile(profile, actor=current_user),
        done=_("The profile of %(name)s is deleted.", name=profile.competitor.name),
        to=back,
        back=back,
    ).response
