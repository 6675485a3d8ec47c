"""Telling people a customer has entered "at risk": an email each, once per entry.

The owner is told of every customer; the owner's supervisor too for the key accounts
(A+ and A). The outbox key carries the moment the customer entered (at_risk_since),
so a pass that runs again writes nothing new, a customer staying at risk sends nothing
more, and one that leaves and comes back is told of again. The webhook event
"customer entered at risk" goes out under the same fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from crm import emails
from crm.extensions import db
from crm.services.followups import outbox
from crm.services.health import explain
from crm.services.webhooks import events as webhook_events
from crm.services.webhooks import outgoing as webhooks
from models import Customer, CustomerHealth, MessageKind, Team, Tier, User, WebhookEvent

KEY_ACCOUNTS = (Tier.A_PLUS, Tier.A)
CHUNK = 500


def entry_key(customer_id: int, since: datetime) -> str:
    """The fact of one entry into "at risk"; the outbox key adds the recipient."""
    return f"at_risk:{customer_id}:{since:%Y%m%dT%H%M%S}"


def recipients(customer: Customer) -> list[tuple[User, bool]]:
    """(user, is the supervisor's copy): the owner; and their supervisor for key accounts."""
    owner = customer.owner
    found = [(owner, False)]
    supervisor = owner.team.supervisor if owner.team is not None else None
    if customer.tier in KEY_ACCOUNTS and supervisor is not None and supervisor.id != owner.id:
        found.append((supervisor, True))
    return found


@dataclass(frozen=True)
class Told:
    """A reason as an email gives it: its words and an absolute link to its records."""

    reason: explain.Reason
    link: str | None


def tell_entered(customer_ids: Iterable[int]) -> int:
    """Write the emails (and webhook events) for customers that just entered "at risk".

    Returns how many emails were written. Reads the customers in chunks: after a big
    import hundreds may enter at once. A customer's reasons are worded once per language.
    """
    ids = list(customer_ids)
    hooked = bool(webhooks.listeners(WebhookEvent.CUSTOMER_AT_RISK))
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = db.session.execute(
            select(Customer, CustomerHealth)
            .join(CustomerHealth, CustomerHealth.customer_id == Customer.id)
            .where(Customer.id.in_(chunk), CustomerHealth.at_risk_since.is_not(None))
            .options(joinedload(Customer.owner).joinedload(User.team).joinedload(Team.supervisor))
        ).all()
        messages = []
        for customer, health in rows:
            key = entry_key(customer.id, health.at_risk_since)
            worded: dict[str, list[Told]] = {}
            for recipient, as_supervisor in recipients(customer):
                if not (recipient.active and recipient.email):
                    continue
                if recipient.locale not in worded:
                    worded[recipient.locale] = _worded(health, recipient.locale)
                told = worded[recipient.locale]
                messages.append(_message(customer, health, recipient, as_supervisor, key, told))
            if hooked:
                # In the organisation's default language: a chat group reads the words.
                webhook_events.customer_entered_at_risk(
                    customer,
                    reasons=[r.text for r in explain.reasons(health.factors, customer.id)],
                    key=key,
                    signals=[factor["signal"] for factor in health.factors],
                    score=health.score,
                    at_risk_since=health.at_risk_since,
                )
        written += outbox.enqueue(messages)
    return written


def _worded(health: CustomerHealth, locale: str) -> list[Told]:
    with force_locale(locale):
        return [
            Told(reason, _evidence_link(reason))
            for reason in explain.reasons(health.factors, health.customer_id)
        ]


def _message(
    customer: Customer,
    health: CustomerHealth,
    recipient: User,
    as_supervisor: bool,
    key: str,
    told: list[Told],
) -> dict:
    subject, text, html = emails.render(
        "health_at_risk",
        recipient,
        customer=customer,
        health=health,
        as_supervisor=as_supervisor,
        reasons=told,
        customer_link=emails.external_url("customers.show", customer_id=customer.id),
    )
    return outbox.message_row(
        key=f"{key}:{recipient.id}",
        kind=MessageKind.HEALTH_AT_RISK,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
    )


def _evidence_link(reason: explain.Reason) -> str | None:
    """An absolute link to the records behind a reason, if that page exists."""
    if reason.evidence is None:
        return None
    endpoint, values = reason.evidence
    try:
        return emails.external_url(endpoint, **values)
    except BuildError:  # a part of the app this installation does not have
        return None
