"""Contacts at a customer: buying roles, reporting lines and the relationship map."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.permissions import customer_scope
from crm.services import audit
from crm.services.archive import search_index
from crm.services.archive.identity import is_record_id
from crm.services.errors import DomainError, StaleEdit, check_version
from crm.services.filters import ListFilters, contains_any_case
from crm.services.scope import check_customer_in_scope
from models import Attitude, AuditAction, AuditEntry, BuyingRole, Contact, Customer, User

# What the audit log records of a contact.
FIELDS = (
    "name",
    "title",
    "department",
    "mobile",
    "office_phone",
    "email",
    "role",
    "attitude",
    "strength",
    "reports_to_id",
    "notes",
    "active",
)
TEXT_FIELDS = ("title", "department", "mobile", "office_phone", "email", "notes")
EDITABLE = {"name", "role", "attitude", "strength", "reports_to", *TEXT_FIELDS}
STRENGTHS = range(1, 6)


# Rules ----------------------------------------------------------------------


def _clean(fields_: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise submitted contact fields; raise DomainError on the first fault."""
    unknown = set(fields_) - EDITABLE
    if unknown:
        raise TypeError(f"not contact fields: {sorted(unknown)}")
    values = dict(fields_)
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise DomainError(_l("A contact needs a name."), field="name")
    for name in TEXT_FIELDS:
        if name in values:
            values[name] = (values[name] or "").strip() or None
    if "role" in values:
        try:
            values["role"] = BuyingRole(values["role"])
        except ValueError:
            raise DomainError(_l("Choose a buying role from the list."), field="role")
    if "attitude" in values:
        try:
            values["attitude"] = Attitude(values["attitude"])
        except ValueError:
            raise DomainError(_l("Choose an attitude from the list."), field="attitude")
    if "strength" in values:
        try:
            values["strength"] = int(values["strength"])
        except (TypeError, ValueError):
            values["strength"] = 0
        if values["strength"] not in STRENGTHS:
            raise DomainError(
                _l("Relationship strength is from 1 (weak) to 5 (strong)."), field="strength"
            )
    return values


def _manager(reports_to: Contact | int | None) -> Contact | None:
    """The chosen manager as a Contact (an id is looked up)."""
    if reports_to is None or reports_to == 0:
        return None
    if isinstance(reports_to, Contact):
        return reports_to
    manager = db.session.get(Contact, int(reports_to))
    if manager is None:
        raise DomainError(_l("The chosen manager does not exist."), field="reports_to_id")
    return manager


def _check_manager(
    contact: Contact | None, customer: Customer, manager: Contact | None, *, changed: bool
) -> None:
    """Refuse a manager at another customer, a manager who left, and reporting loops."""
    if manager is None:
        return
    if manager.customer_id != customer.id:
        # Never name the other customer: it may be outside the actor's scope.
        raise DomainError(
            _l("A contact can only report to another contact of the same customer."),
            field="reports_to_id",
        )
    if contact is not None and manager.id == contact.id:
        raise DomainError(_l("A contact cannot report to themselves."), field="reports_to_id")
    if changed and not manager.active:
        raise DomainError(
            _l("%(name)s has left the company and cannot be chosen as manager.", name=manager.name),
            field="reports_to_id",
        )
    if contact is None or contact.id is None:
        return
    by_id = {c.id: c for c in customer_contacts(customer)}
    seen: set[int] = set()
    current: Contact | None = manager
    while current is not None and current.id not in seen:
        if current.id == contact.id:
            raise DomainError(
                _l(
                    "%(manager)s already reports (directly or through others) to %(name)s: "
                    "that would make a reporting loop.",
                    manager=manager.name,
                    name=contact.name,
                ),
                field="reports_to_id",
            )
        seen.add(current.id)
        current = by_id.get(current.reports_to_id) if current.reports_to_id else None


# Changes --------------------------------------------------------------------


def create_contact(customer: Customer, *, actor: User, **fields_: Any) -> Contact:
    """Add a contact to a customer; `reports_to` is a Contact, its id, or None."""
    check_customer_in_scope(customer, actor=actor)
    if not fields_.get("name"):
        raise DomainError(_l("A contact needs a name."), field="name")
    values = _clean(fields_)
    manager = _manager(values.pop("reports_to", None))
    _check_manager(None, customer, manager, changed=True)
    contact = Contact(customer=customer, reports_to=manager, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        contact,
        actor=actor,
        customer_id=contact.customer_id,
        changes=audit.snapshot(contact, FIELDS),
    )
    return contact


def update_contact(
    contact: Contact, *, actor: User, version: int | str | None, **fields_: Any
) -> Contact:
    """Change a contact saved from `version`; a stale version raises StaleEdit."""
    customer = contact.customer
    check_customer_in_scope(customer, actor=actor)
    # A missing or garbled version counts as stale: never save blind over someone's edit.
    version = str(version).strip()
    check_version(contact, int(version) if is_record_id(version) else None)
    values = _clean(fields_)
    before = audit.snapshot(contact, FIELDS)
    if "reports_to" in values:
        manager = _manager(values.pop("reports_to"))
        changed = (manager.id if manager else None) != contact.reports_to_id
        _check_manager(contact, customer, manager, changed=changed)
        contact.reports_to = manager
    for name, value in values.items():
        setattr(contact, name, value)
    _flush_versioned(contact)
    audit.record(
        AuditAction.UPDATE,
        contact,
        actor=actor,
        customer_id=contact.customer_id,
        changes=audit.diff(before, audit.snapshot(contact, FIELDS)),
    )
    return contact


def set_contact_active(contact: Contact, active: bool, *, actor: User) -> Contact:
    """Mark a contact as having left the company (kept, inactive) or as back again."""
    check_customer_in_scope(contact.customer, actor=actor)
    if contact.active is active:
        return contact
    before = audit.snapshot(contact, FIELDS)
    contact.active = active
    _flush_versioned(contact)
    audit.record(
        AuditAction.UPDATE,
        contact,
        actor=actor,
        customer_id=contact.customer_id,
        changes=audit.diff(before, audit.snapshot(contact, FIELDS)),
    )
    return contact


def _flush_versioned(contact: Contact) -> None:
    """Flush; a save that raced another one (version moved under us) becomes a StaleEdit."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(
            _l(
                "Someone else saved this record while you were editing it. "
                "Their version is shown below; your changes were not saved."
            ),
            current=contact,
        )


# Reading --------------------------------------------------------------------


def customer_contacts(customer: Customer) -> list[Contact]:
    """Every contact of the customer, active or not, in one query."""
    return list(
        db.session.scalars(
            select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name)
        )
    )


def tree_order(contact: Contact) -> tuple[bool, str, int]:
    """Decision makers first, then by name."""
    return (contact.role is not BuyingRole.DECISION_MAKER, contact.name, contact.id)


@dataclass
class ContactNode:
    """A contact in the relationship map with the contacts who report to them."""

    contact: Contact
    reports: list[ContactNode] = field(default_factory=list)


def build_tree(contacts: Iterable[Contact]) -> list[ContactNode]:
    """Nest the active contacts by reports-to; those without an active manager are roots."""
    active = sorted((c for c in contacts if c.active), key=tree_order)
    ids = {c.id for c in active}
    children: dict[int, list[Contact]] = defaultdict(list)
    tops: list[Contact] = []
    for contact in active:
        if contact.reports_to_id in ids and contact.reports_to_id != contact.id:
            children[contact.reports_to_id].append(contact)
        else:
            tops.append(contact)
    placed: set[int] = set()

    def grow(contact: Contact) -> ContactNode:
        placed.add(contact.id)
        return ContactNode(
            contact, [grow(child) for child in children[contact.id] if child.id not in placed]
        )

    roots = [grow(contact) for contact in tops]
    # A loop written around the rules (old data, raw SQL) has no root: show it from one member.
    for contact in active:
        if contact.id not in placed:
            roots.append(grow(contact))
    return roots


def relationship_tree(customer: Customer) -> list[ContactNode]:
    """The customer's active contacts as an org chart, from one query."""
    return build_tree(customer_contacts(customer))


def descendant_ids(contact: Contact, contacts: Iterable[Contact]) -> set[int]:
    """Ids of everyone reporting to `contact`, directly or through others."""
    children: dict[int, list[int]] = defaultdict(list)
    for other in contacts:
        if other.reports_to_id is not None:
            children[other.reports_to_id].append(other.id)
    found: set[int] = set()
    pending = [contact.id]
    while pending:
        for child in children[pending.pop()]:
            if child not in found and child != contact.id:
                found.add(child)
                pending.append(child)
    return found


def possible_managers(customer: Customer, contact: Contact | None = None) -> list[Contact]:
    """Whom a new contact (or `contact`) may report to: active, not itself, not below it."""
    contacts = customer_contacts(customer)
    excluded = {contact.id} | descendant_ids(contact, contacts) if contact else set()
    keep = contact.reports_to_id if contact else None
    return sorted(
        (c for c in contacts if c.id not in excluded and (c.active or c.id == keep)),
        key=tree_order,
    )


def reporting_chain(contact: Contact, contacts: Iterable[Contact]) -> list[Contact]:
    """The contact's managers from the top down to their direct manager."""
    by_id = {c.id: c for c in contacts}
    chain: list[Contact] = []
    current = by_id.get(contact.reports_to_id) if contact.reports_to_id else None
    while current is not None and current is not contact and current not in chain:
        chain.append(current)
        current = by_id.get(current.reports_to_id) if current.reports_to_id else None
    return list(reversed(chain))


# The contact list -----------------------------------------------------------


@dataclass
class ContactFilters(ListFilters):
    """What the contact list is narrowed to; read from and written back to the URL."""

    q: str = ""
    role: str = ""
    active: str = ""

    @classmethod
    def from_args(cls, args: Any) -> ContactFilters:
        """Build from request.args; unknown values are dropped, never an error."""
        filters = cls(**{f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)})
        if filters.role not in {r.value for r in BuyingRole}:
            filters.role = ""
        if filters.active not in {"1", "0"}:
            filters.active = ""
        return filters


def search_contacts(user: User, filters: ContactFilters) -> Select:
    """The scoped, filtered SELECT of contacts with their customer (not yet paginated)."""
    stmt = (
        select(Contact)
        .join(Contact.customer)
        .where(customer_scope(user))
        .options(contains_eager(Contact.customer), joinedload(Contact.reports_to))
    )
    if filters.q:
        q = filters.q
        like = f"%{q}%"
        conditions = [
            contains_any_case(Contact.name, q),
            Contact.mobile.like(like),
            contains_any_case(Customer.name, q),
        ]
        dialled = any(ch.isdigit() for ch in q)
        if dialled:  # an office phone is found by its number (and is not in the bigram index)
            conditions.append(Contact.office_phone.like(like))
            # "138 0013 8000" and "010-8888 6666" find numbers stored without separators
            # (words keep their spaces: 总 机 is no number).
            digits = re.sub(r"[\s\-()]", "", q)
            if digits != q:
                conditions += [
                    Contact.mobile.like(f"%{digits}%"),
                    Contact.office_phone.like(f"%{digits}%"),
                ]
        stmt = stmt.where(or_(*conditions))
        candidates = _narrowing(user, q, dialled)
        if candidates is not None:
            stmt = stmt.where(candidates)
    if filters.role:
        stmt = stmt.where(Contact.role == BuyingRole(filters.role))
    if filters.active:
        stmt = stmt.where(Contact.active.is_(filters.active == "1"))
    return stmt.order_by(Contact.active.desc(), Contact.name, Contact.id)


def _narrowing(user: User, q: str, dialled: bool) -> ColumnElement[bool] | None:
    """The customers whose contacts the LIKEs need to look at, from the customers' bigram
    index (their names, their contacts' names and mobiles); None to read every contact in
    scope.

    Not for a number (office phones are not in the index), nor for a letter with a case
    outside ASCII (PostgreSQL's ILIKE folds it, the index does not), nor for a manager: a
    portfolio's few hundred contacts are read sooner than the index's rows of a bigram are
    counted (at province a manager's search for 银行 took 12 ms on PostgreSQL, 23 with the
    index, while an admin's for 人寿 took 322 ms, 13 with it).
    """
    if user.is_manager or dialled:
        return None
    if any(ch.lower() != ch.upper() and not ch.isascii() for ch in q):
        return None
    return search_index.narrowing([q], None, narrowed=not user.is_admin, few_only=user.is_admin)


def contact_history(contact: Contact) -> list[AuditEntry]:
    """The contact's audit entries with who made them, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "contacts", AuditEntry.entity_id == contact.id)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
    )
