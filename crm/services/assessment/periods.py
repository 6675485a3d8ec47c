"""The periods a manager is assessed for: months (2026-03) and quarters (2026-Q1).

Assessment periods are the organisation's, not a manager's: every manager's month is cut
at midnight in the organisation's time zone (DEFAULT_TIMEZONE), so one team's sheet adds
up figures over the same days. Business figures are monthly: a month holds one month of
them, a quarter three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from crm.services.reporting import metrics
from models import PeriodKind

_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class AssessmentPeriod:
    """A calendar month or quarter, named by its key (2026-03, 2026-Q1)."""

    first: date
    kind: PeriodKind

    @property
    def key(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.first:%Y-%m}"
        return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"

    @property
    def months(self) -> list[date]:
        """The first day of each month in the period."""
        count = 1 if self.kind is PeriodKind.MONTH else 3
        return [add_months(self.first, step) for step in range(count)]

    @property
    def last_month(self) -> date:
        return self.months[-1]

    @property
    def last(self) -> date:
        """The period's last day."""
        return date.fromordinal(add_months(self.last_month, 1).toordinal() - 1)

    @property
    def after(self) -> date:
        """The first day after the period."""
        return add_months(self.last_month, 1)

    def previous(self) -> AssessmentPeriod:
        step = 1 if self.kind is PeriodKind.MONTH else 3
        return AssessmentPeriod(add_months(self.first, -step), self.kind)

    def following(self) -> AssessmentPeriod:
        step = 1 if self.kind is PeriodKind.MONTH else 3
        return AssessmentPeriod(add_months(self.first, step), self.kind)

    def days(self, zone: ZoneInfo | None = None) -> metrics.Period:
        """The period's days in the organisation's zone: what CRM figures are counted over."""
        return metrics.Period(self.kind.value, self.first, self.last, zone or organisation_zone())

    def is_over(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.days().end

    def quarter(self) -> AssessmentPeriod:
        """The quarter that holds this period (itself for a quarter)."""
        return period_for(self.first, PeriodKind.QUARTER)


def add_months(first: date, steps: int) -> date:
    months = first.year * 12 + first.month - 1 + steps
    return date(months // 12, months % 12 + 1, 1)


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def parse(key: str) -> AssessmentPeriod | None:
    """The period a key names, or None for one that names none (2026-13, 2026-Q5, 1999-01)."""
    if found := _MONTH_KEY.match(key):
        kind, month = PeriodKind.MONTH, int(found[2])
        if not 1 <= month <= 12:
            return None
    elif found := _QUARTER_KEY.match(key):
        kind, month = PeriodKind.QUARTER, (int(found[2]) - 1) * 3 + 1
    else:
        return None
    year = int(found[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return AssessmentPeriod(date(year, month, 1), kind)


def period_for(day: date, kind: PeriodKind) -> AssessmentPeriod:
    if kind is PeriodKind.MONTH:
        return AssessmentPeriod(day.replace(day=1), kind)
    return AssessmentPeriod(date(day.year, (day.month - 1) // 3 * 3 + 1, 1), kind)


def today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(organisation_zone()).date()


def current(kind: PeriodKind, now: datetime | None = None) -> AssessmentPeriod:
    return period_for(today(now), kind)


def recent(kind: PeriodKind, count: int, now: datetime | None = None) -> list[AssessmentPeriod]:
    """The current period of the kind and the ones before it, newest first."""
    period = current(kind, now)
    out = [period]
    while len(out) < count:
        period = period.previous()
        out.append(period)
    return out
