"""The work log (工作日志): a week of visits per person, in the viewer's time zone.

Managers see their own visits, supervisors their team's, admins everyone's; a visit
of a customer outside the viewer's scope is never shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, literal, select, union_all
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from crm.extensions import db
from crm.i18n import local_midnight_utc, today_in
from crm.permissions import owner_scope, within_customer_scope
from crm.services.activity.visits import visible_visits
from models import Contact, Customer, Opportunity, User, Visit


def week_monday(text: str | None, zone: ZoneInfo, now: datetime | None = None) -> date:
    """The Monday of an ISO week like "2026-W47"; this week (in `zone`) when absent or bad."""
    if text:
        try:
            year, week = text.upper().split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            pass
    today = today_in(zone, now)
    return today - timedelta(days=today.weekday())


MAX_RANGE_DAYS = 62  # a month, with room; longer spans belong on the reports page


def date_range(first: str | None, last: str | None) -> tuple[date, int] | None:
    """A chosen range ?from=&to= (local days, inclusive) as (first day, number of days)."""
    try:
        start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        return None
    days = (end - start).days + 1
    return (start, days) if 1 <= days <= MAX_RANGE_DAYS else None


def iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _work_log_filter(
    viewer: User,
    *,
    monday: date,
    zone: ZoneInfo,
    member_id: int | None,
    team_id: int | None,
    days: int = 7,
) -> list[ColumnElement[bool]]:
    """Conditions for the viewer's work log of `days` local days from `monday` (a week,
    or a chosen range such as a month); the customer join is in scope."""
    start = local_midnight_utc(monday, zone)
    end = local_midnight_utc(monday + timedelta(days=days), zone)
    conditions = [
        Visit.occurred_at >= start,
        Visit.occurred_at < end,
        # Managers see their own visits; supervisors their team's; admins everyone's.
        owner_scope(viewer, Visit.user_id),
    ]
    if member_id:
        conditions.append(Visit.user_id == member_id)
    if team_id:
        conditions.append(Visit.user_id.in_(select(User.id).where(User.team_id == team_id)))
    return conditions


def work_log_visits(
    viewer: User,
    *,
    monday: date,
    zone: ZoneInfo,
    member_id: int | None = None,
    team_id: int | None = None,
    days: int = 7,
    with_names: bool = True,
) -> Select:
    """SELECT of one week's visits in the viewer's work log, newest first, rows eager-loaded.

    `with_names`: the names a work-log line shows (person, opportunity, contacts); the API
    shows their ids, and loading the names cost as much as its visits.
    """
    conditions = _work_log_filter(
        viewer, monday=monday, zone=zone, member_id=member_id, team_id=team_id, days=days
    )
    # Only what a work-log line shows of them: whole customer rows cost more to load than
    # the visits themselves. The site places the check-in badge.
    options = [
        contains_eager(Visit.customer).load_only(
            Customer.name, Customer.owner_id, Customer.site_lat, Customer.site_lng
        )
    ]
    if with_names:
        options += [
            joinedload(Visit.user).load_only(User.display_name),
            joinedload(Visit.opportunity).load_only(Opportunity.title),
            selectinload(Visit.contacts).load_only(Contact.name),
        ]
    else:
        options.append(selectinload(Visit.contacts).load_only(Contact.id))
    return (
        visible_visits(viewer)
        .where(*conditions)
        .options(*options)
        .order_by(Visit.occurred_at.desc(), Visit.id.desc())
    )


@dataclass
class WeekTotals:
    """Visits per local day and per person in one week."""

    days: list[date]
    by_day: Counter[date] = field(default_factory=Counter)
    by_user: Counter[int] = field(default_factory=Counter)
    # Counted per team instead of per person (an admin's whole organisation); None: no team.
    by_team: Counter[int | None] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_day.values())


def work_log_totals(
    viewer: User,
    *,
    monday: date,
    zone: ZoneInfo,
    member_id: int | None = None,
    team_id: int | None = None,
    days: int = 7,
    per_team: bool = False,
) -> WeekTotals:
    """Count the week's visits per local day and per person (one statement).

    Counted by the database, grouped by person and by local day (the day's number from the
    instants its midnights fall on in `zone`): an admin's week is 20,000 visits, which cost
    150 ms to read back and sort into days one by one. `per_team`: per team rather than per
    person (an organisation's thousand people are no figure to read).
    """
    conditions = _work_log_filter(
        viewer, monday=monday, zone=zone, member_id=member_id, team_id=team_id, days=days
    )
    midnights = [local_midnight_utc(monday + timedelta(days=i), zone) for i in range(1, days)]
    day = (
        case(
            *((Visit.occurred_at < midnight, number) for number, midnight in enumerate(midnights)),
            else_=days - 1,
        )
        if midnights
        else literal(0)  # a range of one day
    )

    def counted(kind: str, key: ColumnElement) -> Select:
        stmt = select(literal(kind).label("kind"), key.label("key"), func.count().label("visits"))
        stmt = stmt.select_from(Visit)
        if kind == "team":
            stmt = stmt.join(User, User.id == Visit.user_id)
        return within_customer_scope(stmt, viewer, Visit.customer).where(*conditions).group_by(key)

    people = counted("team", User.team_id) if per_team else counted("user", Visit.user_id)
    rows = db.session.execute(union_all(people, counted("day", day)))
    totals = WeekTotals(days=[monday + timedelta(days=i) for i in range(days)])
    for kind, key, visits in rows:
        if kind == "user":
            totals.by_user[key] = visits
        elif kind == "team":
            totals.by_team[key] = visits
        else:
            totals.by_day[monday + timedelta(days=key)] = visits
    return totals
