"""Who may see and change what: every scoped query and lookup goes through here.

A manager sees their own customers; a supervisor their own and those of the
members of the teams they lead; an admin everything. Whatever hangs off a
customer (contacts, opportunities, visits, reminders) is in scope exactly when
its customer is. Records out of scope answer 404, so their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, request
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import True_

from crm.extensions import db
from crm.request_cache import per_request
from models import (
    ApiToken,
    AssessmentTarget,
    CompetitorProfile,
    Contact,
    Customer,
    CustomerHealth,
    Document,
    DocumentVersion,
    Handover,
    HandoverCustomer,
    HandoverRequest,
    HealthSnapshot,
    MonthlyFigure,
    Notice,
    Opportunity,
    OutboxMessage,
    PlanChange,
    PlanKeyCustomer,
    PlannedVisit,
    PlanReview,
    PlanTask,
    Reminder,
    Scorecard,
    ServiceTicket,
    Target,
    Team,
    TemporaryTask,
    User,
    Visit,
    VisitComment,
    WebhookDelivery,
    WebhookSubscription,
    WorkPlan,
)

T = TypeVar("T")
# Ids above this fit no BIGINT id column: such a number is "not found", not a bind error.
MAX_RECORD_ID = 2**63 - 1


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
    if user.is_admin:
        return true()
    if user.is_supervisor:
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


def within_customer_scope(stmt: Select, user: User, via: Any) -> Select:
    """`stmt` limited to rows whose customer (reached by the relationship `via`, e.g.
    Visit.customer) is in the user's scope, joining the customers only when the scope
    needs them: an admin's is everything, and the join cost an organisation-wide count
    a lookup per row (a week's visits: 240 -> 30 ms)."""
    scope = customer_scope(user)
    if isinstance(scope, True_):
        return stmt
    return stmt.join(via).where(scope)


# The scope registry -------------------------------------------------------------
#
# Every scoped model names here how its rows reach the owner they are scoped by: the
# relationships to join and the condition on the joined rows. Lists use `scoped(Model,
# user)`, records `get_in_scope_or_404(Model, id, user)`; services ask `in_scope(...)`.
# tests/test_scope_registry.py fails for a model with an owner or a customer that is
# neither registered here nor named as unscoped there.


@dataclass(frozen=True)
class ScopePath:
    """How rows of one model reach their owner: joins from the model, then a condition."""

    joins: tuple[Any, ...]
    condition: Callable[[User], ColumnElement[bool]]


SCOPES: dict[type, ScopePath] = {}


def register_scope(
    model: type, condition: Callable[[User], ColumnElement[bool]], *, via: tuple[Any, ...] = ()
) -> None:
    SCOPES[model] = ScopePath(via, condition)


def scope_path(model: type) -> ScopePath:
    try:
        return SCOPES[model]
    except KeyError:
        raise LookupError(f"{model.__name__} has no scope path in crm/permissions.py") from None


def scoped(model: type[T], user: User) -> Select[tuple[T]]:
    """SELECT of the model's rows the user may see and change."""
    path = scope_path(model)
    stmt = select(model)
    for relationship in path.joins:
        stmt = stmt.join(relationship)
    return stmt.where(path.condition(user))


def get_in_scope_or_404(model: type[T], record_id: Any, user: User, *options: Any) -> T:
    """The record with this id if it is in the user's scope; otherwise 404 (logged)."""
    record = None
    if isinstance(record_id, int) and 0 < record_id <= MAX_RECORD_ID:
        stmt = scoped(model, user).where(model.id == record_id)  # type: ignore[attr-defined]
        result = db.session.execute(stmt.options(*options) if options else stmt)
        # unique(): options may join-load a collection (the customer page's contacts),
        # which repeats the record's row once per child.
        record = result.unique().scalars().one_or_none()
    if record is None:
        refuse(404, f"{model.__tablename__} {record_id}", user)  # type: ignore[attr-defined]
    return record  # type: ignore[return-value]


def in_scope(model: type, record_id: int, user: User) -> bool:
    """Whether the record is in the user's scope, asked of the database (not of loaded rows)."""
    stmt = scoped(model, user).where(model.id == record_id)  # type: ignore[attr-defined]
    return db.session.scalar(stmt.with_only_columns(model.id)) is not None  # type: ignore[attr-defined]


def visible_customers(user: User) -> Select:
    """SELECT of the customers the user may see and change."""
    return scoped(Customer, user)


def get_customer_or_404(customer_id: int, user: User) -> Customer:
    return get_in_scope_or_404(Customer, customer_id, user)


def visible_opportunities(user: User) -> Select:
    """SELECT of the opportunities whose customer the user may see (joined to Customer)."""
    return scoped(Opportunity, user)


def get_opportunity_or_404(opportunity_id: int, user: User) -> Opportunity:
    """The opportunity with this id if its customer is in the user's scope, else 404."""
    return get_in_scope_or_404(Opportunity, opportunity_id, user)


def _is_admin(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_admin


def follow_up_scope(user: User) -> ColumnElement[bool]:
    """Both the customer and the follow-up's owner in scope (a teammate's stays theirs)."""
    return and_(customer_scope(user), owner_scope(user, Reminder.owner_id))


def handover_row_scope(user: User) -> ColumnElement[bool]:
    """A handed-over customer (joined to its handover and customer) is visible to those
    it went to, came from, or is with now; the others are counted, never named."""
    if _is_admin(user):
        return true()
    return or_(
        owner_scope(user, Handover.to_owner_id),
        owner_scope(user, HandoverCustomer.from_owner_id),
        customer_scope(user),
    )


def handover_scope(user: User) -> ColumnElement[bool]:
    """A handover is visible when at least one of its customers is."""
    if _is_admin(user):
        return true()
    inner = (
        select(HandoverCustomer.id)
        .join(Customer, Customer.id == HandoverCustomer.customer_id)
        .where(
            HandoverCustomer.handover_id == Handover.id,
            or_(owner_scope(user, HandoverCustomer.from_owner_id), customer_scope(user)),
        )
    )
    return or_(owner_scope(user, Handover.to_owner_id), exists(inner))


def handover_request_scope(user: User) -> ColumnElement[bool]:
    """Requests the user made, or, for those who decide them, about customers in scope."""
    if _is_admin(user):
        return true()
    if user.is_supervisor:
        return or_(customer_scope(user), owner_scope(user, HandoverRequest.requested_by_id))
    return HandoverRequest.requested_by_id == user.id


def admin_only(user: User) -> ColumnElement[bool]:
    return true() if _is_admin(user) else false()


register_scope(Customer, customer_scope)
register_scope(Contact, customer_scope, via=(Contact.customer,))
register_scope(CompetitorProfile, customer_scope, via=(CompetitorProfile.customer,))
register_scope(Opportunity, customer_scope, via=(Opportunity.customer,))
register_scope(Visit, customer_scope, via=(Visit.customer,))
# Service tickets follow their customer: after a handover they are the new owner's.
register_scope(ServiceTicket, customer_scope, via=(ServiceTicket.customer,))
register_scope(Reminder, follow_up_scope, via=(Reminder.customer,))
register_scope(Handover, handover_scope)
register_scope(
    HandoverCustomer,
    handover_row_scope,
    via=(HandoverCustomer.handover, HandoverCustomer.customer),
)
register_scope(HandoverRequest, handover_request_scope, via=(HandoverRequest.customer,))
register_scope(Target, lambda user: owner_scope(user, Target.user_id))
register_scope(OutboxMessage, admin_only)
register_scope(WebhookSubscription, admin_only)
register_scope(WebhookDelivery, admin_only)


def plan_scope(user: User) -> ColumnElement[bool]:
    """A work plan belongs to its manager: theirs, their supervisor's, an admin's."""
    return owner_scope(user, WorkPlan.owner_id)


def own_rows(column: Any) -> Callable[[User], ColumnElement[bool]]:
    """Rows addressed to the user alone (notices): not even an admin reads another's."""

    def condition(user: User) -> ColumnElement[bool]:
        if not user.is_authenticated or not user.is_active:
            return false()
        return column == user.id

    return condition


register_scope(WorkPlan, plan_scope)
# What hangs off a plan follows the plan, also a planned visit to a customer handed to
# another team since: the plan stays its manager's record of what they meant to do.
for _part in (PlannedVisit, PlanTask, PlanKeyCustomer, PlanChange, PlanReview):
    register_scope(_part, plan_scope, via=(_part.plan,))
register_scope(VisitComment, customer_scope, via=(VisitComment.visit, Visit.customer))
register_scope(Notice, own_rows(Notice.user_id))


def own_rows_or_admin(column: Any) -> Callable[[User], ColumnElement[bool]]:
    """A user's own rows, and everyone's for an admin (API tokens: an admin may revoke any)."""

    def condition(user: User) -> ColumnElement[bool]:
        return true() if _is_admin(user) else own_rows(column)(user)

    return condition


register_scope(ApiToken, own_rows_or_admin(ApiToken.user_id))


def people_scope(user: User) -> ColumnElement[bool]:
    """Whom a user may look up (the API's users): a supervisor themselves and the teams they
    lead, a manager themselves and their active teammates (the colleagues a handover request
    offers), an admin everyone."""
    if not user.is_authenticated or not user.is_active:
        return false()
    if user.is_manager and user.team_id is not None:
        return or_(User.id == user.id, and_(User.team_id == user.team_id, User.active.is_(True)))
    return owner_scope(user, User.id)


def team_scope(user: User) -> ColumnElement[bool]:
    """The teams a user may look up: their own, those they lead; every team for an admin."""
    if not user.is_authenticated or not user.is_active:
        return false()
    if user.is_admin:
        return true()
    own = Team.id == user.team_id if user.team_id is not None else false()
    return or_(own, Team.id.in_(led_team_ids(user))) if user.is_supervisor else own


register_scope(User, people_scope)
register_scope(Team, team_scope)

# Documents follow their customer: after a handover the new owner has them, the old one not.
register_scope(Document, customer_scope, via=(Document.customer,))
register_scope(DocumentVersion, customer_scope, via=(DocumentVersion.document, Document.customer))
# A customer's health and its history follow the customer, as its other records do.
register_scope(CustomerHealth, customer_scope, via=(CustomerHealth.customer,))
register_scope(HealthSnapshot, customer_scope, via=(HealthSnapshot.customer,))
# A customer's monthly business figures follow the customer.
register_scope(MonthlyFigure, customer_scope, via=(MonthlyFigure.customer,))


# Performance assessment (issue 15): a manager's sheet, targets and tasks are scoped by the
# manager as their customers are; a manager sees their own scorecards once published.
def scorecard_scope(user: User) -> ColumnElement[bool]:
    mine = owner_scope(user, Scorecard.user_id)
    if user.is_authenticated and user.is_manager:
        return and_(mine, Scorecard.publication_id.is_not(None))
    return mine


register_scope(Scorecard, scorecard_scope)
register_scope(AssessmentTarget, lambda user: owner_scope(user, AssessmentTarget.user_id))
register_scope(TemporaryTask, lambda user: owner_scope(user, TemporaryTask.user_id))


def can_manage_users(user: User) -> bool:
    return user.is_authenticated and user.is_admin


def assignable_owners(user: User) -> Select:
    """Active users the given user may make owner of a customer."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.display_name)
    if user.is_admin:
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
        if not current_user.is_admin:
            refuse(403, f"admin page {request.endpoint}", current_user)
        return view(*args, **kwargs)

    return wrapper
