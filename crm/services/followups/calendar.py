"""The personal calendar feed (.ics): a secret, revocable URL with a user's pending follow-ups.

The secret is a random token in the URL. Only its SHA-256 is stored (in
User.calendar_token): the feed shows customer names and notes, and a copy of the
database, a backup or a glance at the users table must not hand out working feed
URLs. So the URL is shown once, when it is made; who loses it makes a new one
(which also retires the old). Finding the user by the hash is an indexed equality
lookup, so response times reveal nothing about the token.

The iCalendar text (RFC 5545) is written here: it is small, and the rules that
trip clients up (CRLF, folding at 75 octets, escaping) are easier to test than
another dependency.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.emails import external_url
from crm.extensions import db
from crm.permissions import customer_scope
from crm.services.errors import NotAllowed
from models import Reminder, ReminderStatus, User
from models.base import utcnow

TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so the feed needs no sign-in
MAX_TOKEN_LENGTH = 100
FEED_LIMIT = 1000
EVENT_MINUTES = 30
LINE_OCTETS = 75


def _digest(token: str) -> str:
    return sha256(token.encode()).hexdigest()


def make_calendar_token(user: User, *, actor: User) -> str:
    """A new secret for the user's feed (the old URL stops working); returns the token."""
    if actor.id != user.id:
        raise NotAllowed(_l("Only you can make the link to your own calendar."))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user.calendar_token = _digest(token)
    db.session.flush()
    return token


def revoke_calendar_token(user: User, *, actor: User) -> None:
    """Switch the feed off: its URL answers 404 from now on."""
    if actor.id != user.id:
        raise NotAllowed(_l("Only you can switch off your own calendar link."))
    user.calendar_token = None
    db.session.flush()


def user_by_calendar_token(token: str | None) -> User | None:
    """The active user whose feed this token opens, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(User).where(User.calendar_token == _digest(token), User.active.is_(True))
    )


def feed_reminders(user: User) -> list[Reminder]:
    """The user's own pending follow-ups on customers still in their portfolio."""
    return list(
        db.session.scalars(
            select(Reminder)
            .join(Reminder.customer)
            .options(joinedload(Reminder.customer))
            .where(
                Reminder.owner_id == user.id,
                Reminder.status == ReminderStatus.PENDING,
                customer_scope(user),
            )
            .order_by(Reminder.due_at, Reminder.id)
            .limit(FEED_LIMIT)
        )
    )


# iCalendar ---------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for plain, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        value = value.replace(plain, escaped)
    return value


def fold(line: str) -> str:
    """Split a content line into CRLF-joined lines of at most 75 octets, never inside a character.

    Continuation lines start with one space, which counts towards their 75.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > LINE_OCTETS:
            parts.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n".join(parts)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(reminder: Reminder, *, host: str, now: datetime) -> list[str]:
    link = external_url("reminders.show", reminder_id=reminder.id)
    description = "\n".join(filter(None, [reminder.note, link]))
    lines = [
        "BEGIN:VEVENT",
        f"UID:reminder-{reminder.id}@{host}",
        f"DTSTAMP:{_utc(now)}",
    ]
    if reminder.has_time:
        lines += [
            f"DTSTART:{_utc(reminder.due_at)}",
            f"DTEND:{_utc(reminder.due_at + timedelta(minutes=EVENT_MINUTES))}",
        ]
    else:
        day = reminder.due_on
        lines += [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        ]
    lines += [
        "SUMMARY:" + escape_text(_("Follow-up: %(customer)s", customer=reminder.customer.name)),
        "DESCRIPTION:" + escape_text(description),
        "URL:" + link,
        f"SEQUENCE:{max(reminder.version - 1, 0)}",
        f"LAST-MODIFIED:{_utc(reminder.updated_at or now)}",
        "TRANSP:TRANSPARENT",  # a reminder does not make the owner busy
        "END:VEVENT",
    ]
    return lines


def render_feed(user: User, reminders: Iterable[Reminder], now: datetime | None = None) -> str:
    """The VCALENDAR text of the feed, in the user's language, with CRLF line ends."""
    now = now or utcnow()
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    with force_locale(user.locale):
        name = _("Follow-ups of %(name)s", name=user.display_name)
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Key-account CRM//Follow-ups//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:" + escape_text(name),
            "X-WR-TIMEZONE:" + user.timezone,
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H",
        ]
        for reminder in reminders:
            lines += _event(reminder, host=host, now=now)
        lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
