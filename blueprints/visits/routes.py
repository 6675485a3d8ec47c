"""The work log: log a visit, list a week's visits, show, edit and delete one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import groupby

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from blueprints.admin.forms import ConfirmForm
from blueprints.common import confirm_or_ask, write
from blueprints.visits import bp
from blueprints.visits.forms import FIELD_LABELS, NewVisitForm, VisitForm, local_parts
from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.labels import label
from crm.permissions import (
    MAX_RECORD_ID,
    get_customer_or_404,
    get_in_scope_or_404,
)
from crm.services.activity import check_in as check_in_service
from crm.services.activity import visits as visit_service
from crm.services.activity import work_log
from crm.services.activity.work_log import iso_week, week_monday
from crm.services.archive import hub as customer_hub
from crm.services.archive import picker as customer_picker
from crm.services.followups import reminders as reminder_service
from crm.services.people import picker as people_picker
from crm.services.people import teams as team_service
from crm.services.people import users as user_service
from crm.services.pickers import Shortlist
from crm.templating import local_date, local_datetime, ui_language
from models import (
    Contact,
    Customer,
    Opportunity,
    Team,
    Visit,
    VisitKind,
)

# The check-in badge (templates/visits/_check_in.html) on any page that lists visits.
bp.add_app_template_global(check_in_service.check_in_of, "check_in_of")

# The customer search shows at most this many matches.
MATCH_LIMIT = 30


# Loaded with each Visit its pages show.
VISIT_PAGE = (
    joinedload(Visit.user),
    joinedload(Visit.opportunity),
    selectinload(Visit.contacts),
)


def _contact_choices(customer: Customer, visit: Visit | None = None) -> list[Contact]:
    """The customer's active contacts, plus any (since departed) already on the visit."""
    return customer_hub.contact_choices(
        customer, also=[c.id for c in visit.contacts] if visit else []
    )


def _opportunity_choices(customer: Customer, visit: Visit | None = None) -> list[Opportunity]:
    """The customer's open opportunities, plus the one the visit is already linked to."""
    return customer_hub.opportunity_choices(customer, also=visit.opportunity_id if visit else None)


def _opportunity_url(opportunity: Opportunity | None) -> str | None:
    """The opportunity's page, once the opportunities pages exist."""
    if opportunity is None:
        return None
    try:
        return url_for("opportunities.show", opportunity_id=opportunity.id)
    except BuildError:
        return None


# Logging a visit ------------------------------------------------------------


def _pick_customer():
    """Step one without JavaScript: choose the customer, then the form shows its contacts."""
    q = (request.args.get("q") or "").strip()[:100]
    matches = []
    if q:
        matches = customer_picker.customers_matching(q, viewer=current_user, limit=MATCH_LIMIT)
        exact = [c for c in matches if c.name == q]
        if len(exact) == 1:
            return redirect(url_for("visits.new", customer_id=exact[0].id))
    return render_template(
        "visits/pick.html",
        q=q,
        matches=matches,
        own=customer_picker.own_shortlist(viewer=current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    customer_id = request.args.get("customer_id", type=int)
    if not customer_id:
        if request.method == "POST":
            abort(400)
        return _pick_customer()
    customer = get_customer_or_404(customer_id, current_user)
    zone = user_zone(current_user)
    opportunities = _opportunity_choices(customer)
    form = NewVisitForm(contacts=_contact_choices(customer), opportunities=opportunities)
    if not form.is_submitted():
        form.occurred_on.data, form.occurred_time.data = local_parts(datetime.now(UTC), zone)
        form.kind.data = VisitKind.ON_SITE.value
        wanted = request.args.get("opportunity_id", type=int)
        form.opportunity_id.data = wanted if wanted in {o.id for o in opportunities} else 0
    if form.validate_on_submit():
        outcome = write(
            lambda: visit_service.log_visit(
                customer, actor=current_user, **form.visit_fields(zone), **form.check_in_fields()
            ),
            done=lambda visit: _logged(visit, customer, site_wanted=form.confirm_site.data),
            to=lambda visit: url_for("visits.show", visit_id=visit.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
    return render_template(
        "visits/form.html", form=form, customer=customer, visit=None, current=None
    ), 400 if form.errors else 200


def _logged(visit: Visit, customer: Customer, *, site_wanted: bool) -> str:
    """The flash after logging: says whether it was checked in and the site set."""
    logged = _("The visit to %(name)s is logged.", name=customer.name)
    if visit.check_in_lat is None:
        if site_wanted:
            return logged + " " + _("No location was recorded, so the site is not set.")
        return logged
    site = (customer.site_lat, customer.site_lng)
    if site_wanted and site == (visit.check_in_lat, visit.check_in_lng):
        return logged + " " + _("Checked in; this check-in is now the customer's site.")
    return logged + " " + _("Checked in.")


# One visit ------------------------------------------------------------------


@bp.route("/<int:visit_id>")
@login_required
def show(visit_id: int):
    visit = get_in_scope_or_404(Visit, visit_id, current_user, *VISIT_PAGE)
    return render_template(
        "visits/show.html",
        visit=visit,
        follow_ups=reminder_service.reminders_of_visit(visit),
        opportunity_url=_opportunity_url(visit.opportunity),
        confirm_form=ConfirmForm(),
    )


def _current_rows(visit: Visit) -> list[tuple[str, str]]:
    """The stored values of a visit, labelled, for showing beside a stale form."""
    separator = "、" if ui_language() == "zh_CN" else ", "
    return [
        (str(FIELD_LABELS["occurred_at"]), local_datetime(visit.occurred_at)),
        (str(FIELD_LABELS["kind"]), label(visit.kind)),
        (
            str(FIELD_LABELS["opportunity_id"]),
            visit.opportunity.title if visit.opportunity else "—",
        ),
        (str(FIELD_LABELS["contact_ids"]), separator.join(c.name for c in visit.contacts) or "—"),
        (str(FIELD_LABELS["purpose"]), visit.purpose or "—"),
        (str(FIELD_LABELS["outcome"]), visit.outcome or "—"),
        (str(FIELD_LABELS["next_step"]), visit.next_step or "—"),
        (str(FIELD_LABELS["follow_up_on"]), local_date(visit.follow_up_on) or "—"),
    ]


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(visit_id: int):
    visit = get_in_scope_or_404(Visit, visit_id, current_user, *VISIT_PAGE)
    customer = visit.customer
    zone = user_zone(current_user)
    form = VisitForm(
        obj=visit,
        contacts=_contact_choices(customer, visit),
        opportunities=_opportunity_choices(customer, visit),
    )
    if not form.is_submitted():
        form.occurred_on.data, form.occurred_time.data = local_parts(visit.occurred_at, zone)
        form.kind.data = visit.kind.value
        form.contact_ids.data = [c.id for c in visit.contacts]
        form.opportunity_id.data = visit.opportunity_id or 0
        form.version.data = visit.version
    current = None
    if form.validate_on_submit():
        outcome = write(
            lambda: visit_service.update_visit(
                visit, actor=current_user, version=form.version.data, **form.visit_fields(zone)
            ),
            done=_("The visit is saved."),
            to=url_for("visits.show", visit_id=visit.id),
            form=form,
        )
        if outcome.response:
            return outcome.response
        if outcome.stale:
            current = _current_rows(visit)
            # Saving again now deliberately replaces what the other person saved.
            form.version.data = visit.version
    status = 409 if current else 400 if form.errors else 200
    return render_template(
        "visits/form.html", form=form, customer=customer, visit=visit, current=current
    ), status


@bp.route("/<int:visit_id>/delete", methods=["POST"])
@login_required
def delete(visit_id: int):
    visit = get_in_scope_or_404(Visit, visit_id, current_user, *VISIT_PAGE)
    confirm_or_ask(
        _("Delete this visit to %(name)s? This cannot be undone.", name=visit.customer.name),
        button=_("Delete"),
        back=url_for("visits.show", visit_id=visit.id),
    )
    week = iso_week(week_monday(None, user_zone(current_user), visit.occurred_at))
    return write(
        lambda: visit_service.delete_visit(visit, actor=current_user),
        done=_("The visit to %(name)s is deleted.", name=visit.customer.name),
        to=url_for("visits.index", week=week),
        back=url_for("visits.show", visit_id=visit_id),
    ).response


# The work log ---------------------------------------------------------------


def _people_and_teams(member_id: int | None) -> tuple[Shortlist | None, list[Team]]:
    """Whose work logs the current user may filter by (as the filter's picker shows them),
    and (admins) which teams."""
    if current_user.is_manager:
        return None, []
    people = people_picker.people_shortlist(current_user, chosen=member_id)
    if member_id and 0 < member_id <= MAX_RECORD_ID and member_id not in people.ids():
        # One who has left: their log stays open to those who saw it.
        member = user_service.person_in_scope(member_id, viewer=current_user)
        if member is not None:
            people = people.keeping(member.id, member.display_name)
    teams = []
    if current_user.is_admin:
        teams = team_service.teams_by_name()
    return people, teams


def _team_totals(teams: list[Team], totals: work_log.WeekTotals) -> list[tuple[int | None, str]]:
    """(team id, name) of the teams with visits in the totals, by name; None: no team."""
    shown: list[tuple[int | None, str]] = [(t.id, t.name) for t in teams if totals.by_team[t.id]]
    if totals.by_team[None]:
        shown.append((None, _("No team")))
    return shown


@bp.route("/")
@login_required
def index():
    zone = user_zone(current_user)
    monday = week_monday(request.args.get("week"), zone)
    # ?from=&to= (e.g. a month, from a home-page figure) replaces the week when valid.
    chosen = work_log.date_range(request.args.get("from"), request.args.get("to"))
    first, days = chosen or (monday, 7)
    member_id = request.args.get("member", type=int)
    people, teams = _people_and_teams(member_id)
    member_id = member_id if people else None
    team_id = request.args.get("team", type=int) if teams else None
    scope = {
        "monday": first,
        "zone": zone,
        "member_id": member_id,
        "team_id": team_id,
        "days": days,
    }
    # An admin's whole organisation: per team (a thousand people's figures are no line to
    # read, and cost most of the page); a chosen team, per member.
    per_team = team_service.whole_organisation(current_user, team_id, member_id)
    totals = work_log.work_log_totals(current_user, **scope, per_team=per_team)
    # The totals count the same visits: the pager takes their sum rather than counting
    # them again (an admin's week, 20,000 visits: 140 ms).
    page = db.paginate(
        work_log.work_log_visits(current_user, **scope),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        count=False,
    )
    page.total = totals.total
    by_day = [
        (day, list(visits))
        for day, visits in groupby(page.items, key=lambda v: v.occurred_at.astimezone(zone).date())
    ]
    this_monday = week_monday(None, zone)
    return render_template(
        "visits/index.html",
        page=page,
        by_day=by_day,
        totals=totals,
        people=people,
        member_totals=user_service.names_by_id(totals.by_user) if people and not per_team else [],
        team_totals=_team_totals(teams, totals) if per_team else [],
        teams=teams,
        member_id=member_id,
        team_id=team_id,
        week=iso_week(monday),
        monday=monday,
        sunday=monday + timedelta(days=6),
        chosen_range=(first, first + timedelta(days=days - 1)) if chosen else None,
        prev_week=iso_week(monday - timedelta(days=7)),
        next_week=iso_week(monday + timedelta(days=7)) if monday < this_monday else None,
        this_week=iso_week(this_monday),
        today=today_in(zone),
        day_names={day: format_date(day, "EEE M/d") for day in totals.days},
        weekdays={day: format_date(day, "EEEE") for day in totals.days},
    )
