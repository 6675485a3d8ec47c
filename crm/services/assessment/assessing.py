"""What a supervisor does to a team's period (targets, tasks, scores), each change followed
by the team's drafts computed again, so the team page shows it at once."""

from __future__ import annotations

from decimal import Decimal

from crm.services.assessment import store, targets, tasks
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.targets import Key, TargetValue
from models import Team, TemporaryTask, User


def save_team_targets(
    period: AssessmentPeriod,
    team: Team,
    values: dict[int, dict[Key, TargetValue]],
    *,
    actor: User,
) -> int:
    """Each manager's targets as typed on the team's grid (an empty box clears one)."""
    managers = {m.id: m for m in store.assessed_managers(team.id)}
    count = 0
    for user_id, typed in values.items():
        if user_id in managers:
            count += targets.save_targets(managers[user_id], period, typed, actor=actor)
    store.refresh_team(period, team.id)
    return count


def import_targets(period: AssessmentPeriod, team: Team, data: bytes, *, actor: User) -> int:
    count = targets.import_csv(period, team, data, actor=actor)
    store.refresh_team(period, team.id)
    return count


def add_task(
    manager: User,
    period: AssessmentPeriod,
    *,
    title: str,
    description: str | None,
    weight: int,
    actor: User,
) -> TemporaryTask:
    task = tasks.add_task(
        manager, period, title=title, description=description, weight=weight, actor=actor
    )
    store.refresh_team(period, manager.team_id)
    return task


def score_task(
    task: TemporaryTask,
    period: AssessmentPeriod,
    *,
    score: Decimal,
    comment: str,
    version: int | None,
    actor: User,
) -> TemporaryTask:
    tasks.score_task(task, score=score, comment=comment, version=version, actor=actor)
    store.refresh_team(period, task.user.team_id)
    return task


def remove_task(task: TemporaryTask, period: AssessmentPeriod, *, actor: User) -> None:
    team_id = task.user.team_id
    tasks.remove_task(task, actor=actor)
    store.refresh_team(period, team_id)
