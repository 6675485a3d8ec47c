"""Admin-editable reference data: the industries customers are classified by."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from crm.extensions import db
from crm.services import audit
from crm.services.errors import DomainError, NotAllowed
from crm.services.seed import DEFAULT_INDUSTRIES
from models import AuditAction, Customer, Industry, User

INDUSTRY_FIELDS = ("name_zh", "name_en", "position", "active")


def require_admin(actor: User | None) -> None:
    """Refuse anyone but an administrator: reference data is shared by everyone."""
    if actor is None or not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may change reference data."))


def ensure_default_industries() -> int:
    """Insert the default industries into an empty table; return how many were added."""
    if db.session.scalar(select(func.count()).select_from(Industry)):
        return 0
    db.session.add_all(
        Industry(name_zh=zh, name_en=en, position=position, active=True)
        for position, (zh, en) in enumerate(DEFAULT_INDUSTRIES)
    )
    db.session.flush()
    return len(DEFAULT_INDUSTRIES)


def all_industries() -> list[Industry]:
    """Every industry, retired ones included, in the admin's order."""
    return list(db.session.scalars(select(Industry).order_by(Industry.position, Industry.id)))


def selectable_industries(current_id: int | None = None) -> list[Industry]:
    """Active industries for a select, plus the record's current one even if it is retired."""
    keep = Industry.active.is_(True)
    if current_id:
        keep = or_(keep, Industry.id == current_id)
    stmt = select(Industry).where(keep).order_by(Industry.position, Industry.id)
    return list(db.session.scalars(stmt))


def industry_usage() -> dict[int, int]:
    """{industry id: number of customers classified by it}."""
    rows = db.session.execute(
        select(Customer.industry_id, func.count())
        .where(Customer.industry_id.is_not(None))
        .group_by(Customer.industry_id)
    )
    return {industry_id: count for industry_id, count in rows}


def _clean(name: str | None) -> str:
    return " ".join((name or "").split())


def _check_names(name_zh: str, name_en: str, industry: Industry | None) -> None:
    if not name_zh:
        raise DomainError(_l("Enter the Chinese name."), field="name_zh")
    if not name_en:
        raise DomainError(_l("Enter the English name."), field="name_en")
    others = select(Industry).where(Industry.id != industry.id) if industry else select(Industry)
    if db.session.scalar(others.where(Industry.name_zh == name_zh)):
        raise DomainError(_l("An industry named %(name)s exists.", name=name_zh), field="name_zh")
    if db.session.scalar(others.where(func.lower(Industry.name_en) == name_en.lower())):
        raise DomainError(_l("An industry named %(name)s exists.", name=name_en), field="name_en")


def create_industry(*, actor: User, name_zh: str, name_en: str, position: int | None) -> Industry:
    """Add an industry; names must be unique (the English one regardless of case)."""
    require_admin(actor)
    name_zh, name_en = _clean(name_zh), _clean(name_en)
    _check_names(name_zh, name_en, None)
    if position is None:
        position = (db.session.scalar(select(func.max(Industry.position))) or 0) + 1
    industry = Industry(name_zh=name_zh, name_en=name_en, position=position, active=True)
    db.session.add(industry)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        industry,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(industry, INDUSTRY_FIELDS),
        label=industry.name_zh,
    )
    return industry


def update_industry(
    industry: Industry, *, actor: User, name_zh: str, name_en: str, position: int | None
) -> None:
    """Rename or reorder an industry; customers keep it."""
    require_admin(actor)
    name_zh, name_en = _clean(name_zh), _clean(name_en)
    _check_names(name_zh, name_en, industry)
    before = audit.snapshot(industry, INDUSTRY_FIELDS)
    industry.name_zh, industry.name_en = name_zh, name_en
    if position is not None:
        industry.position = position
    _record_change(industry, before, actor)


def set_industry_active(industry: Industry, *, actor: User, active: bool) -> None:
    """Retire an industry (hidden from new choices, kept on its customers) or bring it back."""
    require_admin(actor)
    before = audit.snapshot(industry, INDUSTRY_FIELDS)
    industry.active = active
    _record_change(industry, before, actor)


def delete_industry(industry: Industry, *, actor: User) -> None:
    """Delete an industry no customer uses; one in use can only be retired."""
    require_admin(actor)
    used = db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.industry_id == industry.id)
    )
    if used:
        raise DomainError(
            _l(
                "%(name)s is used by %(n)d customers and cannot be deleted; retire it instead.",
                name=industry.name_zh,
                n=used,
            )
        )
    audit.record(
        AuditAction.DELETE,
        industry,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(industry, INDUSTRY_FIELDS),
        label=industry.name_zh,
    )
    db.session.delete(industry)
    db.session.flush()


def _record_change(industry: Industry, before: dict, actor: User) -> None:
    db.session.flush()
    audit.record(
        AuditAction.UPDATE,
        industry,
        actor=actor,
        customer_id=None,
        changes=audit.diff(before, audit.snapshot(industry, INDUSTRY_FIELDS)),
        label=industry.name_zh,
    )
