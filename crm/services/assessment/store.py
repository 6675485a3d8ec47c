"""Stored scorecards: drafts recomputed until a team's period is published, then frozen.

- `refresh` computes a period's cards for many managers and replaces their drafts in two
  statements (a DELETE and one multi-row INSERT); the scheduler refreshes the open
  periods of everyone, a supervisor's change refreshes their team's.
- `publish` stores the team's cards as they stand under a new publication (with who,
  when and, from the second time on, why); they are never recomputed after that.
- `team_cards` / `card_of` read what the pages show: the latest publication's cards,
  else the drafts, else (nothing stored yet) cards computed on the spot, not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import joinedload, load_only

from crm.extensions import db
from crm.permissions import led_team_ids, owner_scope, scoped
from crm.services.assessment import periods, scoring
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.scoring import Card
from crm.services.errors import DomainError, NotAllowed
from models import (
    AssessmentPublication,
    Level,
    PeriodKind,
    Role,
    Scorecard,
    Team,
    TemporaryTask,
    User,
)
from models.base import utcnow


def assessed_managers(
    team_id: int | None = None, *, team_ids: list[int] | None = None
) -> list[User]:
    """The active account managers (of one team, or of these teams): who is assessed."""
    stmt = (
        select(User)
        .options(
            load_only(
                User.username,
                User.display_name,
                User.role,
                User.level,
                User.team_id,
                User.timezone,
                User.active,
            )
        )
        .where(User.role == Role.MANAGER, User.active.is_(True))
        .order_by(User.display_name, User.id)
    )
    if team_id is not None:
        stmt = stmt.where(User.team_id == team_id)
    if team_ids is not None:
        stmt = stmt.where(User.team_id.in_(team_ids))
    return list(db.session.scalars(stmt))


def _row(card: Card, publication_id: int | None, at: datetime) -> dict:
    return {
        "user_id": card.user_id,
        "period": card.period,
        "publication_id": publication_id,
        "team_id": card.team_id,
        "level": card.level,
        "weight_set_id": card.weight_set_id,
        "kpi_points": card.kpi_points,
        "task_points": card.task_points,
        "total": card.total,
        "sheet": card.to_sheet(),
        "computed_at": at,
    }


def refresh(
    period: AssessmentPeriod,
    managers: list[User] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Recompute the period's drafts: of the managers given (whole teams), or of everyone."""
    everyone = managers is None
    managers = assessed_managers() if everyone else managers
    now = now or utcnow()
    cards = scoring.compute(period, managers, everyone=everyone, now=now)
    stmt = delete(Scorecard).where(
        Scorecard.period == period.key, Scorecard.publication_id.is_(None)
    )
    if not everyone:
        stmt = stmt.where(Scorecard.user_id.in_([m.id for m in managers]))
    db.session.execute(stmt)
    if cards:
        db.session.execute(insert(Scorecard), [_row(card, None, now) for card in cards])
    return len(cards)


def refresh_team(period: AssessmentPeriod, team_id: int | None) -> int:
    """A supervisor changed something of the team's period: its drafts again, at once."""
    if team_id is None:
        return 0
    return refresh(period, assessed_managers(team_id))


def open_periods(now: datetime | None = None) -> list[AssessmentPeriod]:
    """The periods the scheduler keeps drafts of: this and last month, this and last quarter
    (last month's business figures arrive in the first days of this one)."""
    found = []
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        current = periods.current(kind, now)
        found += [current, current.previous()]
    return found


def refresh_open_periods(now: datetime | None = None) -> dict[str, int]:
    """The scheduler's job: every manager's drafts of the open periods."""
    return {period.key: refresh(period, now=now) for period in open_periods(now)}


# Publishing -------------------------------------------------------------------------


def may_publish(actor: User, team: Team) -> bool:
    return actor.is_admin or (actor.is_supervisor and team.supervisor_id == actor.id)


def publications(period: AssessmentPeriod, team_id: int) -> list[AssessmentPublication]:
    """The team's publications of the period, the latest first."""
    return list(
        db.session.scalars(
            select(AssessmentPublication)
            .where(
                AssessmentPublication.period == period.key,
                AssessmentPublication.team_id == team_id,
            )
            .order_by(AssessmentPublication.number.desc())
        )
    )


def latest_publications(period: AssessmentPeriod) -> dict[int, AssessmentPublication]:
    """Per team, the latest publication of the period (one statement)."""
    found: dict[int, AssessmentPublication] = {}
    for publication in db.session.scalars(
        select(AssessmentPublication)
        .where(AssessmentPublication.period == period.key)
        .order_by(AssessmentPublication.number)
    ):
        found[publication.team_id] = publication
    return found


def publish(
    period: AssessmentPeriod,
    team: Team,
    *,
    reason: str | None,
    actor: User,
    now: datetime | None = None,
) -> AssessmentPublication:
    """Freeze the team's cards for the period; a second publication says why."""
    if not may_publish(actor, team):
        raise NotAllowed(_l("Only the team's supervisor or an administrator publishes it."))
    now = now or utcnow()
    if not period.is_over(now):
        raise DomainError(_l("%(period)s is not over yet.", period=period.key))
    managers = assessed_managers(team.id)
    if not managers:
        raise DomainError(_l("The team has no account manager to assess."))
    unscored = db.session.scalars(
        select(User.display_name)
        .join(TemporaryTask, TemporaryTask.user_id == User.id)
        .where(
            TemporaryTask.period == period.key,
            TemporaryTask.score.is_(None),
            User.id.in_([m.id for m in managers]),
        )
        .distinct()
    ).all()
    if unscored:
        raise DomainError(
            _l(
                "Score the temporary tasks first: %(names)s.",
                names="、".join(sorted(unscored)),
            )
        )
    earlier = publications(period, team.id)
    reason = (reason or "").strip() or None
    if earlier and reason is None:
        raise DomainError(
            _l("It was published before: say why it is published again."), field="reason"
        )
    publication = AssessmentPublication(
        period=period.key,
        team_id=team.id,
        number=earlier[0].number + 1 if earlier else 1,
        published_by_id=actor.id,
        published_at=now,
        reason=reason,
    )
    db.session.add(publication)
    db.session.flush()
    cards = scoring.compute(period, managers, now=now)
    db.session.execute(insert(Scorecard), [_row(card, publication.id, now) for card in cards])
    return publication


# Reading ---------------------------------------------------------------------------


@dataclass
class Stored:
    """A card with what it came from: a publication, a draft (computed_at) or live."""

    card: Card
    computed_at: datetime | None  # None: computed for this page, not stored
    publication_id: int | None = None


def _card(row: Scorecard) -> Card:
    return Card.from_sheet(
        row.sheet,
        user_id=row.user_id,
        period=row.period,
        team_id=row.team_id,
        level=row.level,
        weight_set_id=row.weight_set_id,
        task_points=row.task_points,
    )


@dataclass
class TeamCards:
    cards: dict[int, Stored]  # by manager id
    publication: AssessmentPublication | None
    computed_at: datetime | None  # of the drafts shown; None when live or published


def team_cards(period: AssessmentPeriod, team: Team, managers: list[User]) -> TeamCards:
    """The team's cards for the period: published, else drafts, else computed now."""
    published = publications(period, team.id)
    ids = [m.id for m in managers]
    if published:
        latest = published[0]
        rows = db.session.scalars(
            select(Scorecard).where(Scorecard.publication_id == latest.id)
        ).all()
        cards = {row.user_id: Stored(_card(row), row.computed_at, latest.id) for row in rows}
        return TeamCards(cards, latest, None)
    rows = db.session.scalars(
        select(Scorecard).where(
            Scorecard.period == period.key,
            Scorecard.publication_id.is_(None),
            Scorecard.user_id.in_(ids),
        )
    ).all()
    if rows and {row.user_id for row in rows} == set(ids):
        at = min(row.computed_at for row in rows)
        return TeamCards(
            {row.user_id: Stored(_card(row), row.computed_at) for row in rows}, None, at
        )
    live = scoring.compute(period, managers)
    return TeamCards({card.user_id: Stored(card, None) for card in live}, None, None)


@dataclass(frozen=True)
class StoredTotal:
    total: Decimal
    points: dict[str, Decimal]  # by indicator code; "T": the temporary tasks
    level: Level
    team_id: int | None
    published: bool


def stored_totals(
    period: AssessmentPeriod, user_ids: list[int] | None = None, *, points: bool = True
) -> dict[int, StoredTotal]:
    """Per manager, the stored total (and with `points` each indicator's points) of the
    period: the latest publication's where one exists, else the draft (for the changes
    against the last period and the level review). Without `points` the sheets are not read."""
    columns = [
        Scorecard.user_id,
        Scorecard.publication_id,
        Scorecard.total,
        Scorecard.task_points,
        Scorecard.level,
        Scorecard.team_id,
    ]
    if points:
        columns.append(Scorecard.sheet)
    stmt = select(*columns).where(Scorecard.period == period.key)
    if user_ids is not None:
        if not user_ids:
            return {}
        stmt = stmt.where(Scorecard.user_id.in_(user_ids))
    found: dict[int, tuple[int, StoredTotal]] = {}
    for row in db.session.execute(stmt):
        rank = row.publication_id or 0  # a publication beats the draft, a later one the earlier
        if row.user_id in found and found[row.user_id][0] >= rank:
            continue
        lines = row.sheet.get("lines", []) if points else []
        by_code = {line["code"]: Decimal(line["points"]) for line in lines}
        by_code["T"] = row.task_points
        found[row.user_id] = (
            rank,
            StoredTotal(row.total, by_code, row.level, row.team_id, row.publication_id is not None),
        )
    return {user_id: total for user_id, (_rank, total) in found.items()}


def summary_rows(
    period: AssessmentPeriod, user_ids: list[int] | None = None
) -> list[tuple[int, int | None, int | None, Decimal]]:
    """The stored cards of the period (of these managers, else everyone's) as (user, team,
    publication, total), without the sheet."""
    stmt = select(
        Scorecard.user_id, Scorecard.team_id, Scorecard.publication_id, Scorecard.total
    ).where(Scorecard.period == period.key)
    if user_ids is not None:
        stmt = stmt.where(Scorecard.user_id.in_(user_ids))
    return [
        (row.user_id, row.team_id, row.publication_id, row.total)
        for row in db.session.execute(stmt)
    ]


def team_in_charge(team_id: int, viewer: User) -> Team | None:
    """A team the viewer leads (any team, for an admin): whose sheet they see and publish."""
    if not viewer.is_authenticated or not viewer.is_active or viewer.is_manager:
        return None
    stmt = select(Team).options(joinedload(Team.supervisor)).where(Team.id == team_id)
    if not viewer.is_admin:
        stmt = stmt.where(Team.id.in_(led_team_ids(viewer)))
    return db.session.scalar(stmt)


def teams_in_charge(viewer: User) -> list[Team]:
    """The teams whose sheets the viewer keeps: those they lead; every team for an admin."""
    stmt = select(Team).options(joinedload(Team.supervisor)).order_by(Team.name)
    if not viewer.is_admin:
        stmt = stmt.where(Team.id.in_(led_team_ids(viewer)))
    return list(db.session.scalars(stmt))


def manager_in_view(user_id: int, viewer: User) -> User | None:
    """The account manager with this id if the viewer may see their scorecards."""
    return db.session.scalar(
        select(User).where(
            User.id == user_id, User.role == Role.MANAGER, owner_scope(viewer, User.id)
        )
    )


def card_of(period: AssessmentPeriod, manager: User, viewer: User) -> Stored | None:
    """The manager's card for the period as the viewer may see it: the published one; for
    their supervisor and admins also the draft, or one computed now. None: nothing to show
    (a manager before publication)."""
    stmt = scoped(Scorecard, viewer).where(
        Scorecard.user_id == manager.id, Scorecard.period == period.key
    )
    published = db.session.scalar(
        stmt.where(Scorecard.publication_id.is_not(None))
        .order_by(Scorecard.publication_id.desc())
        .limit(1)
    )
    if published is not None:
        return Stored(_card(published), published.computed_at, published.publication_id)
    if viewer.is_manager:
        return None
    draft = db.session.scalar(stmt.where(Scorecard.publication_id.is_(None)).limit(1))
    if draft is not None:
        return Stored(_card(draft), draft.computed_at)
    team = assessed_managers(manager.team_id) if manager.team_id else [manager]
    live = {card.user_id: card for card in scoring.compute(period, team)}
    return Stored(live[manager.id], None)


def published_periods(user_id: int, viewer: User) -> list[tuple[str, Decimal]]:
    """The periods a manager has a published card for, newest first, with its total."""
    latest = (
        select(Scorecard.period, func.max(Scorecard.publication_id).label("publication_id"))
        .where(Scorecard.user_id == user_id, Scorecard.publication_id.is_not(None))
        .group_by(Scorecard.period)
        .subquery()
    )
    rows = db.session.execute(
        scoped(Scorecard, viewer)
        .with_only_columns(Scorecard.period, Scorecard.total)
        .join(latest, latest.c.publication_id == Scorecard.publication_id)
        .where(Scorecard.user_id == user_id)
        .order_by(Scorecard.period.desc())
    ).all()
    return [(row.period, row.total) for row in rows]
