"""The document library: upload, new versions, rename, soft delete, and what rules ask.

Order of a write: every file is received into a temporary file and checked (size, type)
before anything is stored; then the bytes go into the store (content-addressed, so the
same bytes are kept once), then the rows are added and flushed. The view commits. When
the transaction rolls back instead, the objects this transaction added and no row uses
are removed at once (`_forget_on_rollback`); whatever a crash leaves behind, the orphan
job removes (crm/services/documents/cleanup.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, exists, func, select
from sqlalchemy.orm import Session, joinedload

from crm.extensions import db
from crm.permissions import scoped
from crm.request_cache import per_request
from crm.services import audit, settings
from crm.services.archive.lock import lock_customer_for_write
from crm.services.documents import sniffing
from crm.services.documents.storage import Spooled, StoreError, TooLarge, current_store
from crm.services.documents.thumbnails import make_thumbnail
from crm.services.errors import DomainError, NotFound, check_version
from models import (
    AuditAction,
    Customer,
    Document,
    DocumentKind,
    DocumentVersion,
    Opportunity,
    User,
    Visit,
)
from models.base import utcnow

# Files one upload form takes at once (the request limit allows this many full-size files).
MAX_FILES = 10
NEW_KEYS = "documents_new_keys"

RETENTION_DAYS = settings.declare(
    settings.Setting(
        "documents.retention_days",
        _l("Keep deleted documents for (days)"),
        30,
        settings.whole_number(0, 3650),
        help=_l("A deleted document and its files are purged for good after this many days."),
        area=_l("Documents"),
    )
)


class FileTooLarge(DomainError):
    """A file over the size limit: the view answers 413."""


@dataclass
class Upload:
    """One file of a request: its stream and the name it had on the user's device."""

    stream: IO[bytes]
    filename: str


def max_bytes() -> int:
    return int(current_app.config["MAX_DOCUMENT_MB"] * 1024 * 1024)


def limit_mb() -> str:
    """The size limit as people write it: 25, 0.5."""
    return f"{current_app.config['MAX_DOCUMENT_MB']:g}"


def too_large_message() -> str:
    return str(
        _l(
            "A file may be at most %(mb)s MB. Nothing was uploaded.",
            mb=limit_mb(),
        )
    )


def clean_filename(name: str | None) -> str:
    """The last part of the name a browser sent, as text (it never becomes a path)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-255:] or "file"


def _title_from(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return (stem.strip() or filename)[:200]


# Kinds -----------------------------------------------------------------------------


def active_kinds() -> list[DocumentKind]:
    """The kinds offered for uploads, in the admin's order; read once per page view (the
    upload form's choices and its preselected kind both ask)."""
    stmt = (
        select(DocumentKind)
        .where(DocumentKind.active.is_(True))
        .order_by(DocumentKind.position, DocumentKind.id)
    )
    return list(per_request("document-kinds", lambda: list(db.session.scalars(stmt))))


def kind_for_any(kind_id: int) -> DocumentKind | None:
    """A kind by id, retired or not (a document keeps a kind retired since)."""
    return db.session.get(DocumentKind, kind_id)


def kind_by_code(code: str) -> DocumentKind | None:
    """The active kind with this code (a stage rule or an upload form's default names it)."""
    return next((kind for kind in active_kinds() if kind.code == code), None)


def kind_for(kind_id: int | None) -> DocumentKind:
    kind = db.session.get(DocumentKind, kind_id) if kind_id else None
    if kind is None or not kind.active:
        raise DomainError(_l("Choose a kind of document."), field="kind_id")
    return kind


# Receiving files ------------------------------------------------------------------


@dataclass
class Received:
    spooled: Spooled
    filename: str
    type: sniffing.FileType


def _receive(uploads: list[Upload]) -> list[Received]:
    """Every file received and checked, or none: a refusal discards what came in."""
    if not uploads:
        raise DomainError(_l("Choose at least one file to upload."), field="files")
    if len(uploads) > MAX_FILES:
        raise DomainError(_l("Upload at most %(n)d files at once.", n=MAX_FILES), field="files")
    store = current_store()
    received: list[Received] = []
    try:
        for upload in uploads:
            filename = clean_filename(upload.filename)
            try:
                spooled = store.spool(upload.stream, max_bytes())
            except (StoreError, OSError) as error:
                raise _unreachable(error) from None
            except TooLarge:
                raise FileTooLarge(
                    _l(
                        "%(name)s is larger than %(mb)s MB. Nothing was uploaded.",
                        name=filename,
                        mb=limit_mb(),
                    ),
                    field="files",
                ) from None
            received.append(Received(spooled, filename, sniffing.FileType("", "")))
            if spooled.size == 0:
                raise DomainError(
                    _l("%(name)s is empty. Nothing was uploaded.", name=filename), field="files"
                )
            found = sniffing.sniff(spooled.path, filename)
            if found is None:
                raise DomainError(
                    _l(
                        "%(name)s is not a type of file the CRM keeps (PDF, JPEG, PNG, WebP, "
                        "HEIC, Word, Excel or PowerPoint). Nothing was uploaded.",
                        name=filename,
                    ),
                    field="files",
                )
            received[-1].type = found
    except BaseException:
        for item in received:
            item.spooled.discard()
        raise
    return received


def _unreachable(error: Exception) -> DomainError:
    current_app.logger.error("document store failed: %s", error)
    return DomainError(
        _l("The document store cannot be reached. Nothing was uploaded; try again later."),
        field="files",
    )


def _remember_new(key: str) -> None:
    db.session.info.setdefault(NEW_KEYS, set()).add(key)


def _store(item: Received) -> tuple[str, str | None]:
    """Put the file (and an image's thumbnail) into the store; (key, thumbnail key)."""
    store = current_store()
    thumbnail = make_thumbnail(item.spooled.path) if item.type.image else None
    key = item.spooled.key
    try:
        if store.put_file(item.spooled):
            _remember_new(key)
        thumbnail_key = None
        if thumbnail is not None:
            spooled = store.spool(io.BytesIO(thumbnail))
            thumbnail_key = spooled.key
            if store.put_file(spooled):
                _remember_new(thumbnail_key)
    except (StoreError, OSError) as error:
        raise _unreachable(error) from None
    finally:
        item.spooled.discard()
    return key, thumbnail_key


def _version_row(document: Document, item: Received, actor: User) -> DocumentVersion:
    key, thumbnail_key = _store(item)
    document.current_version += 1
    row = DocumentVersion(
        document=document,
        number=document.current_version,
        blob_key=key,
        size=item.spooled.size,
        content_type=item.type.content_type,
        filename=item.filename,
        thumbnail_key=thumbnail_key,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    db.session.add(row)
    return row


# Writing --------------------------------------------------------------------------


def upload(
    *,
    customer: Customer,
    actor: User,
    uploads: list[Upload],
    kind_id: int | None,
    title: str | None = None,
    opportunity: Opportunity | None = None,
    visit: Visit | None = None,
) -> list[Document]:
    """One document per file, on the customer (and its opportunity or visit)."""
    customer = lock_customer_for_write(customer.id, actor=actor)
    for record in (opportunity, visit):
        if record is not None and record.customer_id != customer.id:
            raise NotFound(_l("This record is not in your portfolio."))
    kind = kind_for(kind_id)
    title = (title or "").strip()
    received = _receive(uploads)
    documents = []
    try:
        for item in received:
            document = Document(
                customer_id=customer.id,
                opportunity_id=opportunity.id if opportunity else None,
                visit_id=visit.id if visit else None,
                kind=kind,
                # One title for one file; several files keep their own names.
                title=title if title and len(received) == 1 else _title_from(item.filename),
                created_by_id=actor.id,
                current_version=0,
            )
            db.session.add(document)
            _version_row(document, item, actor)
            documents.append(document)
    finally:
        for item in received:
            item.spooled.discard()
    db.session.flush()
    for document in documents:
        _audit(AuditAction.CREATE, document, actor, _snapshot(document))
    db.session.flush()
    return documents


def add_version(document: Document, *, actor: User, upload: Upload | None) -> DocumentVersion:
    """A new version of the document; the earlier ones are kept."""
    _check(document, actor)
    (item,) = _receive([upload] if upload is not None else [])
    row = _version_row(document, item, actor)
    db.session.flush()
    _audit(
        AuditAction.UPDATE,
        document,
        actor,
        {"version": [row.number - 1, row.number], "filename": [None, row.filename]},
    )
    db.session.flush()
    return row


def update(
    document: Document, *, actor: User, version: int | None, title: str, kind_id: int | None
) -> Document:
    """Rename the document or change its kind."""
    _check(document, actor)
    check_version(document, version)
    title = (title or "").strip()
    if not title:
        raise DomainError(_l("Give the document a title."), field="title")
    kind = document.kind if kind_id == document.kind_id else kind_for(kind_id)
    before = _snapshot(document)
    document.title = title[:200]
    document.kind = kind
    db.session.flush()
    _audit(AuditAction.UPDATE, document, actor, audit.diff(before, _snapshot(document)))
    return document


def delete(document: Document, *, actor: User) -> None:
    """Soft delete: hidden now, purged with its files after the retention period."""
    _check(document, actor)
    document.deleted_at = utcnow()
    document.deleted_by_id = actor.id
    db.session.flush()
    _audit(AuditAction.DELETE, document, actor, _snapshot(document))


def _check(document: Document, actor: User) -> None:
    lock_customer_for_write(document.customer_id, actor=actor)
    if document.deleted_at is not None:
        raise NotFound(_l("This document has been deleted."))


def _snapshot(document: Document) -> dict:
    return {"title": document.title, "kind": document.kind.code}


def _audit(action: AuditAction, document: Document, actor: User, changes: dict) -> None:
    audit.record(
        action,
        document,
        actor=actor,
        customer_id=document.customer_id,
        changes=changes,
        label=document.title,
    )


# A rolled-back upload leaves no object behind ---------------------------------------


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(NEW_KEYS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    """Remove the objects this transaction added that no committed row uses.

    Only objects this transaction created (not ones that were there already): another
    upload of the same bytes that committed meanwhile has a row, and keeps its object.
    """
    if previous_transaction.parent is not None or not session.is_active:
        return
    keys = session.info.pop(NEW_KEYS, None)
    if not keys:
        return
    used = set(
        session.scalars(select(DocumentVersion.blob_key).where(DocumentVersion.blob_key.in_(keys)))
    ) | set(
        session.scalars(
            select(DocumentVersion.thumbnail_key).where(DocumentVersion.thumbnail_key.in_(keys))
        )
    )
    store = current_store()
    for key in keys - used:
        try:
            store.delete(key)
        except StoreError:
            current_app.logger.warning("document %s left for the orphan job", key)


# Reading ----------------------------------------------------------------------------


def _listed(viewer: User):
    return (
        scoped(Document, viewer)
        .where(Document.deleted_at.is_(None))
        .options(
            joinedload(Document.kind),
            joinedload(Document.created_by),
            joinedload(Document.newest).joinedload(DocumentVersion.uploaded_by),
        )
        .order_by(Document.created_at.desc(), Document.id.desc())
    )


def documents_on_query(record: Customer | Opportunity | Visit, *, viewer: User) -> Select:
    """The SELECT of the documents on a record, newest first (the API pages through it)."""
    stmt = _listed(viewer)
    if isinstance(record, Customer):
        return stmt.where(Document.customer_id == record.id)
    if isinstance(record, Opportunity):
        return stmt.where(Document.opportunity_id == record.id)
    return stmt.where(Document.visit_id == record.id)


def documents_on(record: Customer | Opportunity | Visit, *, viewer: User) -> list[Document]:
    """The documents on a customer (all of its own), an opportunity or a visit."""
    return list(db.session.scalars(documents_on_query(record, viewer=viewer)).unique())


def version_of(document: Document, number: int) -> DocumentVersion | None:
    if document.deleted_at is not None:
        return None
    return next((v for v in document.versions if v.number == number), None)


def open_bytes(key: str) -> IO[bytes]:
    """A stream of a stored object (StoreError when the store has lost it)."""
    return current_store().open(key)


def has_document(opportunity: Opportunity, kind_code: str) -> bool:
    """Whether the opportunity has a (not deleted) document of the kind with this code.

    For the stage document rules: moving to the contract stage asks for a "contract".
    """
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Document.opportunity_id == opportunity.id,
                    Document.deleted_at.is_(None),
                    Document.kind_id == DocumentKind.id,
                    DocumentKind.code == kind_code,
                )
            )
        )
    )


def count_for_customers(customer_ids) -> int:
    """Documents (not deleted) on these customers: the handover preview counts them."""
    return (
        db.session.scalar(
            select(func.count(Document.id)).where(
                Document.customer_id.in_(customer_ids), Document.deleted_at.is_(None)
            )
        )
        or 0
    )


def keys_in_use() -> set[str]:
    """Every key a version row names (its bytes or its thumbnail), deleted ones included."""
    rows = db.session.execute(select(DocumentVersion.blob_key, DocumentVersion.thumbnail_key))
    return {key for row in rows for key in (row.blob_key, row.thumbnail_key) if key}
