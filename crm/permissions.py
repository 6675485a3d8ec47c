"""Who may see and change what: every scoped query and lookup goes through here.

A manager sees their own customers; a supervisor their own and those of the
members of the teams they lead; an admin everything. Whatever hangs off a
customer (contacts, opportunities, visits, reminders) is in scope exactly when
its customer is. Records out of scope answer 404, so their existence does not leak.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from sqlalchemy import ColumnElement, Select, false, select, true

from crm.extensions import db
from crm.request_cache import per_request
from models import Customer, Role, Team, User


def led_team_ids(user: User) -> Select:
    """Ids of the teams this user supervises."""
    return select(Team.id).where(Team.supervisor_id == user.id)


def team_member_ids(user: User) -> Select:
    """Ids of the users in the teams this user supervises (not including themselves)."""
    return select(User.id).where(User.team_id.in_(led_team_ids(user)))


def owner_scope(user: User, owner_column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting rows owned through `owner_column` to the user's scope."""
    if not user.is_authenticated or not user.is_active:
        return false()
    if user.role is Role.ADMIN:
        return true()
    if user.role is Role.SUPERVISOR:
        # A literal id list, not a subquery: PostgreSQL then uses the owner indexes
        # instead of scanning (an OR with IN (subquery) defeats them).
        return owner_column.in_([user.id, *scope_member_ids(user)])
    return owner_column == user.id


def scope_member_ids(user: User) -> list[int]:
    """team_member_ids resolved once per request (a page builds several scoped queries)."""
    return per_request(
        f"team_member_ids:{user.id}", lambda: list(db.session.scalars(team_member_ids(user)))
    )


def customer_scope(user: User) -> ColumnElement[bool]:
    return owner_scope(user, Customer.owner_id)


def visible_customers(user: User) -> Select:
    """SELECT of the customers the user may see and change."""
    return select(Customer).where(customer_scope(user))


def get_customer_or_404(customer_id: int, user: User) -> Customer:
    customer = db.session.scalar(visible_customers(user).where(Customer.id == customer_id))
    if customer is None:
        refuse(404, f"customer {customer_id}", user)
    return customer


def visible_opportunities(user: User) -> Select:
    """SELECT of the opportunities whose customer the user may see (joined to Customer)."""
    from models import Opportunity

    return select(Opportunity).join(Opportunity.customer).where(customer_scope(user))


def get_opportunity_or_404(opportunity_id: int, user: User):
    """The opportunity with this id if its customer is in the user's scope, else 404."""
    from models import Opportunity

    opportunity = db.session.scalar(
        visible_opportunities(user).where(Opportunity.id == opportunity_id)
    )
    if opportunity is None:
        refuse(404, f"opportunity {opportunity_id}", user)
    return opportunity


def can_manage_users(user: User) -> bool:
    return user.is_authenticated and user.role is Role.ADMIN


def assignable_owners(user: User) -> Select:
    """Active users the given user may make owner of a customer."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.display_name)
    if user.role is Role.ADMIN:
        return stmt
    return stmt.where(owner_scope(user, User.id))


def refuse(status: int, what: str, user: User | None) -> None:
    """Log a refused access and abort; the log names the user, the page never does."""
    who = getattr(user, "username", None) or "anonymous"
    current_app.logger.warning(
        "access refused: status=%s user=%s what=%s path=%s ip=%s",
        status,
        who,
        what,
        request.path if request else "-",
        request.remote_addr if request else "-",
    )
    abort(status)


def admin_required(view):
    """Allow only signed-in administrators; others get 403 (the page exists for every admin)."""
    from functools import wraps

    from flask_login import current_user, login_required

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.role is not Role.ADMIN:
            refuse(403, f"admin page {request.endpoint}", current_user)
        return view(*args, **kwargs)

    return wrapper
