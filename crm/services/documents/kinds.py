"""Admin-editable document kinds (proposal, contract, site photo …).

A kind is retired, never deleted: documents keep theirs. The code is fixed once made,
since the stage document rules name kinds by code.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from crm.extensions import db
from crm.services import audit
from crm.services.archive.reference import require_admin
from crm.services.errors import DomainError
from models import AuditAction, Document, DocumentKind, User

FIELDS = ("code", "name_zh", "name_en", "position", "active")
CODE = re.compile(r"[a-z][a-z0-9_]{0,29}")


def all_kinds() -> list[DocumentKind]:
    """Every kind, retired ones included, in the admin's order."""
    return list(
        db.session.scalars(select(DocumentKind).order_by(DocumentKind.position, DocumentKind.id))
    )


def kind_usage() -> dict[int, int]:
    """{kind id: number of documents of that kind, deleted ones included}."""
    rows = db.session.execute(select(Document.kind_id, func.count()).group_by(Document.kind_id))
    return {kind_id: count for kind_id, count in rows}


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _check(kind: DocumentKind | None, code: str, name_zh: str, name_en: str) -> None:
    if kind is None and not CODE.fullmatch(code):
        raise DomainError(
            _l("A code is lower-case letters, digits and _, starting with a letter."),
            field="code",
        )
    if not name_zh:
        raise DomainError(_l("Enter the Chinese name."), field="name_zh")
    if not name_en:
        raise DomainError(_l("Enter the English name."), field="name_en")
    others = select(DocumentKind.id)
    if kind is not None:
        others = others.where(DocumentKind.id != kind.id)
    if kind is None and db.session.scalar(others.where(DocumentKind.code == code)):
        raise DomainError(_l("A kind with the code %(code)s exists.", code=code), field="code")
    if db.session.scalar(others.where(DocumentKind.name_zh == name_zh)):
        raise DomainError(_l("A kind named %(name)s exists.", name=name_zh), field="name_zh")
    if db.session.scalar(others.where(func.lower(DocumentKind.name_en) == name_en.lower())):
        raise DomainError(_l("A kind named %(name)s exists.", name=name_en), field="name_en")


def create_kind(
    *, actor: User, code: str, name_zh: str, name_en: str, position: int | None
) -> DocumentKind:
    require_admin(actor)
    code, name_zh, name_en = _clean(code).lower(), _clean(name_zh), _clean(name_en)
    _check(None, code, name_zh, name_en)
    if position is None:
        position = (db.session.scalar(select(func.max(DocumentKind.position))) or 0) + 1
    kind = DocumentKind(code=code, name_zh=name_zh, name_en=name_en, position=position)
    db.session.add(kind)
    db.session.flush()
    audit.record(
        AuditAction.CREATE,
        kind,
        actor=actor,
        customer_id=None,
        changes=audit.snapshot(kind, FIELDS),
        label=name_zh,
    )
    return kind


def update_kind(
    kind: DocumentKind, *, actor: User, name_zh: str, name_en: str, position: int | None
) -> DocumentKind:
    require_admin(actor)
    name_zh, name_en = _clean(name_zh), _clean(name_en)
    _check(kind, kind.code, name_zh, name_en)
    before = audit.snapshot(kind, FIELDS)
    kind.name_zh, kind.name_en = name_zh, name_en
    if position is not None:
        kind.position = position
    db.session.flush()
    audit.record(
        AuditAction.UPDATE,
        kind,
        actor=actor,
        customer_id=None,
        changes=audit.diff(before, audit.snapshot(kind, FIELDS)),
        label=name_zh,
    )
    return kind


def set_kind_active(kind: DocumentKind, *, actor: User, active: bool) -> DocumentKind:
    require_admin(actor)
    if active == kind.active:
        return kind
    kind.active = active
    db.session.flush()
    audit.record(
        AuditAction.UPDATE,
        kind,
        actor=actor,
        customer_id=None,
        changes={"active": [not active, active]},
        label=kind.name_zh,
    )
    return kind
