"""Organisation-wide funnel and days in stage, computed by the scheduler, not per view.

Across a province (150,000 opportunities, 600,000 stage-history rows) these two
figures take about a second to count, and they move slowly: both describe the
opportunities created over the last twelve months. So the scheduler process counts
them every SNAPSHOT_MINUTES (a job with its own fixed id) and keeps the result in
its bookkeeping table; the admin's all-teams home shows it with its time.

The same run counts the admin's all-teams table and the home's cards (customers, at
risk, silent per tier) over the whole organisation, in its time zone: a grouped pass
over every customer, visit and opportunity that cost the admin's home about 250 ms on
SQLite and more on PostgreSQL. An admin whose zone and day are the snapshot's sees it
with its time; anyone else, or anyone before the first run, sees it counted live.

It also keeps the figures per opportunity owner and customer owner
(models/stage_snapshot.py): a team's view (a supervisor's, or an admin's with a team
chosen) sums its managers' rows on customers in the viewer's scope, and says when they
were counted. Counting a team's year live cost its home 8 ms on SQLite and 17 ms on
PostgreSQL; until the first run it still does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, delete, func, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import owner_scope
from crm.services import bulk
from crm.services.followups.scheduler_state import scheduler_states, state_row
from crm.services.pipeline import funnel
from crm.services.reporting import dashboards, metrics
from models import OwnerStageFigures, Role, SchedulerState, Team, User
from models.base import utcnow

SNAPSHOT_JOB_ID = "crm-stage-snapshot"
SNAPSHOT_MINUTES = 15
COHORT_DAYS = 365


@dataclass(frozen=True)
class StageSnapshot:
    computed_at: datetime
    reached: dict[int, int]  # stage id -> opportunities of the cohort that got that far
    days: dict[int, tuple[int, float]]  # stage id -> (opportunities, total days in it)


@dataclass(frozen=True)
class TeamLines:
    """The admin's all-teams table and cards as the job counted them."""

    computed_at: datetime
    lines: list[dashboards.TeamRow]
    headline: dashboards.Headline


def organisation_view() -> User:
    """Whom the job counts the all-teams table for: an admin in the organisation's time
    zone. Not stored: it only carries the scope (everything) and the zone."""
    return User(role=Role.ADMIN, active=True, timezone=current_app.config["DEFAULT_TIMEZONE"])


def cohort(now: datetime) -> metrics.Period:
    """The last twelve months, in the organisation's default time zone."""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return metrics.last_days(today_in(zone, now), zone, COHORT_DAYS)


def refresh(now: datetime | None = None) -> StageSnapshot:
    """Count both figures over every opportunity and store them (the caller commits)."""
    now = now or utcnow()
    period = cohort(now)
    parts = funnel.history_by_owners(period, now)
    state = state_row(SNAPSHOT_JOB_ID)
    # Schedulers that run the job at once (two started by mistake) take turns to replace
    # the rows: the second deletes what the first wrote instead of clashing with it.
    db.session.execute(
        select(SchedulerState.name).where(SchedulerState.name == SNAPSHOT_JOB_ID).with_for_update()
    )
    _keep_owner_figures(parts)
    # The organisation's figures are the sums of every pair's: the history is read once.
    snapshot = StageSnapshot(now, {}, {})
    for (_owner, _customer_owner, stage_id), (reached, opportunities, days) in parts.items():
        if reached:
            snapshot.reached[stage_id] = snapshot.reached.get(stage_id, 0) + reached
        if opportunities:
            count, total = snapshot.days.get(stage_id, (0, 0.0))
            snapshot.days[stage_id] = (count + opportunities, total + days)
    state.last_run_at = now
    state.info = {  # JSON keys are strings
        "reached": {str(k): v for k, v in snapshot.reached.items()},
        "days": {str(k): list(v) for k, v in snapshot.days.items()},
        "teams": _count_team_lines(now),
    }
    return snapshot


def _count_team_lines(now: datetime) -> dict:
    """What the admin's all-teams home counts live, as JSON, with the zone and day it
    was counted for (its week, month, quarter and silent customers depend on both)."""
    viewer = organisation_view()
    customers = dashboards.customer_figures(viewer, now=now)
    rows = dashboards.team_table(
        viewer, dashboards.managers_in_view(viewer), now=now, customers=customers
    )
    headline = customers.headline()
    return {
        "zone": viewer.timezone,
        "today": today_in(user_zone(viewer), now).isoformat(),
        "customers": headline.customers,
        "at_risk": headline.at_risk,
        "silent": {tier.value: n for tier, n in headline.silent_by_tier.items()},
        "lines": [
            {"team": line.team.id if line.team else None, "managers": line.managers}
            | dashboards.figures_json(line)
            for line in dashboards.team_rows(rows)
        ],
    }


def team_lines(viewer: User, teams: list[Team], now: datetime | None = None) -> TeamLines | None:
    """The last all-teams count if it holds for this admin now (their zone, their day),
    else None: the caller counts live. Lines of teams removed since are left out."""
    state = scheduler_states().get(SNAPSHOT_JOB_ID)
    counted = (state.info or {}).get("teams") if state and state.last_run_at else None
    if not counted or counted["zone"] != str(user_zone(viewer)):
        return None
    if date.fromisoformat(counted["today"]) != today_in(user_zone(viewer), now):
        return None
    by_id = {team.id: team for team in teams}
    lines = [
        dashboards.load_figures(
            dashboards.TeamRow(team=by_id.get(line["team"]), managers=line["managers"]), line
        )
        for line in counted["lines"]
        if line["team"] is None or line["team"] in by_id
    ]
    silent = {tier: int(counted["silent"].get(tier.value, 0)) for tier in dashboards.TIERS}
    headline = dashboards.Headline(counted["customers"], counted["at_risk"], silent)
    return TeamLines(state.last_run_at, lines, headline)


def latest() -> StageSnapshot | None:
    """The last snapshot the scheduler stored, or None before its first run."""
    state = scheduler_states().get(SNAPSHOT_JOB_ID)
    if state is None or state.last_run_at is None:
        return None
    info = state.info or {}
    return StageSnapshot(
        state.last_run_at,
        {int(k): int(v) for k, v in info.get("reached", {}).items()},
        {int(k): (int(v[0]), float(v[1])) for k, v in info.get("days", {}).items()},
    )


def _keep_owner_figures(parts: dict[tuple[int, int, int], list]) -> None:
    """Replace the per-owner rows, in the caller's transaction (a view never sees half)."""
    db.session.execute(delete(OwnerStageFigures))
    bulk.insert_rows(
        OwnerStageFigures.__table__,
        (
            {
                "opportunity_owner_id": owner_id,
                "customer_owner_id": customer_owner_id,
                "stage_id": stage_id,
                "reached": reached,
                "days_opportunities": days_opportunities,
                "days_total": days_total,
            }
            for (owner_id, customer_owner_id, stage_id), (
                reached,
                days_opportunities,
                days_total,
            ) in sorted(parts.items())
        ),
    )


def team_snapshot(viewer: User, owner_ids: list[int]) -> StageSnapshot | None:
    """The last snapshot for these managers' opportunities on customers in the viewer's
    scope (what `funnel.history_figures` counts live), or None before the job's first run.

    One statement: the job's row, joined to the team's rows summed per stage (none: a row
    of nulls, the team had nothing in the cohort).
    """
    S, F = SchedulerState, OwnerStageFigures
    rows = db.session.execute(
        select(
            S.last_run_at,
            F.stage_id,
            func.sum(F.reached).label("reached"),
            func.sum(F.days_opportunities).label("opportunities"),
            func.sum(F.days_total).label("total"),
        )
        .select_from(S)
        .outerjoin(
            F,
            and_(
                F.opportunity_owner_id.in_(owner_ids),
                owner_scope(viewer, F.customer_owner_id),
            ),
        )
        .where(S.name == SNAPSHOT_JOB_ID, S.last_run_at.is_not(None))
        .group_by(S.last_run_at, F.stage_id)
    ).all()
    if not rows:
        return None
    snapshot = StageSnapshot(rows[0].last_run_at, {}, {})
    for row in rows:
        if row.reached:
            snapshot.reached[row.stage_id] = int(row.reached)
        if row.opportunities:
            snapshot.days[row.stage_id] = (int(row.opportunities), float(row.total or 0))
    return snapshot
