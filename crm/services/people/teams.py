"""Teams: creating, renaming, choosing the supervisor and moving members."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.permissions import scoped
from crm.services.errors import DomainError
from crm.services.people.users import require_admin
from models import Team, User


def _check_name(name: str, team: Team | None = None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_l("A team needs a name."), field="name")
    clash = db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower()))
    if clash and (team is None or clash != team.id):
        raise DomainError(_l("A team called %(name)s exists already.", name=name), field="name")
    return name


SUPERVISOR_REFUSAL = _l("The team's supervisor must be an active user with the supervisor role.")


def _check_supervisor(supervisor: User | None) -> None:
    if supervisor is not None and (not supervisor.is_supervisor or not supervisor.active):
        raise DomainError(SUPERVISOR_REFUSAL, field="supervisor_id")


def create_team(*, actor: User, name: str, supervisor: User | None = None) -> Team:
    require_admin(actor)
    _check_supervisor(supervisor)
    team = Team(name=_check_name(name), supervisor=supervisor)
    db.session.add(team)
    db.session.flush()
    if supervisor is not None and supervisor.team_id is None:
        supervisor.team = team
    db.session.flush()
    return team


def update_team(team: Team, *, actor: User, name: str, supervisor: User | None) -> Team:
    require_admin(actor)
    _check_supervisor(supervisor)
    team.name = _check_name(name, team)
    team.supervisor = supervisor
    if supervisor is not None and supervisor.team_id is None:
        supervisor.team = team
    db.session.flush()
    return team


def move_member(user: User, *, actor: User, team: Team | None) -> None:
    """Put a user in another team (or none); their customers move with them in scope."""
    require_admin(actor)
    if team is not None and not user.active:
        # The team page's picker offers active users; an id typed in by hand gets this.
        raise DomainError(_l("Only an active user can join a team."), field="user_id")
    user.team = team
    db.session.flush()


def teams_by_name() -> list[Team]:
    """Every team, by name: the choices of a user's team."""
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def team_by_id(team_id: int | None) -> Team | None:
    """The team with this id, or None for no id (the form's "no team" choice)."""
    return db.session.get(Team, team_id) if team_id else None


@dataclass(frozen=True)
class TeamListRow:
    team: Team
    supervisor_name: str | None
    member_names: list[str]


def teams_with_members(*, viewer: User) -> list[TeamListRow]:
    """Every team with its supervisor's and members' names, for the admin's team list.

    The names are read as columns: an organisation's 1,100 accounts loaded as rows, to
    show a name each, took most of the page's 30 ms.
    """
    require_admin(viewer)
    supervisor = aliased(User)
    teams = db.session.execute(
        select(Team, supervisor.display_name)
        .outerjoin(supervisor, supervisor.id == Team.supervisor_id)
        .order_by(Team.name)
    )
    members: dict[int, list[str]] = defaultdict(list)
    for team_id, name in db.session.execute(
        select(User.team_id, User.display_name)
        .where(User.team_id.is_not(None))
        .order_by(User.username)  # as Team.members is ordered
    ):
        members[team_id].append(name)
    return [TeamListRow(team, name, members[team.id]) for team, name in teams]


def whole_organisation(viewer: User, *chosen: int | None) -> bool:
    """An admin who chose no team (nor anyone in one) looks at the whole organisation: the
    home, the reports, the work log and the targets then show the teams, one line each,
    rather than a thousand people's."""
    return viewer.is_admin and not any(chosen)


def visible_teams(*, viewer: User) -> Select:
    """SELECT of the teams the viewer may look up (their own, those they lead; all: admins)."""
    return scoped(Team, viewer).order_by(Team.name, Team.id)
