"""The periodic document job: purge deleted documents past retention, remove orphans.

Orphans are objects in the store that no version row names: left by an upload whose
commit failed after its bytes were stored, or by a purge. Only objects older than an
hour are removed, so an upload between storing its bytes and committing its row (or a
second upload of the same bytes) is never robbed of its object.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from crm.extensions import db
from crm.services import settings
from crm.services.documents.library import RETENTION_DAYS, keys_in_use
from crm.services.documents.storage import LocalStore, StoreError, current_store
from models import Document

ORPHAN_AGE = timedelta(hours=1)
JOB_ID = "documents-cleanup"
JOB_MINUTES = 60


def retention_days() -> int:
    return settings.value(RETENTION_DAYS.key)


def purge_deleted(now: datetime) -> int:
    """Delete the rows of documents deleted longer ago than the retention period.

    Their objects become orphans, removed by `remove_orphans` (once no other row uses them).
    """
    cutoff = now - timedelta(days=retention_days())
    ids = list(
        db.session.scalars(
            select(Document.id).where(
                Document.deleted_at.is_not(None), Document.deleted_at < cutoff
            )
        )
    )
    if ids:
        # Versions go with them (ON DELETE CASCADE, and the ORM cascade for loaded rows).
        for document in db.session.scalars(select(Document).where(Document.id.in_(ids))):
            db.session.delete(document)
        db.session.flush()
    return len(ids)


def remove_orphans(now: datetime) -> int:
    """Remove stored objects that no version row names and that are older than an hour."""
    used = keys_in_use()
    store = current_store()
    if isinstance(store, LocalStore):
        store.remove_stale_spools(now - ORPHAN_AGE)
    removed = 0
    for key, written_at in list(store.list_keys()):
        if key in used or now - written_at < ORPHAN_AGE:
            continue
        try:
            store.delete(key)
            removed += 1
        except StoreError as error:
            current_app.logger.warning("orphan %s not removed: %s", key, error)
    return removed
