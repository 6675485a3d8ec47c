"""The periods, a period's teams (the department), a team's sheet: ranking, targets,
publishing, the CSV export; the level review after a quarter."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.assessment import bp
from blueprints.assessment.forms import (
    ImportTargetsForm,
    PublishForm,
    share_field,
    target_field,
    targets_form,
)
from blueprints.common import ConfirmForm, require_confirmation, write
from crm.permissions import refuse
from crm.services.assessment import assessing, catalog, periods, review, sheets, store, targets
from crm.services.assessment import weights as weight_sets
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.targets import TargetValue
from crm.services.imports import exports
from models import PeriodKind, Team

RECENT_MONTHS = 6
RECENT_QUARTERS = 4


def period_or_404(key: str) -> AssessmentPeriod:
    period = periods.parse(key)
    if period is None:
        abort(404)
    return period


def team_or_404(team_id: int) -> Team:
    """A team the viewer leads (any, for an admin); managers and other supervisors get 404."""
    team = store.team_in_charge(team_id, current_user)
    if team is None:
        refuse(404, f"assessment of team {team_id}", current_user)
    return team


@bp.route("/assessment/")
@login_required
def index():
    months = periods.recent(PeriodKind.MONTH, RECENT_MONTHS)
    quarters = periods.recent(PeriodKind.QUARTER, RECENT_QUARTERS)
    if current_user.is_manager:
        return render_template(
            "assessment/index.html",
            published=store.published_periods(current_user.id, current_user),
            months=months,
            quarters=quarters,
            teams=[],
            to_publish=[],
        )
    teams = store.teams_in_charge(current_user)
    # The finished quarter and month, first: what the supervisor publishes next.
    finished = [quarters[0].previous(), months[0].previous()]
    published = {period.key: store.latest_publications(period) for period in finished}
    to_publish = [
        (period, team)
        for period in finished
        for team in teams
        if team.id not in published[period.key]
    ]
    return render_template(
        "assessment/index.html",
        published=[],
        months=months,
        quarters=quarters,
        teams=teams,
        to_publish=to_publish,
    )


@bp.route("/assessment/<period>")
@login_required
def period_view(period: str):
    """A manager's own card; for supervisors their teams, for admins every team."""
    chosen = period_or_404(period)
    if current_user.is_manager:
        return redirect(url_for("assessment.scorecard", period=chosen.key, user_id=current_user.id))
    teams = store.teams_in_charge(current_user)
    return render_template(
        "assessment/period.html",
        period=chosen,
        lines=sheets.department(chosen, teams),
    )


@bp.route("/assessment/<period>/team/<int:team_id>")
@login_required
def team(period: str, team_id: int):
    chosen = period_or_404(period)
    return _team_page(chosen, team_or_404(team_id), sort=request.args.get("sort", sheets.TOTAL))


def _team_page(chosen: AssessmentPeriod, found: Team, *, sort=sheets.TOTAL, form=None, status=200):
    return (
        render_template(
            "assessment/team.html",
            sheet=sheets.team_sheet(chosen, found, sort=sort),
            period=chosen,
            team=found,
            indicators=catalog.INDICATORS,
            publish_form=form or PublishForm(formdata=None),
            recompute_form=ConfirmForm(formdata=None),
            may_publish=store.may_publish(current_user, found) and chosen.is_over(),
            sort_keys=sheets.sort_keys(),
        ),
        status,
    )


@bp.route("/assessment/<period>/team/<int:team_id>/sheet.csv")
@login_required
def export(period: str, team_id: int):
    """The team's sheet in the layout of the operators' table: Excel-ready (UTF-8, BOM)."""
    chosen = period_or_404(period)
    found = team_or_404(team_id)
    rows = sheets.csv_rows(sheets.team_sheet(chosen, found))
    cells = ([exports.guard_cell(str(c)) for c in row] for row in rows)
    name = f"assessment-{chosen.key}-team{found.id}"
    return Response(
        stream_with_context(exports.csv_chunks(cells)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.route("/assessment/<period>/team/<int:team_id>/publish", methods=["POST"])
@login_required
def publish(period: str, team_id: int):
    chosen = period_or_404(period)
    found = team_or_404(team_id)
    form = PublishForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: store.publish(chosen, found, reason=form.reason.data, actor=current_user),
            done=lambda publication: _(
                "%(period)s is published for %(team)s.", period=chosen.key, team=found.name
            ),
            to=url_for("assessment.team", period=chosen.key, team_id=found.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return _team_page(chosen, found, form=form, status=400)


@bp.route("/assessment/<period>/team/<int:team_id>/recompute", methods=["POST"])
@login_required
def recompute(period: str, team_id: int):
    """The team's drafts from the records as they are now (the scheduler does it hourly)."""
    chosen = period_or_404(period)
    found = team_or_404(team_id)
    require_confirmation()
    back = url_for("assessment.team", period=chosen.key, team_id=found.id)
    return write(
        lambda: store.refresh_team(chosen, found.id),
        done=_("The team's figures are computed again."),
        to=back,
        back=back,
    ).response


# Targets -------------------------------------------------------------------------------


def _target_keys(period: AssessmentPeriod, managers) -> list[targets.Key]:
    """The targets the team's levels score against: those of the indicators they assess."""
    in_force = weight_sets.in_force(period.kind, period.first)
    used = {
        code
        for m in managers
        for code, line in in_force[m.level].spec.lines.items()
        if line.assessed
    }
    return [key for key in targets.target_keys() if key[0] in used]


def _grid_values(managers, keys, current) -> dict:
    """The form's starting values: the targets set for the period."""
    data = {}
    for m in managers:
        for code, part in keys:
            row = current.get(m.id, {}).get((code, part))
            if row is not None:
                data[target_field(m.id, code, part)] = row.target
                if part:
                    data[share_field(m.id, part)] = row.share
    return data


@bp.route("/assessment/<period>/team/<int:team_id>/targets", methods=["GET", "POST"])
@login_required
def targets_page(period: str, team_id: int):
    chosen = period_or_404(period)
    found = team_or_404(team_id)
    managers = store.assessed_managers(found.id)
    keys = _target_keys(chosen, managers)
    current = targets.targets_for(chosen, [m.id for m in managers])
    form = targets_form(managers, keys, data=_grid_values(managers, keys, current))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            typed = {
                m.id: {
                    (code, part): TargetValue(
                        form[target_field(m.id, code, part)].data,
                        form[share_field(m.id, part)].data if part else None,
                    )
                    for code, part in keys
                }
                for m in managers
            }
            outcome = write(
                lambda: assessing.save_team_targets(chosen, found, typed, actor=current_user),
                done=_("The targets for %(period)s are saved.", period=chosen.key),
                to=url_for("assessment.team", period=chosen.key, team_id=found.id),
                form=form,
            )
            if outcome.response is not None:
                return outcome.response
            status = outcome.status
        else:
            status = 400
    return _targets_page(chosen, found, managers, keys, current, form, status=status)


def _targets_page(chosen, found, managers, keys, current, form, *, import_form=None, status=200):
    return (
        render_template(
            "assessment/targets.html",
            period=chosen,
            team=found,
            managers=managers,
            keys=keys,
            form=form,
            defaults=_defaults(chosen, managers, keys),
            indicators=catalog.INDICATORS,
            parts=catalog.PARTS,
            target_field=target_field,
            share_field=share_field,
            import_form=import_form or ImportTargetsForm(formdata=None),
            columns=targets.CSV_COLUMNS,
        ),
        status,
    )


def _defaults(period, managers, keys) -> dict:
    """What each box falls back to when left empty: the standing or the level's target."""
    in_force = weight_sets.in_force(period.kind, period.first)
    standing = targets.standing_targets([m.id for m in managers])
    found: dict[tuple[int, str], Decimal | None] = {}
    for m in managers:
        for code, part in keys:
            if part:
                continue
            line = in_force[m.level].spec.lines[code]
            resolved = targets.resolve(code, line, {}, standing.get(m.id), period)
            found[(m.id, code)] = resolved.value if line.assessed else None
    return found


@bp.route("/assessment/<period>/team/<int:team_id>/targets/import", methods=["POST"])
@login_required
def import_targets(period: str, team_id: int):
    chosen = period_or_404(period)
    found = team_or_404(team_id)
    form = ImportTargetsForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        outcome = write(
            lambda: assessing.import_targets(chosen, found, data, actor=current_user),
            done=lambda count: _("%(count)d targets are imported.", count=count),
            to=url_for("assessment.team", period=chosen.key, team_id=found.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    managers = store.assessed_managers(found.id)
    keys = _target_keys(chosen, managers)
    current = targets.targets_for(chosen, [m.id for m in managers])
    grid = targets_form(managers, keys, data=_grid_values(managers, keys, current))
    return _targets_page(chosen, found, managers, keys, current, grid, import_form=form, status=400)


# The level review --------------------------------------------------------------------------


@bp.route("/assessment/<period>/review")
@login_required
def level_review(period: str):
    """After a quarter: who the scores suggest for another level (information only)."""
    chosen = period_or_404(period)
    if current_user.is_manager or chosen.kind is not PeriodKind.QUARTER:
        abort(404)
    return render_template(
        "assessment/review.html",
        period=chosen,
        lines=review.level_review(chosen, current_user),
        Suggestion=review.Suggestion,
        top_share=review.top_share(),
        floor=review.floor(),
    )
