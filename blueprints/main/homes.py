"""What each role's home page shows: figures from the services, shaped for charts."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _

from crm.labels import label
from crm.services.activity.work_log import iso_week
from crm.services.people import teams as team_service
from crm.services.pipeline import funnel
from crm.services.plans import team_columns
from crm.services.reporting import dashboards, lost, metrics, snapshots
from crm.templating import list_url
from models import MessageStatus, User
from models.base import utcnow


def stage_name(stage) -> str:
    return stage.name_for(str(get_locale()))


def _num(value) -> float:
    return float(value or 0)


def manager_context(user: User) -> dict:
    """My day: my numbers, my pipeline by stage, what closes this month."""
    p = dashboards.periods_for(user)
    customers = dashboards.customer_figures(user)
    row = dashboards.team_table(user, [user], customers=customers)[0]
    stages = dashboards.pipeline_by_stage(user, [user.id])
    return {
        "headline": customers.headline(),
        "periods": p,
        "me": row,
        "week_arg": iso_week(p.week.first),
        "stages": stages,
        "closing": dashboards.closing_in(user, [user.id], p.month),
        "missing_dm": dashboards.missing_decision_maker_count(user),
        "pipeline_chart": {
            "type": "bar",
            "labels": [stage_name(s.stage) for s in stages],
            "datasets": [
                {"label": _("Amount"), "data": [_num(s.amount) for s in stages]},
                {"label": _("Weighted"), "data": [_num(s.weighted) for s in stages]},
            ],
        },
    }


def team_context(viewer: User, team_id: int | None, sort: str) -> dict:
    """The cards, team table, funnel, days in stage, losses and expiring competitor contracts.

    An admin with no team chosen sees a line per team. The scheduler's snapshot
    (crm/services/reporting/snapshots.py) gives those lines and the cards, and the funnel's
    "reached" and the days in stage: over every opportunity, or summed for the team's
    managers. Live until its first run, and for an admin whose zone or day is not its own.
    """
    p = dashboards.periods_for(viewer)
    all_teams = team_service.whole_organisation(viewer, team_id)
    counted = snapshots.team_lines(viewer, dashboards.teams()) if all_teams else None
    if counted:
        managers, rows, headline = [], [], counted.headline
    else:
        customers = dashboards.customer_figures(viewer)
        managers = dashboards.managers_in_view(viewer, team_id)
        rows = dashboards.team_table(viewer, managers, sort=sort, customers=customers)
        headline = customers.headline()
    ids = None if all_teams else [m.id for m in managers]
    cohort = metrics.last_days(p.today, p.week.zone, 365)
    snapshot = snapshots.latest() if ids is None else snapshots.team_snapshot(viewer, ids)
    if snapshot:
        reached, totals = snapshot.reached, snapshot.days
    else:
        reached, totals = funnel.history_figures(viewer, ids, cohort, utcnow())
    steps = funnel.funnel(viewer, ids, cohort, reached=reached)
    days = funnel.days_in_stage(viewer, ids, cohort, totals=totals)
    by_reason, by_competitor = funnel.losses(viewer, ids, p.quarter)
    if counted:
        lines = dashboards.sort_team_lines(counted.lines, sort)
    else:
        lines = dashboards.team_rows(rows, sort=sort) if all_teams else rows
    # Plan columns per manager (not on the all-teams lines: a team has no plan of its own).
    plans = None if all_teams else team_columns.plan_cells(viewer, managers, p.week.first)
    return {
        "headline": headline,
        "lines_counted_at": counted.computed_at if counted else None,
        "periods": p,
        "cohort": cohort,
        "week_arg": iso_week(p.week.first),
        "rows": rows,
        "team_lines": lines if all_teams else None,
        "plans": plans,
        "snapshot": snapshot,
        "all_teams": all_teams,
        "snapshot_minutes": snapshots.SNAPSHOT_MINUTES,
        "sort": sort,
        "steps": steps,
        "days": days,
        "by_reason": by_reason,
        "by_competitor": by_competitor,
        "expiring": funnel.expiring_contracts(viewer, ids, p.today),
        # The supervisor's (issue 14); the admin home is held to its statements already.
        "lost_customers": (
            lost.lost_in(p.quarter, viewer=viewer, owner_ids=ids) if viewer.is_supervisor else None
        ),
        "team_id": team_id,
        "visits_chart": {
            "type": "bar",
            "labels": [line_name(r) for r in lines],
            "datasets": [
                {"label": _("Visits this week"), "data": [r.visits_week for r in lines]},
                {"label": _("Weekly target"), "data": [r.visit_target for r in lines]},
            ],
        },
        "funnel_chart": {
            "type": "bar",
            "horizontal": True,
            "labels": [stage_name(s.stage) for s in steps],
            "datasets": [
                {"label": _("Reached (last 12 months)"), "data": [s.reached for s in steps]},
                {"label": _("Open now"), "data": [s.open_count for s in steps]},
            ],
        },
        "days_chart": {
            "type": "bar",
            "horizontal": True,
            "labels": [stage_name(d.stage) for d in days],
            "datasets": [
                {"label": _("Average days"), "data": [_num(d.average_days) for d in days]}
            ],
        },
        "reasons_chart": {
            "type": "doughnut",
            "labels": [label(line.key) if line.key else _("Not given") for line in by_reason],
            "datasets": [{"label": _("Lost"), "data": [line.count for line in by_reason]}],
        },
    }


def line_name(line: dashboards.Figures) -> str:
    """A team-table line's name: the manager's, or the team's."""
    if isinstance(line, dashboards.ManagerRow):
        return line.manager.display_name
    return line.team.name if line.team else _("No team")


def admin_context(team_id: int | None) -> dict:
    return {
        "teams": dashboards.teams(),
        "health": dashboards.system_health(),
        "statuses": MessageStatus,
    }


def closed_in(period: metrics.Period) -> dict[str, str]:
    """List filters for "closed in the period" (the same local days as the figure)."""
    return {"closed_from": period.first.isoformat(), "closed_to": period.last.isoformat()}


def created_in(period: metrics.Period) -> dict[str, str]:
    return {"created_from": period.first.isoformat(), "created_to": period.last.isoformat()}


def visits_in(period: metrics.Period) -> dict[str, str]:
    """Work-log filters for the visits of the period (from/to are reserved words in Jinja)."""
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def opportunities_url(owner_id: int | None = None, **args) -> str:
    """The opportunity list behind a figure (the owner filter when one manager's)."""
    owner = {"owner": owner_id} if owner_id else {}
    return list_url("opportunities.index", **owner, **args)
