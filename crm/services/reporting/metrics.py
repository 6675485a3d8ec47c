"""Periods in the viewer's time zone, and the SQL pieces dashboards and reports share.

A period is a run of whole local days [first, last] in one time zone; its bounds
in the database are the UTC instants its first day begins and the day after its
last begins, so a visit at 23:30 Shanghai time on 30 November is in November.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, true

from crm.extensions import db
from crm.i18n import local_midnight_utc, today_in
from models import Opportunity
from models.base import UTCDateTime

KINDS = ("week", "month", "quarter", "custom")
CUSTOM_MAX_DAYS = 366
MANY_OWNERS = 200


def among_owners(column, ids: list[int]) -> ColumnElement[bool]:
    """The owners' rows — or, past a few hundred owners (an admin's every team), no filter.

    A long IN list leads SQLite's planner down the owner index, one seek per owner,
    where the date or status index would read a few thousand rows; the caller keeps
    only its own owners' groups (so nothing outside the view is shown either way).
    """
    return column.in_(ids) if len(ids) <= MANY_OWNERS else true()


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` (inclusive) in `zone`."""

    kind: str
    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight_utc(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight_utc(self.last + timedelta(days=1), self.zone)

    def contains(self, column) -> ColumnElement[bool]:
        """SQL: a UTC timestamp column falls in the period."""
        return and_(column >= self.start, column < self.end)

    @property
    def month_arg(self) -> str:
        return f"{self.first:%Y-%m}"

    def buckets(self) -> list[Period]:
        """The period cut for a chart: days of a week, weeks of a month, months beyond."""
        days = (self.last - self.first).days + 1
        if days <= 7:
            step = "day"
        elif days <= 62:
            step = "week"
        else:
            step = "month"
        out, day = [], self.first
        while day <= self.last:
            if step == "day":
                nxt = day + timedelta(days=1)
            elif step == "week":
                nxt = day + timedelta(days=7 - day.weekday())
            else:
                nxt = _next_month(day)
            out.append(Period(step, day, min(nxt - timedelta(days=1), self.last), self.zone))
            day = nxt
        return out


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def week_of(day: date, zone: ZoneInfo) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6), zone)


def month_of(day: date, zone: ZoneInfo) -> Period:
    first = day.replace(day=1)
    return Period("month", first, _next_month(first) - timedelta(days=1), zone)


def quarter_of(day: date, zone: ZoneInfo) -> Period:
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    after = _next_month(_next_month(_next_month(first)))
    return Period("quarter", first, after - timedelta(days=1), zone)


def last_days(day: date, zone: ZoneInfo, days: int) -> Period:
    return Period("custom", day - timedelta(days=days - 1), day, zone)


def period_from_args(args, zone: ZoneInfo, now: datetime | None = None) -> Period:
    """The period a report asks for (?period=week|month|quarter|custom&from=&to=&on=)."""
    today = today_in(zone, now)
    kind = args.get("period") if args.get("period") in KINDS else "month"
    if kind == "custom":
        first, last = _date(args.get("from")), _date(args.get("to"))
        if first and last and first <= last and (last - first).days < CUSTOM_MAX_DAYS:
            return Period("custom", first, last, zone)
        kind = "month"
    day = _date(args.get("on")) or today
    return {"week": week_of, "month": month_of, "quarter": quarter_of}[kind](day, zone)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# SQL pieces -------------------------------------------------------------------


def amount_sum(condition=None) -> ColumnElement:
    """SUM of opportunity amounts (only where `condition` holds), 0 when none."""
    value = Opportunity.amount if condition is None else case((condition, Opportunity.amount))
    return func.coalesce(func.sum(value), 0)


def weighted_sum(condition=None) -> ColumnElement:
    """SUM(amount × probability) — divide by 100 in Python to keep exact decimals."""
    value = Opportunity.amount * Opportunity.probability
    return func.coalesce(func.sum(value if condition is None else case((condition, value))), 0)


def count_where(condition) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def days_between(earlier, later) -> ColumnElement:
    """SQL: days (fractional) from one UTC timestamp to another, on SQLite or PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def utc_literal(moment: datetime):
    return literal(moment, UTCDateTime())


def bucket_index(column, buckets: list[Period]) -> ColumnElement:
    """SQL CASE: which bucket a timestamp falls in (grouping by local day in any zone)."""
    return case(*((column < b.end, i) for i, b in enumerate(buckets)), else_=len(buckets))


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def weighted(value) -> Decimal:
    return (Decimal(str(value or 0)) / 100).quantize(Decimal("0.01"))


def win_rate(won: int, lost: int) -> Decimal | None:
    """won / (won + lost) as a percentage with one decimal; None when nothing closed."""
    if not won + lost:
        return None
    return (Decimal(won * 100) / (won + lost)).quantize(Decimal("0.1"))
