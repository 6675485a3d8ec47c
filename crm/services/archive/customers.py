"""Creating, changing and deleting customers: the rules of the archive's core record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.permissions import (
    assignable_owners,
    customer_scope,
    visible_customers,
)
from crm.services import audit
from crm.services.archive import loss
from crm.services.archive.groups import ancestor_ids
from crm.services.archive.identity import (
    credit_code_problem,
    normalise_credit_code,
    normalise_name,
    without_format_characters,
)
from crm.services.archive.picker import customer_shortlist
from crm.services.errors import DomainError, NotAllowed, StaleEdit, check_version
from crm.services.people.picker import people_shortlist
from crm.services.pickers import Shortlist
from crm.services.scope import check_customer_in_scope
from crm.services.webhooks import events as webhooks
from models import (
    AuditAction,
    AuditEntry,
    Customer,
    CustomerStatus,
    Industry,
    Strategy,
    Team,
    Tier,
    User,
)

# What the audit log records and an edit may change.
PROFILE_FIELDS = (
    "name",
    "credit_code",
    "parent_id",
    "industry_id",
    "region",
    "address",
    "employees",
    "annual_revenue",
    "annual_spend",
    "tier",
    "strategy",
    "status",
    "products_in_use",
    "contract_expiry",
    "owner_id",
    "notes",
)
_TEXT_FIELDS = ("name", "credit_code", "region", "address", "products_in_use", "notes")
_ENUMS = {"tier": Tier, "strategy": Strategy, "status": CustomerStatus}
_MONEY_LIMIT = Decimal("99999999999999")  # Numeric(16, 2)

# Errors the forms show specially -------------------------------------------------


class DuplicateCreditCode(DomainError):
    """Another customer has this credit code; `existing` is that customer.

    Who asks learns what they need and no more: a user who has the customer in
    scope is told its name (the page links to it); anyone else only learns whom to
    ask for a handover, the owning team and its supervisor, not the customer's or
    the owner's name (see credit_code_taken).
    """

    def __init__(self, existing: Customer, *, visible: bool) -> None:
        if visible:
            message = _l("Customer %(name)s already has this credit code.", name=existing.name)
        else:
            message = credit_code_taken(existing.owner_id)
        super().__init__(message, field="credit_code")
        self.existing = existing
        self.visible = visible


def credit_code_taken(owner_id: int) -> object:
    """Whom to ask for a handover of a customer outside the asker's scope, in words."""
    team, supervisor = owning_team(owner_id)
    if team and supervisor:
        return _l(
            "This credit code belongs to a customer of team %(team)s (supervisor: "
            "%(supervisor)s). Ask them to hand the customer over to you.",
            team=team,
            supervisor=supervisor,
        )
    if team:
        return _l(
            "This credit code belongs to a customer of team %(team)s. Ask an administrator "
            "to hand the customer over to you.",
            team=team,
        )
    return _l(
        "This credit code belongs to a customer outside your portfolio. Ask an "
        "administrator to hand the customer over to you."
    )


def owning_team(owner_id: int) -> tuple[str | None, str | None]:
    """The name of the owner's team and its supervisor's display name (None where unknown)."""
    supervisor = aliased(User)
    row = db.session.execute(
        select(Team.name, supervisor.display_name)
        .select_from(User)
        .join(Team, Team.id == User.team_id)
        .outerjoin(supervisor, supervisor.id == Team.supervisor_id)
        .where(User.id == owner_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


class SimilarNames(DomainError):
    """Customers with the same normalised name exist; saving needs the user's confirmation."""

    def __init__(self, similar: list[Customer]) -> None:
        super().__init__(
            _l(
                "Customers with a very similar name already exist. Make sure this is not "
                "one of them, then confirm to save."
            ),
            field="name",
        )
        self.similar = similar


def credit_code_error(code: str) -> object | None:
    """Why `code` is not a valid unified social credit code, in plain words; None if valid."""
    problem = credit_code_problem(code)
    if problem is None:
        return None
    if problem == "length":
        return _l(
            "A unified social credit code has 18 characters; this one has %(n)d.", n=len(code)
        )
    if problem == "characters":
        return _l(
            "A credit code contains only digits and capital letters other than I, O, S, V and Z."
        )
    return _l(
        "The last character (the check digit) does not match the others: look for a typing error."
    )


def similar_customers(name: str, exclude_id: int | None = None) -> list[Customer]:
    """Customers anywhere whose name normalises to the same key as `name`."""
    key = normalise_name(name)
    if not key:
        return []
    stmt = (
        select(Customer)
        .options(joinedload(Customer.owner))
        .where(Customer.name_key == key)
        .order_by(Customer.name, Customer.id)
        .limit(50)
    )
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return list(db.session.scalars(stmt))


def visible_ids(customers: list[Customer], actor: User) -> set[int]:
    """Which of these customers the actor may open (the rest are shown without a link)."""
    ids = [c.id for c in customers]
    if not ids:
        return set()
    return set(
        db.session.scalars(select(Customer.id).where(Customer.id.in_(ids), customer_scope(actor)))
    )


# Checks ---------------------------------------------------------------------------


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not customer profile fields: {sorted(unknown)}")
    values = dict(fields)
    for name in _TEXT_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = values[name].strip() or None
    if values.get("name"):
        values["name"] = without_format_characters(values["name"]).strip() or None
    if values.get("credit_code"):
        values["credit_code"] = normalise_credit_code(values["credit_code"]) or None
    for name, enum_cls in _ENUMS.items():
        if isinstance(values.get(name), str):
            values[name] = enum_cls(values[name])
    if "name" in values and not values["name"]:
        raise DomainError(_l("A customer needs a name."), field="name")
    if (values.get("employees") or 0) < 0:
        raise DomainError(_l("The number of employees cannot be negative."), field="employees")
    for name in ("annual_revenue", "annual_spend"):
        amount = values.get(name)
        if amount is not None and not (0 <= Decimal(amount) <= _MONEY_LIMIT):
            raise DomainError(_l("Enter an amount between 0 and 99,999,999,999,999."), field=name)
    return values


def _check_credit_code(code: str | None, exclude_id: int | None, actor: User) -> None:
    if code is None:
        return
    problem = credit_code_error(code)
    if problem is not None:
        raise DomainError(problem, field="credit_code")
    stmt = select(Customer).where(Customer.credit_code == code)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    existing = db.session.scalar(stmt)
    if existing is not None:
        raise DuplicateCreditCode(existing, visible=bool(visible_ids([existing], actor)))


def _check_owner(owner_id: int, actor: User) -> None:
    allowed = db.session.scalar(
        assignable_owners(actor).where(User.id == owner_id).with_only_columns(User.id)
    )
    if allowed is None:
        raise NotAllowed(
            _l("You may not make this user the owner of a customer."), field="owner_id"
        )


def _check_industry(industry_id: int | None) -> None:
    if industry_id is not None and db.session.get(Industry, industry_id) is None:
        raise DomainError(_l("Choose an industry from the list."), field="industry_id")


def _check_parent(customer: Customer | None, parent_id: int | None, actor: User) -> None:
    if parent_id is None:
        return
    if customer is not None and parent_id == customer.id:
        raise DomainError(_l("A customer cannot be its own parent."), field="parent_id")
    if db.session.scalar(visible_customers(actor).where(Customer.id == parent_id)) is None:
        raise DomainError(
            _l("Choose a parent customer from your own customers."), field="parent_id"
        )
    if customer is not None and customer.id in ancestor_ids(parent_id):
        raise DomainError(
            _l(
                "This customer is already above the chosen parent in its group: "
                "that would make a loop."
            ),
            field="parent_id",
        )


# Changes --------------------------------------------------------------------------


def create_customer(*, actor: User, confirm_duplicate: bool = False, **fields: Any) -> Customer:
    """Create a customer; a name like an existing one needs `confirm_duplicate`."""
    values = _clean(fields)
    if not values.get("name"):
        raise DomainError(_l("A customer needs a name."), field="name")
    if values.get("status") is CustomerStatus.LOST:
        raise _lost_needs_a_reason()
    values["owner_id"] = values.get("owner_id") or actor.id
    _check_credit_code(values.get("credit_code"), exclude_id=None, actor=actor)
    _check_owner(values["owner_id"], actor)
    _check_parent(None, values.get("parent_id"), actor)
    _check_industry(values.get("industry_id"))
    if not confirm_duplicate:
        similar = similar_customers(values["name"])
        if similar:
            raise SimilarNames(similar)
    customer = Customer(
        **values,
        name_key=normalise_name(values["name"]),
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(customer)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        customer,
        actor=actor,
        customer_id=customer.id,
        changes=audit.snapshot(customer, PROFILE_FIELDS),
    )
    db.session.flush()
    webhooks.customer_created(customer, actor=actor)
    return customer


def update_customer(
    customer: Customer,
    *,
    actor: User,
    version: int | None,
    confirm_duplicate: bool = False,
    **fields: Any,
) -> Customer:
    """Change a customer's profile; refused if someone saved it since `version` was read."""
    check_customer_in_scope(customer, actor=actor)
    check_version(customer, version)
    values = _clean(fields)
    status = values.get("status", customer.status)
    if status is CustomerStatus.LOST and customer.status is not CustomerStatus.LOST:
        raise _lost_needs_a_reason()
    won_back = customer.status is CustomerStatus.LOST and status is not CustomerStatus.LOST
    if "credit_code" in values and values["credit_code"] != customer.credit_code:
        _check_credit_code(values.get("credit_code"), exclude_id=customer.id, actor=actor)
    if values.get("owner_id", customer.owner_id) != customer.owner_id:
        _check_owner(values["owner_id"], actor)
    if values.get("parent_id", customer.parent_id) != customer.parent_id:
        _check_parent(customer, values["parent_id"], actor)
    if values.get("industry_id", customer.industry_id) != customer.industry_id:
        _check_industry(values["industry_id"])
    new_name = values.get("name") or customer.name
    new_key = normalise_name(new_name)
    if new_key != customer.name_key and not confirm_duplicate:
        similar = similar_customers(new_name, exclude_id=customer.id)
        if similar:
            raise SimilarNames(similar)

    before = audit.snapshot(customer, PROFILE_FIELDS)
    lost_before = audit.snapshot(customer, loss.LOSS_FIELDS)
    for name, value in values.items():
        setattr(customer, name, value)
    customer.name_key = new_key
    if won_back:
        loss.clear_loss(customer)
    changes = audit.diff(before, audit.snapshot(customer, PROFILE_FIELDS))
    changes |= audit.diff(lost_before, audit.snapshot(customer, loss.LOSS_FIELDS))
    if changes:
        customer.updated_by_id = actor.id
        audit.record(
            AuditAction.UPDATE, customer, actor=actor, customer_id=customer.id, changes=changes
        )
    try:
        db.session.flush()
    except StaleDataError:
        # Saved by someone else between our read and our write: the same answer as above.
        raise StaleEdit(
            _l(
                "Someone else saved this record while you were editing it. "
                "Their version is shown below; your changes were not saved."
            ),
            current=customer,
        )
    return customer


# Why "lost" is never set as a plain status (the form, the API, the CSV import): the
# supervisor's "lost this quarter" reads the reason and the competitor.
LOST_NEEDS_A_REASON = _l(
    "To mark the customer lost, use “Mark as lost” on its page: it asks why the "
    "customer left and to whom."
)


def _lost_needs_a_reason() -> DomainError:
    return DomainError(LOST_NEEDS_A_REASON, field="status")


def delete_customer(customer: Customer, *, actor: User) -> None:
    """Delete a customer with nothing hanging off it (admins only; duplicates are merged)."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may delete a customer."))
    if _has_records(customer):
        raise DomainError(
            _l(
                "%(name)s still has records that belong to it (subsidiaries, contacts, "
                "competitor profiles, opportunities, visits, follow-ups, documents, plans …). "
                "To fold a duplicate into another customer, merge them instead.",
                name=customer.name,
            )
        )
    audit.record(
        AuditAction.DELETE,
        customer,
        actor=actor,
        customer_id=customer.id,
        changes=audit.snapshot(customer, PROFILE_FIELDS),
    )
    db.session.delete(customer)
    db.session.flush()


def _has_records(customer: Customer) -> bool:
    """Whether any row refers to the customer: every foreign key to customers.id in the
    schema, read from the metadata, so a table added later is asked too (one statement).

    Rows the database deletes with the customer (ON DELETE CASCADE: its health, derived
    from the records asked about here) do not hold it back.
    """
    referring = [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == Customer.__tablename__
        and key.column.name == "id"
        and key.ondelete != "CASCADE"
    ]
    return bool(
        db.session.scalar(
            select(or_(*(exists().where(column == customer.id) for column in referring)))
        )
    )


# Reading --------------------------------------------------------------------------


def history(customer_id: int, limit: int | None = None) -> list[AuditEntry]:
    """The customer's audit entries (its contacts' and profiles' too), newest first."""
    stmt = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(AuditEntry.customer_id == customer_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def parent_choices(
    customer: Customer | None, *, actor: User, chosen: int | None = None
) -> Shortlist:
    """The customers the actor may choose as parent (group), as the form's picker shows them:
    the first by name and `chosen`; the current parent stays even outside the actor's scope."""
    parents = customer_shortlist(
        actor, chosen=chosen, leave_out=customer.id if customer is not None else None
    )
    if customer is not None and customer.parent_id not in {None, *parents.ids()}:
        parents = parents.keeping(customer.parent_id, customer.parent.name)
    return parents


def owner_choices(
    customer: Customer | None, *, actor: User, chosen: int | None = None
) -> Shortlist:
    """The users the actor may make owner, as the form's picker shows them (the first by name
    and `chosen`); the customer's current owner stays selectable."""
    owners = people_shortlist(actor, chosen=chosen)
    if customer is not None and customer.owner_id not in owners.ids():
        owners = owners.keeping(customer.owner_id, customer.owner.display_name)
    return owners
