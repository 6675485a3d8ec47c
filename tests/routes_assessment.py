"""The assessment's routes in the access matrix (issue 15), merged into tests/routes.py.

Team sheets are their supervisor's and the admins' (`TEAM_LED`: the team's managers and
other supervisors get 404); a manager's scorecard follows the manager as their customers
do (own once published, their supervisor's, an admin's); the weights are admins'.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.routes import DECIDERS, Effect, World, reloaded  # noqa: F401  (reloaded: effects)

TEAM_LED_ALLOWED = {"supervisor", "admin"}


def _period():
    from crm.services.assessment import periods
    from models import PeriodKind

    return periods.current(PeriodKind.MONTH).previous()  # over: it can be published


def _team_sheet(w: World) -> dict:
    """Team One's last month: what its supervisor (sup1) keeps; the owner m1 is in it."""
    team = w.org["team1"]
    return w.builds(team, w.owner.display_name, period=_period().key, team_id=team.id)


def _published_card(w: World) -> dict:
    """The owner's (m1's) card for last month, published, so the owner may open it too."""
    from crm.extensions import db
    from crm.services.assessment import store

    if not store.publications(_period(), w.org["team1"].id):  # once per world
        store.publish(_period(), w.org["team1"], reason=None, actor=w.org["sup1"])
        db.session.commit()
    return w.builds(w.owner, w.owner.display_name, period=_period().key, user_id=w.owner.id)


def _card_line(w: World) -> dict:
    return {**_published_card(w), "code": "01"}


def _card_to_task(w: World) -> dict:
    return w.builds(w.owner, w.owner.display_name, period=_period().key, user_id=w.owner.id)


def _task(w: World) -> dict:
    from crm.extensions import db
    from crm.services.assessment import tasks

    task = tasks.add_task(
        w.owner, _period(), title="矩阵临时任务", description=None, weight=1, actor=w.org["sup1"]
    )
    db.session.commit()
    return w.builds(task, None, task_id=task.id)


def _weights_form(w: World) -> dict:
    return w.builds(None, 'name="w01_weight"', kind="month", level="junior")


def _weight_version(w: World) -> dict:
    from crm.extensions import db
    from crm.services.assessment import catalog, periods, weights
    from models import Level, PeriodKind

    start = periods.current(PeriodKind.MONTH).following().first
    version = weights.save_version(
        Level.JUNIOR,
        PeriodKind.MONTH,
        start,
        catalog.BUILT_IN[(Level.JUNIOR, PeriodKind.MONTH)],
        note="矩阵版本",
        actor=w.org["admin"],
    )
    db.session.commit()
    return w.builds(version, "矩阵版本", set_id=version.id)


TEAM_LED: dict[str, Callable[[World], dict]] = {
    "assessment.team": _team_sheet,
    "assessment.export": _team_sheet,
    "assessment.publish": _team_sheet,
    "assessment.recompute": _team_sheet,
    "assessment.targets_page": _team_sheet,
    "assessment.import_targets": _team_sheet,
}
CUSTOMER_SCOPED: dict[str, Callable[[World], dict]] = {
    "assessment.scorecard": _published_card,
    "assessment.line_records": _card_line,
    # The manager's supervisor or an admin sets and scores tasks; the manager is refused.
    "assessment.add_task": _card_to_task,
    "assessment.score_task": _task,
    "assessment.delete_task": _task,
}
ADMIN_ONLY: dict[str, Callable[[World], dict]] = {
    "assessment_admin.edit": _weights_form,
    "assessment_admin.version": _weight_version,
}
# A period (2026-03, 2026-Q1), not a record: the viewer's own card or teams.
NOT_RECORDS = {"assessment.period_view", "assessment.level_review"}


def _count(model, **where) -> int:
    from sqlalchemy import func, select

    from crm.extensions import db

    db.session.expire_all()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def _published(_team) -> bool:
    from models import AssessmentPublication

    return _count(AssessmentPublication) == 1


def _drafts(_team) -> bool:
    from models import Scorecard

    return _count(Scorecard, period=_period().key) >= 2


def _target_set(_team) -> bool:
    from models import AssessmentTarget

    return _count(AssessmentTarget) == 1


def _owner_task(_owner) -> bool:
    from models import TemporaryTask

    return _count(TemporaryTask, title="矩阵任务") == 1


def _score(w: World) -> dict:
    prefix = f"task{w.record.id}"
    return {
        f"{prefix}-score": "80",
        f"{prefix}-comment": "矩阵评分",
        f"{prefix}-version": w.record.version,
    }


POST_EFFECTS: dict[str, Effect] = {
    "assessment.publish": Effect(lambda w: {}, _published),
    "assessment.recompute": Effect(lambda w: {}, _drafts),
    "assessment.targets_page": Effect(lambda w: {f"t{w.owner.id}_C1_": "12"}, _target_set),
    "assessment.add_task": Effect(
        lambda w: {"title": "矩阵任务", "weight": "1"}, _owner_task, personas=DECIDERS
    ),
    "assessment.score_task": Effect(
        _score, lambda t: t is not None and t.score == 80, personas=DECIDERS
    ),
    "assessment.delete_task": Effect(lambda w: {}, lambda t: t is None, personas=DECIDERS),
}
QUERY_PARAMS = {
    ("blueprints/assessment/routes.py", "sort"): "not an id",  # which indicator ranks the sheet
}
