"""The customer timeline's handover source: who handed the customer to whom, when, and why."""

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
from models import Customer, Handover, HandoverCustomer


@functools.cache
def _handovers(paged: bool) -> Select:
    return (
        select(HandoverCustomer, Handover)
        .join(Handover, Handover.id == HandoverCustomer.handover_id)
        .options(
            joinedload(HandoverCustomer.from_owner),
            joinedload(HandoverCustomer.handover).joinedload(Handover.to_owner),
            joinedload(HandoverCustomer.handover).joinedload(Handover.actor),
        )
        .where(HandoverCustomer.customer_id == CUSTOMER, older_than(Handover.created_at, paged))
        .order_by(Handover.created_at.desc(), Handover.id.desc())
        .limit(LIMIT)
    )


def handover_items(customer: Customer, limit: int, before: datetime | None) -> list[TimelineItem]:
    """The handovers the customer was part of (its ownership history), newest first."""
    rows = db.session.execute(_handovers(before is not None), bound(customer, limit, before))
    items = []
    for row, handover in rows.all():
        title = (
            _l("Handed back (undo of #%(id)d)", id=handover.reverses_id)
            if handover.reverses_id
            else _l("Handed over")
        )
        detail = [(str(_l("Owner")), row.from_owner.display_name, handover.to_owner.display_name)]
        if handover.note:
            detail.append((str(_l("Handover note")), None, handover.note))
        if handover.reason:
            detail.append((str(_l("Reason")), None, handover.reason))
        items.append(
            TimelineItem(
                at=handover.created_at,
                kind="handover",
                actor=handover.actor,
                title=str(title),
                detail=detail,
                link_id=handover.id,
                record=handover,
            )
        )
    return items
