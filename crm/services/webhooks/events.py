"""The events, one function each, called by the services where the change happens.

Each is one line in its service (after the change is flushed, before the caller
commits) and costs one small query when nobody subscribes: the event's data is built
only for a subscriber. What each event's "data" holds is in the README (Webhooks).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crm.extensions import db
from crm.services.webhooks import payloads
from crm.services.webhooks.outgoing import emit, emit_each
from models import (
    Customer,
    Handover,
    Opportunity,
    Reminder,
    Stage,
    User,
    WebhookEvent,
)


def customer_created(customer: Customer, *, actor: User | None) -> int:
    return emit(WebhookEvent.CUSTOMER_CREATED, lambda: _created(customer, actor))


def customers_created(written: Sequence[Mapping[str, Any]], *, actor: User | None) -> int:
    """`customer.created` for each customer an import wrote (with set-based SQL: no rows in
    the session), in the file's order. The data is the written values themselves (id, name,
    tier, status, owner_id), the same as `_created`'s: reading 100,000 customers back to say
    what was just written took a tenth of an import on PostgreSQL."""
    return emit_each(WebhookEvent.CUSTOMER_CREATED, _created_each(written, actor))


def _created_each(
    written: Sequence[Mapping[str, Any]], actor: User | None
) -> Iterator[tuple[dict[str, Any], None]]:
    # A generator: emit_each reads it (and so the owners) only for a subscriber.
    actor_data = payloads.user_data(actor)
    owners = {
        user.id: payloads.user_data(user)
        for user in db.session.scalars(
            select(User).where(User.id.in_({values["owner_id"] for values in written}))
        )
    }
    url_pattern = payloads.customer_url_pattern()  # one route lookup for 100,000 links
    for values in written:
        customer = payloads.customer_values(
            values["id"],
            values["name"],
            values["tier"],
            values["status"],
            owners.get(values["owner_id"]),
            url_pattern,
        )
        yield {"customer": customer, "actor": actor_data}, None


def _created(customer: Customer, actor: User | None) -> dict[str, Any]:
    return {"customer": payloads.customer_data(customer), "actor": payloads.user_data(actor)}


def customers_handed_over(handover: Handover) -> int:
    """One event per handover (or undo), listing its customers: not one per customer."""
    return emit(
        WebhookEvent.CUSTOMER_HANDED_OVER,
        lambda: payloads.handover_data(handover),
        key=f"handover:{handover.id}",
    )


def opportunity_stage_changed(
    opportunity: Opportunity, from_stage_id: int | None, *, actor: User | None, at: datetime
) -> int:
    return emit(
        WebhookEvent.OPPORTUNITY_STAGE_CHANGED,
        lambda: {
            "opportunity": payloads.opportunity_data(opportunity),
            "from_stage": payloads.stage_data(db.session.get(Stage, from_stage_id or 0)),
            "to_stage": payloads.stage_data(opportunity.stage),
            "actor": payloads.user_data(actor),
        },
        occurred_at=at,
    )


def opportunity_won(opportunity: Opportunity, *, actor: User | None, at: datetime) -> int:
    return emit(
        WebhookEvent.OPPORTUNITY_WON,
        lambda: {
            "opportunity": payloads.opportunity_data(opportunity),
            "contract_date": opportunity.contract_date,
            "actor": payloads.user_data(actor),
        },
        occurred_at=at,
    )


def opportunity_lost(opportunity: Opportunity, *, actor: User | None, at: datetime) -> int:
    def data() -> dict[str, Any]:
        competitor = opportunity.lost_to
        return {
            "opportunity": payloads.opportunity_data(opportunity),
            "reason": opportunity.lost_reason,
            "competitor": (
                {"id": competitor.id, "name": competitor.name} if competitor is not None else None
            ),
            "actor": payloads.user_data(actor),
        }

    return emit(WebhookEvent.OPPORTUNITY_LOST, data, occurred_at=at)


def follow_ups_overdue(reminders: Iterable[Reminder]) -> int:
    """Each follow-up once per due day: the key is the fact, so a second scan writes nothing."""
    return emit_each(
        WebhookEvent.FOLLOW_UP_OVERDUE,
        (
            (
                lambda reminder=reminder: {"follow_up": payloads.follow_up_data(reminder)},
                f"reminder:{reminder.id}:{reminder.due_on.isoformat()}",
            )
            for reminder in reminders
        ),
    )


def customer_entered_at_risk(
    customer: Customer, *, reasons: Iterable[str] = (), key: str | None = None, **extra: Any
) -> int:
    """For the customer-health checks: the customer, the reasons in words, and what else they add.

    `key`: the fact (e.g. f"{customer.id}:{day}"), so a check run twice reports it once.
    """
    return emit(
        WebhookEvent.CUSTOMER_AT_RISK,
        lambda: {"customer": payloads.customer_data(customer), "reasons": list(reasons), **extra},
        key=key,
    )
