"""The customer timeline's document source: each uploaded version, who and when."""

from __future__ import annotations

import functools
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.services.activity.timeline_item import (
    CUSTOMER,
    LIMIT,
    TimelineItem,
    bound,
    older_than,
)
from models import Customer, Document, DocumentVersion


@functools.cache
def _versions(paged: bool) -> Select:
    return (
        select(DocumentVersion)
        .join(Document, Document.id == DocumentVersion.document_id)
        .options(
            joinedload(DocumentVersion.uploaded_by),
            joinedload(DocumentVersion.document).joinedload(Document.kind),
        )
        .where(
            Document.customer_id == CUSTOMER,
            Document.deleted_at.is_(None),
            older_than(DocumentVersion.uploaded_at, paged),
        )
        .order_by(DocumentVersion.uploaded_at.desc(), DocumentVersion.id.desc())
        .limit(LIMIT)
    )


def document_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """Uploads to the customer's documents (first versions and new ones), newest first.

    Deleted documents drop out of the timeline with the document.
    """
    versions = db.session.scalars(_versions(before is not None), bound(customer, limit, before))
    items = []
    for version in versions:
        document = version.document
        title = (
            _l("Document uploaded: %(title)s", title=document.title)
            if version.number == 1
            else _l("New version %(n)d: %(title)s", n=version.number, title=document.title)
        )
        items.append(
            TimelineItem(
                at=version.uploaded_at,
                kind="document",
                actor=version.uploaded_by,
                title=str(title),
                detail=[(str(_l("File")), None, version.filename)],
                link_id=document.id,
                record=version,
            )
        )
    return items
