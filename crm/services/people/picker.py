"""The people pickers (crm/services/pickers.py): owners, new owners, members, managers.

Whom a picker offers is whom the viewer's lists may be narrowed to and whose records
they may assign: active users in the viewer's scope (a supervisor's teams, everyone for
an admin, a manager themselves), narrowed to roles where a page asks for some (a
handover goes to a manager or a supervisor, a team is led by a supervisor).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, or_, select

from crm.permissions import owner_scope
from crm.services import pickers
from models import Role, User


def _people(viewer: User, roles: Iterable[Role]) -> Select:
    """(id, display name, username) of the active people in the viewer's scope, by name."""
    stmt = (
        select(User.id, User.display_name, User.username)
        .where(User.active.is_(True), owner_scope(viewer, User.id))
        .order_by(User.display_name, User.id)
    )
    roles = tuple(roles)
    return stmt.where(User.role.in_(roles)) if roles else stmt


def people_named(text: str, *, viewer: User, roles: Iterable[Role] = (), limit: int) -> list[dict]:
    """The people picker's answer: up to `limit` + 1 people whose name or username contains
    `text` (anyone in scope when it is empty), as {id, label, detail: username}."""
    stmt = _people(viewer, roles)
    if text:
        stmt = stmt.where(
            or_(
                User.display_name.icontains(text, autoescape=True),
                User.username.icontains(text, autoescape=True),
            )
        )
    return pickers.found(stmt, limit=limit + 1)


def people_shortlist(
    viewer: User,
    *,
    chosen: int | None = None,
    roles: Iterable[Role] = (),
    with_username: bool = False,
) -> pickers.Shortlist:
    """The people a picker's page renders: the first by name and `chosen` (if in scope);
    `with_username`: labelled "name (username)" where two of the same name must not mix."""
    label = User.display_name
    if with_username:
        label = User.display_name + " (" + User.username + ")"
    stmt = _people(viewer, roles).with_only_columns(User.id, label)
    return pickers.shortlist(stmt, chosen=chosen)
