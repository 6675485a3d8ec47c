"""Nudges about plans: the manager's daily digest and the supervisor's weekly digest.

Emails go through the outbox to a real SMTP server on loopback. Shanghai is UTC+8:
Friday 27 November 2026 18:00 there is 10:00 UTC, the deadline of week 2026-W49's plan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crm.extensions import db
from crm.scheduler import tick
from crm.services import settings
from crm.services.plans import nudges, periods
from models import PlanKind, PlanStatus, WorkPlan
from tests.smtp import SMTPServer

BASE_URL = "https://crm.example.cn"
W48, W49, W50 = date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)
NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)
W49_DUE = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Friday 18:00 in Shanghai


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), "BASE_URL": BASE_URL}


@pytest.fixture
def team(org):
    """Everyone reads English in Shanghai; only m1's digests and sup1's are switched on."""
    for name, user in org.items():
        if not hasattr(user, "email_daily_digest"):
            continue
        user.locale, user.timezone = "en", "Asia/Shanghai"
        user.email_reminders = False
        user.email_daily_digest = name == "m1"
        user.email_weekly_digest = name == "sup1"
        user.created_at = datetime(2026, 1, 5, tzinfo=UTC)  # here long before these weeks
    db.session.commit()
    return org


def plan(owner, kind, starts_on, status=PlanStatus.SUBMITTED, submitted=None) -> WorkPlan:
    handed_in = status is not PlanStatus.DRAFT
    at = submitted or (datetime.combine(starts_on, datetime.min.time(), UTC) - timedelta(days=4))
    row = WorkPlan(
        owner=owner,
        kind=kind,
        starts_on=starts_on,
        status=status,
        first_submitted_at=at if handed_in else None,
        submitted_at=at if handed_in else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def digest_on(smtp, now: datetime) -> str | None:
    """Run the tick at `now`; the plain body of the daily digest it sent (None if none)."""
    before = len(smtp.of_kind("daily:"))
    tick(now)
    db.session.expire_all()
    sent = smtp.of_kind("daily:")[before:]
    assert len(sent) <= 1
    return sent[0].get_body(("plain",)).get_content() if sent else None


def test_next_weeks_plan_from_its_deadline_day_then_overdue_once_a_digest(smtp, team):
    m1 = team["m1"]
    plan(m1, PlanKind.WEEK, W48)
    plan(m1, PlanKind.MONTH, NOVEMBER)

    # Thursday: nothing is due yet, and a digest with nothing to say is not sent.
    assert digest_on(smtp, shanghai(date(2026, 11, 26), 8)) is None
    # Friday 08:00: due today at 18:00. Nothing else to say, and the digest is sent.
    friday = digest_on(smtp, shanghai(date(2026, 11, 27), 8))
    assert "Weekly plan 2026-W49: due today at 18:00" in friday
    assert f"{BASE_URL}/plans/week/2026-W49" in friday
    assert friday.count("Weekly plan") == 1
    assert digest_on(smtp, shanghai(date(2026, 11, 27), 9)) is None  # one digest a day
    # Saturday: overdue, still once.
    saturday = digest_on(smtp, shanghai(date(2026, 11, 28), 8))
    assert "Weekly plan 2026-W49: overdue, it was due 2026-11-27 18:00" in saturday
    assert saturday.count("2026-W49:") == 1
    html = smtp.of_kind("daily:")[-1].get_body(("html",)).get_content()
    assert html.count('data-plan="2026-W49"') == 1
    # Submitted on Sunday: Monday's digest has nothing to say.
    plan(m1, PlanKind.WEEK, W49, submitted=shanghai(date(2026, 11, 29), 20))
    assert digest_on(smtp, shanghai(date(2026, 11, 30), 8)) is None


def test_the_monthly_plan_from_the_months_first_working_day(smtp, team):
    m1 = team["m1"]
    plan(m1, PlanKind.WEEK, W49)
    plan(m1, PlanKind.MONTH, NOVEMBER)
    plan(m1, PlanKind.WEEK, W50)
    # Monday 30 November: December's plan is not owed yet.
    assert digest_on(smtp, shanghai(date(2026, 11, 30), 8)) is None
    # Tuesday 1 December, the month's first working day: due today.
    body = digest_on(smtp, shanghai(date(2026, 12, 1), 8))
    assert "Monthly plan 2026-12: due today at 18:00" in body
    assert f"{BASE_URL}/plans/month/2026-12" in body
    body = digest_on(smtp, shanghai(date(2026, 12, 2), 8))
    assert "Monthly plan 2026-12: overdue, it was due 2026-12-01 18:00" in body


def test_a_month_starting_on_a_weekend_is_owed_from_its_monday(app, team):
    m1 = team["m1"]  # 1 August 2026 is a Saturday
    saturday = shanghai(date(2026, 8, 1), 9)
    assert PlanKind.MONTH not in {o.kind for o in nudges.owed(m1, saturday)}
    monday = [o for o in nudges.owed(m1, shanghai(date(2026, 8, 3), 9)) if o.kind is PlanKind.MONTH]
    assert monday == [nudges.Owed(PlanKind.MONTH, date(2026, 8, 1), shanghai(date(2026, 8, 3), 18))]


def test_a_draft_is_missing_and_a_returned_plan_waits_for_revision(smtp, team):
    m1 = team["m1"]
    plan(m1, PlanKind.WEEK, W48)
    plan(m1, PlanKind.WEEK, W49, status=PlanStatus.DRAFT)
    plan(m1, PlanKind.MONTH, NOVEMBER, status=PlanStatus.RETURNED)
    body = digest_on(smtp, shanghai(date(2026, 11, 28), 8))
    assert "Weekly plan 2026-W49: overdue" in body  # a draft is not handed in
    assert "Monthly plan 2026-11: returned for revision; submit it again" in body
    assert body.count("Monthly plan 2026-11") == 1  # returned, not missing as well
    assert f"{BASE_URL}/plans/month/2026-11" in body


def test_the_deadline_is_the_managers_own_local_time(app, team):
    shanghai_m, new_york_m = team["m1"], team["m2"]
    new_york_m.timezone = "America/New_York"
    db.session.commit()
    # Friday 04:30 UTC: Friday 12:30 in Shanghai, still Thursday 23:30 in New York.
    now = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
    owed = nudges.standing([shanghai_m, new_york_m], now)
    assert [(m.key, m.overdue) for m in owed[shanghai_m.id].missing if m.key == "2026-W49"] == [
        ("2026-W49", False)
    ]
    assert "2026-W49" not in {m.key for m in owed[new_york_m.id].missing}
    # 18:00 in Shanghai is on time to the minute; a minute later it is overdue.
    for at, overdue in ((W49_DUE, False), (W49_DUE + timedelta(minutes=1), True)):
        line = nudges.standing([shanghai_m], at)[shanghai_m.id]
        assert [m.overdue for m in line.missing if m.key == "2026-W49"] == [overdue]
    # New York's Friday 18:00 comes 13 hours after Shanghai's.
    ny_due = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    line = nudges.standing([new_york_m], ny_due + timedelta(minutes=1))[new_york_m.id]
    assert [m.overdue for m in line.missing if m.key == "2026-W49"] == [True]
    assert [
        m.overdue
        for m in nudges.standing([new_york_m], ny_due)[new_york_m.id].missing
        if m.key == "2026-W49"
    ] == [False]


def test_the_admins_due_day_and_time_are_followed(smtp, team):
    m1 = team["m1"]
    plan(m1, PlanKind.WEEK, W48)
    plan(m1, PlanKind.MONTH, NOVEMBER)
    settings.change(periods.WEEK_DUE_WEEKDAY.key, "3", actor=team["admin"])  # Wednesday
    settings.change(periods.DUE_TIME.key, "12:00", actor=team["admin"])
    db.session.commit()
    body = digest_on(smtp, shanghai(date(2026, 11, 25), 8))
    assert "Weekly plan 2026-W49: due today at 12:00" in body


def test_no_nudge_for_a_period_due_before_the_manager_joined(app, team):
    m1 = team["m1"]
    m1.created_at = W49_DUE + timedelta(hours=1)  # joined on Friday evening
    assert "2026-W49" not in {
        m.key for m in nudges.standing([m1], W49_DUE + timedelta(days=1))[m1.id].missing
    }
    assert nudges.owed(team["sup1"], W49_DUE + timedelta(days=1)) == []  # supervisors owe none


def test_the_supervisors_weekly_digest_lists_each_plan_once(smtp, team):
    m1, m2, m3 = team["m1"], team["m2"], team["m3"]
    plan(m1, PlanKind.WEEK, W48, status=PlanStatus.REVIEWED)
    plan(m1, PlanKind.WEEK, W49)  # submitted: awaiting review
    plan(m1, PlanKind.MONTH, NOVEMBER, status=PlanStatus.RETURNED)
    plan(m2, PlanKind.WEEK, W48, status=PlanStatus.REVIEWED)
    plan(m2, PlanKind.WEEK, W49, status=PlanStatus.DRAFT)  # missing: a draft
    plan(m3, PlanKind.WEEK, W49)  # another team's
    tick(shanghai(W49, 8))  # Monday 08:00: the weekly digest
    tick(shanghai(W49, 9))
    mails = smtp.of_kind("weekly:")
    assert [m["To"] for m in mails] == [team["sup1"].email]
    body = mails[0].get_body(("plain",)).get_content()
    missing = body.split("Plans missing (past their deadline) (2):\n")[1].split("\n\n")[0]
    assert "- M2: Weekly plan 2026-W49, Monthly plan 2026-11" in missing
    assert "M1" not in missing  # m1 handed in W49; November came back for revision
    assert "Returned for revision, not submitted again (1):\n- M1: Monthly plan 2026-11" in body
    assert "Plans awaiting your review (1):\n- M1: Weekly plan 2026-W49" in body
    assert body.count("Weekly plan 2026-W49") == 2  # m1's awaiting, m2's missing
    assert "M3" not in body
    assert f"{BASE_URL}/plans/reviews" in body
    html = mails[0].get_body(("html",)).get_content()
    assert f'<li data-manager="{m2.id}">M2: Weekly plan 2026-W49, Monthly plan 2026-11</li>' in html
    assert f'href="{BASE_URL}/plans/reviews"' in html


def test_the_deadline_day_is_the_managers_local_day(smtp, team):
    # 06:00 on Friday in Shanghai is still Thursday 22:00 in UTC: Thursday owes nothing yet.
    m1 = team["m1"]
    plan(m1, PlanKind.WEEK, W48)
    plan(m1, PlanKind.MONTH, NOVEMBER)
    settings.change(periods.DUE_TIME.key, "06:00", actor=team["admin"])
    db.session.commit()
    assert digest_on(smtp, shanghai(date(2026, 11, 26), 23)) is None
    body = digest_on(smtp, shanghai(date(2026, 11, 27), 8))
    assert "Weekly plan 2026-W49: overdue, it was due 2026-11-27 06:00" in body
