"""What the handover pages list: handovers, requests, owners and customers, each in scope."""

from __future__ import annotations

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.services.archive.identity import is_record_id
from crm.services.archive.search import count_statement, search_customers
from crm.services.handover.requests import visible_requests
from crm.services.handover.scope import visible_customer_rows
from crm.services.handover.transfer import Selection, visible_handovers
from crm.services.people.picker import people_shortlist
from crm.services.pickers import Shortlist
from models import (
    Customer,
    Handover,
    HandoverCustomer,
    HandoverRequest,
    HandoverRequestStatus,
    Role,
    User,
)


def handovers_newest_first(*, viewer: User) -> Select:
    """SELECT of the handovers the viewer may see, newest first, with their people."""
    return (
        visible_handovers(viewer)
        .options(
            joinedload(Handover.actor),
            joinedload(Handover.from_owner),
            joinedload(Handover.to_owner),
        )
        .order_by(Handover.created_at.desc(), Handover.id.desc())
    )


def handover_by_token(token: str) -> Handover | None:
    """The handover a submitted form already made (its one-time token), if any."""
    return db.session.scalar(select(Handover).where(Handover.token == token))


def customer_rows_by_name(handover: Handover, *, viewer: User) -> Select:
    """SELECT of the handover's customers the viewer may see, by name, with their owners."""
    return (
        visible_customer_rows(handover, viewer)
        .options(
            joinedload(HandoverCustomer.customer).joinedload(Customer.owner),
            joinedload(HandoverCustomer.from_owner),
        )
        .order_by(Customer.name, Customer.id)
    )


def related_handovers(handover: Handover, *, viewer: User) -> list[Handover]:
    """Other handovers the viewer may see that moved any customer this one moved (50 at most)."""
    moved = visible_customer_rows(handover, viewer).with_only_columns(HandoverCustomer.customer_id)
    return list(
        db.session.scalars(
            visible_handovers(viewer)
            .where(
                Handover.id != handover.id,
                exists().where(
                    HandoverCustomer.handover_id == Handover.id,
                    HandoverCustomer.customer_id.in_(moved),
                ),
            )
            .options(joinedload(Handover.to_owner), joinedload(Handover.actor))
            .order_by(Handover.created_at, Handover.id)
            .limit(50)
        )
    )


def ownership_history(customer: Customer) -> list[HandoverCustomer]:
    """Every handover row of a customer (already loaded in scope), newest first."""
    return list(
        db.session.scalars(
            select(HandoverCustomer)
            .where(HandoverCustomer.customer_id == customer.id)
            .options(
                joinedload(HandoverCustomer.handover).joinedload(Handover.to_owner),
                joinedload(HandoverCustomer.handover).joinedload(Handover.actor),
                joinedload(HandoverCustomer.from_owner),
            )
            .order_by(HandoverCustomer.id.desc())
        )
    )


# Who may receive customers (crm/services/handover/transfer.py target_owners): the pickers
# of the handover page ask the people picker for these roles.
TARGET_ROLES = (Role.MANAGER, Role.SUPERVISOR)


def owners_to_hand_to(
    *, viewer: User, chosen: int | None = None, with_username: bool = True
) -> Shortlist:
    """The active users the viewer may hand customers to, as the page's pickers show them:
    the first by name and `chosen` (check_target judges whatever id arrives); the new owner
    labelled "name (username)", where two of a name must not mix."""
    return people_shortlist(viewer, chosen=chosen, roles=TARGET_ROLES, with_username=with_username)


def selected_customers(selection: Selection, *, viewer: User) -> Select:
    """SELECT of the customers in scope a handover selection matches, with their owners."""
    return _matching(selection, viewer).options(joinedload(Customer.owner))


def selected_customer_count(selection: Selection, *, viewer: User) -> int:
    """How many customers in scope a handover selection matches."""
    return db.session.scalar(count_statement(_matching(selection, viewer))) or 0


def _matching(selection: Selection, viewer: User) -> Select:
    matching = search_customers(viewer, selection.filters)
    if selection.ids:
        matching = matching.where(Customer.id.in_(selection.ids))
    return matching


def pending_request(request_id: str | None, *, viewer: User) -> HandoverRequest | None:
    """The pending request with this id (as the URL or form sent it) the viewer may see."""
    if not request_id or not is_record_id(str(request_id)):
        return None
    return db.session.scalar(
        visible_requests(viewer).where(
            HandoverRequest.id == int(request_id),
            HandoverRequest.status == HandoverRequestStatus.PENDING,
        )
    )


def pending_request_count(*, viewer: User) -> int:
    """How many pending handover requests the viewer may see."""
    return (
        db.session.scalar(
            select(func.count()).select_from(
                visible_requests(viewer)
                .where(HandoverRequest.status == HandoverRequestStatus.PENDING)
                .subquery()
            )
        )
        or 0
    )


def requests_pending_first(*, viewer: User) -> Select:
    """SELECT of the requests the viewer may see: pending ones first, then newest first."""
    return (
        visible_requests(viewer)
        .options(
            joinedload(HandoverRequest.customer).joinedload(Customer.owner),
            joinedload(HandoverRequest.requested_by),
            joinedload(HandoverRequest.to_owner),
            joinedload(HandoverRequest.decided_by),
        )
        .order_by(
            (HandoverRequest.status == HandoverRequestStatus.PENDING).desc(),
            HandoverRequest.created_at.desc(),
            HandoverRequest.id.desc(),
        )
    )


def own_customers_named(text: str, *, viewer: User) -> list[Customer]:
    """The viewer's own customers whose name contains the text (20 at most)."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(Customer.owner_id == viewer.id, Customer.name.contains(text, autoescape=True))
            .order_by(Customer.name, Customer.id)
            .limit(20)
        )
    )


def colleagues(*, viewer: User) -> list[User]:
    """Whom a manager may suggest as the new owner: the active members of their own team."""
    if viewer.team_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.team_id == viewer.team_id,
                User.active.is_(True),
                User.id != viewer.id,
                User.role.in_((Role.MANAGER, Role.SUPERVISOR)),
            )
            .order_by(User.display_name)
        )
    )
