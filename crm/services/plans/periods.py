"""The weeks and months plans are made for, their URL keys, and when each plan is due.

A week is Monday to Sunday in the manager's time zone and is named by its ISO week
(`2026-W50`); a month by `2026-12`. A plan's period as a `metrics.Period` counts visits
and figures exactly as the home pages count them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from crm.i18n import Zoned, user_zone
from crm.services import settings
from crm.services.reporting import metrics
from models import PlanKind, User, WorkPlan

WEEK_DUE_WEEKDAY = settings.declare(
    settings.Setting(
        "plans.week_due_weekday",
        _l("Weekly plan due on (1 = Monday … 7 = Sunday of the week before)"),
        5,
        settings.whole_number(1, 7),
        area=_l("Work plans"),
    )
)
DUE_TIME = settings.declare(
    settings.Setting(
        "plans.due_time",
        _l("Plans due at (local time, HH:MM)"),
        time(18, 0),
        settings.clock_time,
        help=_l("The monthly plan is due at this time on the month's first working day."),
        area=_l("Work plans"),
    )
)

_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")


def week_key(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(first: date) -> str:
    return f"{first:%Y-%m}"


def key_of(plan: WorkPlan) -> str:
    return week_key(plan.starts_on) if plan.kind is PlanKind.WEEK else month_key(plan.starts_on)


def parse_week(key: str) -> date | None:
    """The Monday of an ISO week key, or None for a key that names no week."""
    found = _WEEK_KEY.match(key)
    if not found:
        return None
    try:
        return date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        return None


def parse_month(key: str) -> date | None:
    found = _MONTH_KEY.match(key)
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        return None
    return date(int(found[1]), int(found[2]), 1)


def starts_on_for(kind: PlanKind, day: date) -> date:
    """The first day of the week or month that holds `day`."""
    if kind is PlanKind.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def following(kind: PlanKind, starts_on: date, steps: int = 1) -> date:
    """The start of the period `steps` after (negative: before) the one starting on starts_on."""
    if kind is PlanKind.WEEK:
        return starts_on + timedelta(days=7 * steps)
    months = starts_on.year * 12 + starts_on.month - 1 + steps
    return date(months // 12, months % 12 + 1, 1)


def period(kind: PlanKind, starts_on: date, owner: User) -> metrics.Period:
    """The plan's days as a Period in its manager's zone (what its actual figures count)."""
    zone = user_zone(owner)
    if kind is PlanKind.WEEK:
        return metrics.week_of(starts_on, zone)
    return metrics.month_of(starts_on, zone)


def period_of(plan: WorkPlan) -> metrics.Period:
    return period(plan.kind, plan.starts_on, plan.owner)


def today_for(user: User, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(user_zone(user)).date()


def first_working_day(first: date) -> date:
    day = first
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def deadline(kind: PlanKind, starts_on: date, owner: Zoned) -> datetime:
    """When the plan is due (UTC): the weekly plan on the set weekday of the week before
    (Friday 18:00 by default), the monthly plan on the month's first working day."""
    due_time = settings.value(DUE_TIME.key)
    if kind is PlanKind.WEEK:
        day = (
            starts_on - timedelta(days=7) + timedelta(days=settings.value(WEEK_DUE_WEEKDAY.key) - 1)
        )
    else:
        day = first_working_day(starts_on)
    return datetime.combine(day, due_time, tzinfo=user_zone(owner)).astimezone(UTC)


def submitted_on_time(plan: WorkPlan) -> bool | None:
    """Whether the plan was first submitted by its deadline; None while never submitted."""
    return submitted_by(plan.first_submitted_at, deadline(plan.kind, plan.starts_on, plan.owner))


def submitted_by(first_submitted_at: datetime | None, due: datetime) -> bool | None:
    """The rule itself, for a caller that knows the deadline (the plans report works out
    one per week and time zone): on time when first submitted by it; None if never."""
    if first_submitted_at is None:
        return None
    return first_submitted_at <= due
