"""Targets: a supervisor sets each team member's weekly visits and quarterly won amount."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed
from models import Role, Target, User

MAX_WEEKLY_VISITS = 100
MAX_QUARTERLY_WON = Decimal("9999999999999")


def may_set_targets(actor: User, manager: User) -> bool:
    """Admins for anyone; a supervisor for the members of the teams they lead."""
    if actor.is_admin:
        return True
    return (
        actor.is_supervisor
        and manager.team is not None
        and manager.team.supervisor_id == actor.id
        and manager.id != actor.id
    )


def settable_manager(actor: User, manager_id: int) -> User | None:
    """The active manager whose targets the actor may set (`may_set_targets`), or None."""
    manager = db.session.scalar(
        select(User).where(User.id == manager_id, User.active.is_(True), User.role == Role.MANAGER)
    )
    return manager if manager is not None and may_set_targets(actor, manager) else None


def set_target(manager: User, *, weekly_visits: int, quarterly_won: Decimal, actor: User) -> Target:
    """Create or replace the manager's targets."""
    if not may_set_targets(actor, manager):
        raise NotAllowed(_l("You may set targets only for the members of your team."))
    if not 0 <= weekly_visits <= MAX_WEEKLY_VISITS:
        raise DomainError(
            _l("From 0 to %(high)d visits a week.", high=MAX_WEEKLY_VISITS), field="weekly_visits"
        )
    if not Decimal(0) <= quarterly_won <= MAX_QUARTERLY_WON:
        raise DomainError(_l("The amount cannot be negative."), field="quarterly_won")
    target = db.session.scalar(select(Target).where(Target.user_id == manager.id))
    if target is None:
        target = Target(user_id=manager.id)
        db.session.add(target)
    target.weekly_visits = weekly_visits
    target.quarterly_won = quarterly_won
    target.set_by_id = actor.id
    db.session.flush()
    return target


def targets_of(user_ids: list[int]) -> dict[int, Target]:
    return {
        t.user_id: t for t in db.session.scalars(select(Target).where(Target.user_id.in_(user_ids)))
    }
