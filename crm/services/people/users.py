"""Creating and changing user accounts; only admins manage other users."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from crm.extensions import db
from crm.i18n import is_valid_timezone
from crm.permissions import MAX_RECORD_ID, owner_scope, scoped
from crm.services.archive.identity import is_record_id
from crm.services.errors import DomainError, NotAllowed
from crm.services.filters import ListFilters, contains_any_case
from crm.services.people import tokens
from models import (
    Customer,
    Level,
    Opportunity,
    OpportunityStatus,
    Reminder,
    ReminderStatus,
    Role,
    Team,
    User,
)

MIN_PASSWORD_LENGTH = 8


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may manage users and teams."))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def create_user(
    *,
    actor: User | None,
    username: str,
    display_name: str,
    password: str,
    email: str | None = None,
    role: Role = Role.MANAGER,
    level: Level = Level.JUNIOR,
    team: Team | None = None,
    locale: str = "zh_CN",
    timezone: str | None = None,
) -> User:
    """Create an account; `actor=None` is the command line, which needs no admin."""
    if actor is not None:
        require_admin(actor)
    username = username.strip().lower()
    if not username:
        raise DomainError(_l("A username is required."), field="username")
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise DomainError(_l("The username %(u)s is taken.", u=username), field="username")
    check_password_strength(password)
    timezone = timezone or current_app.config["DEFAULT_TIMEZONE"]
    if not is_valid_timezone(timezone):
        raise DomainError(_l("Unknown time zone."), field="timezone")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=(email or "").strip() or None,
        role=role,
        level=level,
        team=team,
        locale=locale,
        timezone=timezone,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    actor: User,
    display_name: str,
    email: str | None,
    role: Role,
    level: Level,
    team: Team | None,
) -> User:
    require_admin(actor)
    if user.id == actor.id and role is not Role.ADMIN:
        raise DomainError(_l("You cannot take away your own administrator role."), field="role")
    if user.is_supervisor and role is not Role.SUPERVISOR:
        led = db.session.scalar(select(func.count()).where(Team.supervisor_id == user.id))
        if led:
            raise DomainError(
                _l("This user still leads a team: choose another supervisor for it first."),
                field="role",
            )
    user.display_name = display_name.strip() or user.username
    user.email = (email or "").strip() or None
    user.role = role
    user.level = level
    user.team = team
    db.session.flush()
    return user


def owned_customer_count(user: User) -> int:
    return db.session.scalar(select(func.count()).where(Customer.owner_id == user.id)) or 0


def open_work_count(user: User) -> int:
    """Open opportunities and pending follow-ups the user owns (on anybody's customers)."""
    opportunities = select(func.count()).where(
        Opportunity.owner_id == user.id, Opportunity.status == OpportunityStatus.OPEN
    )
    reminders = select(func.count()).where(
        Reminder.owner_id == user.id, Reminder.status == ReminderStatus.PENDING
    )
    return (db.session.scalar(opportunities) or 0) + (db.session.scalar(reminders) or 0)


def deactivate_user(user: User, *, actor: User) -> None:
    """Deactivate an account; its open sessions stop at their next request."""
    require_admin(actor)
    if user.id == actor.id:
        raise DomainError(_l("You cannot deactivate your own account."))
    owned = owned_customer_count(user)
    if owned:
        raise DomainError(
            _l(
                "%(name)s still owns %(n)d customers: hand them over before deactivating.",
                name=user.display_name,
                n=owned,
            )
        )
    loose_ends = open_work_count(user)
    if loose_ends:
        raise DomainError(
            _l(
                "%(name)s still owns %(n)d open opportunities or pending follow-ups: "
                "hand them over before deactivating.",
                name=user.display_name,
                n=loose_ends,
            )
        )
    if db.session.scalar(select(func.count()).where(Team.supervisor_id == user.id)):
        raise DomainError(_l("This user still leads a team: choose another supervisor first."))
    user.active = False
    user.rotate_session()  # open sessions stop at once, not only at their next check
    tokens.revoke_all(user, actor=actor)  # and so do the scripts acting as the user
    db.session.flush()


def reactivate_user(user: User, *, actor: User) -> None:
    require_admin(actor)
    user.active = True
    user.rotate_session()
    db.session.flush()


def reset_password(user: User, *, actor: User, new_password: str) -> None:
    """An admin sets a new password; the user's sessions end."""
    require_admin(actor)
    check_password_strength(new_password)
    user.set_password(new_password)
    db.session.flush()


def change_own_password(user: User, *, current_password: str, new_password: str) -> None:
    """The user changes their password; their other sessions end."""
    if not user.check_password(current_password):
        raise DomainError(_l("The current password is wrong."), field="current_password")
    check_password_strength(new_password)
    user.set_password(new_password)
    db.session.flush()


def update_preferences(user: User, *, locale: str, timezone: str) -> None:
    if locale not in ("zh_CN", "en"):
        raise DomainError(_l("Unknown language."), field="locale")
    if not is_valid_timezone(timezone):
        raise DomainError(_l("Unknown time zone."), field="timezone")
    user.locale = locale
    user.timezone = timezone
    db.session.flush()


def record_login(user: User) -> None:
    user.last_login_at = datetime.now(UTC)
    db.session.flush()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (the same answer for every failure)."""
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        # Spend the same time as a real check so timing does not reveal usernames.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


LEAD_MINUTES = (0, 15, 60, 1440)


def update_email_preferences(
    user: User,
    *,
    reminders: bool,
    daily_digest: bool,
    lead_minutes: int,
    weekly_digest: bool | None = None,
) -> None:
    """Switch each kind of email on or off; None leaves the weekly digest as it is."""
    if lead_minutes not in LEAD_MINUTES:
        raise DomainError(_l("Choose a lead time from the list."), field="reminder_lead_minutes")
    user.email_reminders = bool(reminders)
    user.email_daily_digest = bool(daily_digest)
    user.reminder_lead_minutes = lead_minutes
    if weekly_digest is not None:
        user.email_weekly_digest = bool(weekly_digest)
    db.session.flush()


@dataclass(frozen=True)
class UserFilters(ListFilters):
    """The admin's user list: a search of username, name and email, role, team, status."""

    q: str = ""
    role: str = ""
    team: str = ""
    active: str = ""

    @classmethod
    def from_args(cls, args: Any) -> UserFilters:
        """Read from a query string; a value that names nothing is dropped, not refused."""
        role = args.get("role", "")
        team = args.get("team", "")
        active = args.get("active", "")
        return cls(
            q=args.get("q", "").strip()[:100],
            role=role if role in {r.value for r in Role} else "",
            team=team if is_record_id(team) else "",
            active=active if active in ("1", "0") else "",
        )


def users_for_admin(*, viewer: User, filters: UserFilters | None = None) -> Select:
    """The accounts the filters keep, with their team, active ones first (not paginated).

    An organisation has a thousand accounts: the list is searched and paged, not shown whole.
    """
    require_admin(viewer)
    filters = filters or UserFilters()
    stmt = select(User).options(selectinload(User.team))
    if filters.q:
        stmt = stmt.where(
            or_(
                *(
                    contains_any_case(column, filters.q)
                    for column in (User.username, User.display_name, User.email)
                )
            )
        )
    if filters.role:
        stmt = stmt.where(User.role == Role(filters.role))
    if filters.team:
        stmt = stmt.where(User.team_id == int(filters.team))
    if filters.active:
        stmt = stmt.where(User.active.is_(filters.active == "1"))
    return stmt.order_by(User.active.desc(), User.username, User.id)


def user_by_id(user_id: int | None) -> User | None:
    """The account with this id, or None for no id (a form's "nobody" choice)."""
    return db.session.get(User, user_id) if user_id else None


def chosen_user(user_id: int | None, *, field: str, refusal: object) -> User | None:
    """The account a picker chose, or None when it chose nobody (no id, or 0).

    A picker takes any id its type-ahead may offer, so an id that names no account (made
    up, or deleted meanwhile) arrives here too: it is refused with `refusal` on `field`,
    never read as "nobody" (which fell back silently to the customer's owner, or to a team
    without a supervisor).
    """
    if not user_id:
        return None
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_RECORD_ID else None
    if user is None:
        raise DomainError(refusal, field=field)
    return user


def active_users() -> list[User]:
    """Every account that may still sign in."""
    return list(db.session.scalars(select(User).where(User.active)))


def people_in_scope(*, viewer: User, active_only: bool = False) -> list[User]:
    """The people whose work the viewer may see (a supervisor's team, everybody for an admin)."""
    stmt = select(User).where(owner_scope(viewer, User.id))
    if active_only:
        stmt = stmt.where(User.active.is_(True))
    return list(db.session.scalars(stmt.order_by(User.display_name, User.id)))


def names_by_id(user_ids: Iterable[int]) -> list[tuple[int, str]]:
    """(id, display name) of these users, by name: a list's people without whole User rows."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    stmt = select(User.id, User.display_name).where(User.id.in_(ids))
    return [
        (row.id, row.display_name)
        for row in db.session.execute(stmt.order_by(User.display_name, User.id))
    ]


def person_in_scope(user_id: int, *, viewer: User) -> User | None:
    """The account with this id if its work is in the viewer's scope, else None."""
    return db.session.scalar(select(User).where(User.id == user_id, owner_scope(viewer, User.id)))


def visible_people(
    *,
    viewer: User,
    team: Team | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> Select:
    """SELECT of the people the viewer may look up (crm/permissions.py people_scope):
    everyone for an admin, a supervisor's teams, a manager's own team; narrowed as asked."""
    stmt = scoped(User, viewer)
    if team is not None:
        stmt = stmt.where(User.team_id == team.id)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return stmt.order_by(User.display_name, User.id)
