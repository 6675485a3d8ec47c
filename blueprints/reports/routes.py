"""Reports over a period (page and CSV) and the managers' targets."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, flash, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import write
from blueprints.reports import bp
from blueprints.reports.charts import reports_charts
from blueprints.reports.forms import TargetForm
from crm.i18n import user_zone
from crm.permissions import refuse
from crm.services import pickers
from crm.services.archive.identity import is_record_id
from crm.services.imports import exports
from crm.services.people import teams as team_service
from crm.services.reporting import dashboards, metrics, reports, targets
from crm.services.reporting import plans as plan_reports
from models import PlanKind, Role

CSV_REPORTS = ("visits", "won", "movement", "coverage", "plans", "ratings")


def _selection():
    """The period, the managers in view narrowed by ?team= (admins) and ?manager=, and the
    manager filter's picker (a short list of those in view: an admin's are a thousand)."""
    period = metrics.period_from_args(request.args, user_zone(current_user))
    team_id = request.args.get("team", type=int) if current_user.is_admin else None
    in_view = dashboards.managers_named(current_user, team_id)
    manager_id = request.args.get("manager", type=int)
    managers = [m for m in in_view if m.id == manager_id] if manager_id else in_view
    choices = pickers.shortlist_of([(m.id, m.display_name) for m in in_view], chosen=manager_id)
    return period, team_id, manager_id, managers, choices


def _lines(managers, team_id: int | None, manager_id: int | None) -> reports.Lines:
    """A line per team for an admin who chose neither a team nor a manager."""
    by_team = team_service.whole_organisation(current_user, team_id, manager_id)
    return reports.lines_for(managers, by_team=by_team, teams=dashboards.teams() if by_team else ())


def _plan_kind() -> PlanKind:
    """?kind=month shows the monthly plans; anything else the weekly ones."""
    return PlanKind.MONTH if request.args.get("kind") == "month" else PlanKind.WEEK


@bp.route("/")
@login_required
def index():
    period, team_id, manager_id, managers, manager_choices = _selection()
    lines = _lines(managers, team_id, manager_id)
    visits = reports.visits_over_time(lines, period)
    won = reports.won_over_time(lines, period)
    movement = reports.pipeline_movement(lines, period)
    coverage = reports.tier_coverage(lines, period)
    return render_template(
        "reports/index.html",
        period=period,
        team_id=team_id,
        manager_id=manager_id,
        by_team=lines.by_team,
        all_managers=manager_choices,
        manager_picker=url_for("people.pick", role=Role.MANAGER),
        teams=dashboards.teams() if current_user.is_admin else [],
        visits=visits,
        won=won,
        movement=movement,
        coverage=coverage,
        charts=reports_charts(visits, won, movement, coverage),
        bucket_labels=[reports.bucket_label(b) for b in visits.buckets],
        csv_args={k: v for k, v in request.args.items() if k != "report"},
    )


@bp.route("/plans")
@login_required
def plans():
    """Plans submitted on time, late or not at all, their completion, and the ratings."""
    period, team_id, manager_id, managers, manager_choices = _selection()
    kind = _plan_kind()
    lines = _lines(managers, team_id, manager_id)
    if lines.by_team:
        report = plan_reports.team_submissions(lines, managers, period, kind)
    else:
        report = plan_reports.plan_report(managers, period, kind)
    return render_template(
        "reports/plans.html",
        period=period,
        kind=kind,
        team_id=team_id,
        manager_id=manager_id,
        by_team=lines.by_team,
        all_managers=manager_choices,
        manager_picker=url_for("people.pick", role=Role.MANAGER),
        teams=dashboards.teams() if current_user.is_admin else [],
        report=report,
        ratings=plan_reports.ratings_over_time(lines, period),
        rating_kinds=plan_reports.RATINGS,
        Submission=plan_reports.Submission,
        submission_labels=plan_reports.submission_labels(),
        goals=plan_reports.GOALS,
        goal_names=plan_reports.goal_names(),
        csv_args={k: v for k, v in request.args.items() if k != "report"},
    )


@bp.route("/export.csv")
@login_required
def export():
    """One report as CSV (?report=visits|won|movement|coverage|plans|ratings), same filters
    as its page."""
    report = request.args.get("report", "")
    if report not in CSV_REPORTS:
        refuse(404, f"report {report}", current_user)
    period, team_id, manager_id, managers, _choices = _selection()
    lines = _lines(managers, team_id, manager_id)
    if report == "visits":
        rows = reports.series_rows(reports.visits_over_time(lines, period), "visits")
    elif report == "won":
        rows = reports.series_rows(reports.won_over_time(lines, period), "won")
    elif report == "movement":
        rows = reports.movement_rows(reports.pipeline_movement(lines, period))
    elif report == "coverage":
        rows = reports.coverage_rows(reports.tier_coverage(lines, period))
    elif report == "plans" and lines.by_team:
        teams = plan_reports.team_submissions(lines, managers, period, _plan_kind())
        rows = plan_reports.team_plan_rows(teams)
    elif report == "plans":
        rows = plan_reports.plan_rows(plan_reports.plan_report(managers, period, _plan_kind()))
    else:
        rows = plan_reports.rating_rows(plan_reports.ratings_over_time(lines, period))
    name = f"{report}-{period.first:%Y%m%d}-{period.last:%Y%m%d}"
    return _csv_response(([_cell(c) for c in row] for row in rows), name)


def _cell(value) -> str:
    return exports.guard_cell(value) if isinstance(value, str) else str(value)


def _csv_response(rows: Iterable[list[str]], name: str) -> Response:
    return Response(
        stream_with_context(exports.csv_chunks(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.route("/targets", methods=["GET", "POST"])
@login_required
def targets_page():
    """A team's managers' targets. An admin chooses the team first: a form for each of a
    thousand managers made a page nobody scrolls, and its cost grew with the organisation."""
    if current_user.is_manager:
        refuse(403, "targets", current_user)
    team_id = request.args.get("team", type=int) if current_user.is_admin else None
    choose_team = team_service.whole_organisation(current_user, team_id)
    status = 200
    form = TargetForm()
    if request.method == "POST":
        raw = form.manager_id.data or ""
        manager = targets.settable_manager(current_user, int(raw)) if is_record_id(raw) else None
        if manager is None:
            refuse(404, f"targets of user {raw}", current_user)
        if form.validate_on_submit():
            outcome = write(
                lambda: targets.set_target(
                    manager,
                    weekly_visits=form.weekly_visits.data,
                    quarterly_won=form.quarterly_won.data,
                    actor=current_user,
                ),
                done=lambda _result: _(
                    "Targets for %(name)s are saved.", name=manager.display_name
                ),
                # An admin comes back to the manager's team; a supervisor has no team to choose.
                to=url_for(
                    "reports.targets_page",
                    team=team_id or (manager.team_id if current_user.is_admin else None),
                ),
            )
            if outcome.response is not None:
                return outcome.response
            if outcome.stale:  # the page shows the stored targets; say why nothing was saved
                flash(str(outcome.stale.message), "warning")
            status = outcome.status
        else:
            status = 400
            for errors in form.errors.values():
                for message in errors:
                    flash(str(message), "danger")
    in_view = [] if choose_team else dashboards.managers_in_view(current_user, team_id)
    managers = [m for m in in_view if targets.may_set_targets(current_user, m)]
    return (
        render_template(
            "reports/targets.html",
            managers=managers,
            current=targets.targets_of([m.id for m in managers]),
            form=form,
            teams=dashboards.teams() if current_user.is_admin else [],
            team_id=team_id,
            choose_team=choose_team,
        ),
        status,
    )
