"""The home page (by role: my day, my team, every team) and the health check."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_login import current_user, login_required

from blueprints.main import bp, homes
from crm.extensions import limiter
from crm.services.followups.reminders import pending_reminders_for
from crm.services.reporting import dashboards, health


@bp.route("/")
@login_required
def home():
    if current_user.is_manager:
        context = homes.manager_context(current_user)
    else:
        team_id = request.args.get("team", type=int) if current_user.is_admin else None
        sort = request.args.get("sort", "name")
        if sort.lstrip("-") not in dashboards.SORT_KEYS:
            sort = "name"
        context = homes.team_context(current_user, team_id, sort)
    if current_user.is_admin:
        context |= homes.admin_context(context.get("team_id"))
    return render_template(
        "main/home.html",
        follow_ups=pending_reminders_for(current_user),
        opportunities_url=homes.opportunities_url,
        closed_in=homes.closed_in,
        created_in=homes.created_in,
        visits_in=homes.visits_in,
        stage_name=homes.stage_name,
        line_name=homes.line_name,
        **context,
    )


@bp.route("/healthz")
@limiter.exempt
def healthz():
    database = "ok" if health.database_reachable() else "unreachable"
    status = 200 if database == "ok" else 503
    scheduler = health.scheduler_health() if database == "ok" else {"status": "unknown"}
    return jsonify(
        status="ok" if status == 200 else "degraded", database=database, scheduler=scheduler
    ), status
