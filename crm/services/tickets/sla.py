"""How long a service ticket may take, by severity, counted in its owner's time zone.

Each severity's hours are a run-time setting. Hours that make whole days (24, 48, 72 …)
are a promise of days: the ticket is due at the end of that many days after the day it was
opened, as the owner's calendar has it (a complaint taken in Shanghai at 23:30 with one
day is due by 23:59 Shanghai time the next day, not at 23:30). Other hours (4, 36 …) count
from the moment it was opened. Reopening a ticket starts its clock again.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_

from crm.i18n import user_zone
from crm.services import settings
from models import ServiceTicket, TicketSeverity, TicketStatus, User
from models.base import utcnow

HOURS_A_DAY = 24
MAX_HOURS = 24 * 90
# The last second of a local day: "by the end of the day" as a stored UTC instant.
END_OF_DAY = time(23, 59, 59)
_AREA = _l("After-sale service")
_HELP = _l(
    "Hours to resolve a ticket of this severity. Whole days (24, 48, 72 …) run to the end "
    "of that day in the owner's time zone; other hours count from opening."
)


def _declare(severity: TicketSeverity, label, default: int) -> settings.Setting:
    return settings.declare(
        settings.Setting(
            f"service.sla_hours.{severity.value}",
            label,
            default,
            settings.whole_number(1, MAX_HOURS),
            help=_HELP,
            area=_AREA,
        )
    )


SLA_HOURS = {
    TicketSeverity.CRITICAL: _declare(TicketSeverity.CRITICAL, _l("Critical: hours to resolve"), 4),
    TicketSeverity.HIGH: _declare(TicketSeverity.HIGH, _l("High: hours to resolve"), 24),
    TicketSeverity.MEDIUM: _declare(TicketSeverity.MEDIUM, _l("Medium: hours to resolve"), 72),
    TicketSeverity.LOW: _declare(TicketSeverity.LOW, _l("Low: hours to resolve"), 168),
}
REVISIT_DAYS = settings.declare(
    settings.Setting(
        "service.revisit_days",
        _l("Revisit a resolved ticket after (days)"),
        1,
        settings.whole_number(0, 30),
        help=_l(
            "When a ticket is resolved, its owner gets a follow-up this many days later "
            "to ask the customer whether they are satisfied (回访)."
        ),
        area=_AREA,
    )
)


def hours_for(severity: TicketSeverity) -> int:
    """The hours a ticket of this severity has, as the administrator set them."""
    return settings.value(SLA_HOURS[severity].key)


def due_at(severity: TicketSeverity, opened_at: datetime, owner: User) -> datetime:
    """When a ticket opened (or reopened) at `opened_at` must be resolved, in UTC."""
    hours = hours_for(severity)
    if hours % HOURS_A_DAY:
        return opened_at + timedelta(hours=hours)
    zone = user_zone(owner)
    last_day = opened_at.astimezone(zone).date() + timedelta(days=hours // HOURS_A_DAY)
    return datetime.combine(last_day, END_OF_DAY, tzinfo=zone).astimezone(UTC)


def sla_table() -> list[tuple[TicketSeverity, int]]:
    """Every severity with its hours, most severe first: what the new-ticket form shows."""
    return [(severity, hours_for(severity)) for severity in TicketSeverity]


# Overdue: not resolved by its due time (a resolved ticket met or missed its SLA for good).
UNRESOLVED = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


def overdue(now: datetime) -> ColumnElement[bool]:
    """SQL: the ticket is unresolved past its due time (ix_service_tickets_status_due_at)."""
    return and_(ServiceTicket.status.in_(UNRESOLVED), ServiceTicket.due_at < now)


def is_overdue(ticket: ServiceTicket, now: datetime | None = None) -> bool:
    return ticket.status in UNRESOLVED and ticket.due_at < (now or utcnow())


def revisit_days() -> int:
    """Days from resolving a ticket to the owner's revisit follow-up."""
    return settings.value(REVISIT_DAYS.key)
