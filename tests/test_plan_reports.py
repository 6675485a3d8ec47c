"""The plans report: submission on time / late / missing, completion, tasks, ratings per
month, scope, and the CSV that repeats the page's figures."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm.extensions import db
from crm.services.reporting import metrics
from crm.services.reporting import plans as plan_reports
from crm.services.reporting.reports import lines_for
from models import (
    PlanKind,
    PlannedVisit,
    PlanReview,
    PlanStatus,
    PlanTask,
    Rating,
    Verdict,
    WorkPlan,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# November 2026: its weeks begin on 2, 9, 16, 23 and 30 November.
NOVEMBER = metrics.month_of(date(2026, 11, 1), SHANGHAI)
WEEK_16 = date(2026, 11, 16)  # due Friday 13 November 18:00 Shanghai = 10:00 UTC
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # a Wednesday: the week of the 30th is not due


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def plan(owner, starts_on, *, submitted=None, kind=PlanKind.WEEK, status=None, **fields):
    row = WorkPlan(
        owner=owner,
        kind=kind,
        starts_on=starts_on,
        status=status or (PlanStatus.SUBMITTED if submitted else PlanStatus.DRAFT),
        first_submitted_at=submitted,
        submitted_at=submitted,
        **fields,
    )
    db.session.add(row)
    return row


def review(row: WorkPlan, reviewer, rating: Rating | None, verdict=Verdict.REVIEWED):
    db.session.add(
        PlanReview(plan=row, reviewer=reviewer, verdict=verdict, rating=rating, at=utc(11, 20, 2))
    )


@pytest.fixture
def plans(org, make_customer, make_visit):
    m1, m2, m3, sup1 = org["m1"], org["m2"], org["m3"], org["sup1"]
    customer, skipped, other = make_customer(m1), make_customer(m1), make_customer(m1)
    on_time = plan(m1, WEEK_16, submitted=utc(11, 13, 9, 59))  # a minute before the deadline
    # Two planned visits: one carried out on Tuesday, one not; one visit nobody planned.
    on_time.visits = [
        PlannedVisit(customer=customer, day=WEEK_16),
        PlannedVisit(customer=skipped, day=date(2026, 11, 18)),
    ]
    make_visit(customer, occurred_at=utc(11, 17, 2))
    make_visit(other, occurred_at=utc(11, 19, 3))
    make_visit(skipped, occurred_at=utc(11, 22, 17))  # Monday 23rd 01:00 in Shanghai
    on_time.tasks = [
        PlanTask(text="整理投标材料", done=True),
        PlanTask(text="提交报价", done=True),
        PlanTask(text="约见财务", done=False),
    ]
    plan(m2, WEEK_16, submitted=utc(11, 13, 10, 1))  # a minute late
    plan(m1, date(2026, 11, 23))  # a draft, never submitted, deadline passed: missing
    plan(m3, WEEK_16, submitted=utc(11, 10, 1))
    # Ratings: m1 優 for November's week 16 (reviewed), 良 for the monthly plan; a return
    # carries no rating; a plan for October counts in October.
    reviewed = plan(m1, date(2026, 11, 9), submitted=utc(11, 5, 1), status=PlanStatus.REVIEWED)
    review(reviewed, sup1, Rating.EXCELLENT)
    month = plan(
        m1, date(2026, 11, 1), kind=PlanKind.MONTH, submitted=utc(11, 2, 1), goal_visits=20
    )
    review(month, sup1, None, Verdict.RETURNED)
    month.status = PlanStatus.REVIEWED
    review(month, sup1, Rating.GOOD)
    december = plan(
        m1, date(2026, 12, 1), kind=PlanKind.MONTH, submitted=utc(11, 30, 1), goal_visits=9
    )
    december.status = PlanStatus.REVIEWED
    review(december, sup1, Rating.FAIR)
    october = plan(m2, date(2026, 10, 26), submitted=utc(10, 22, 1), status=PlanStatus.REVIEWED)
    review(october, sup1, Rating.POOR)
    db.session.commit()
    return {**org, "plans": {"week_16": on_time}}


def test_weeks_that_begin_in_the_period():
    assert plan_reports.plan_starts(PlanKind.WEEK, NOVEMBER) == [
        date(2026, 11, d) for d in (2, 9, 16, 23, 30)
    ]
    week = metrics.week_of(date(2026, 11, 18), SHANGHAI)
    assert plan_reports.plan_starts(PlanKind.WEEK, week) == [WEEK_16]
    # A week holds no 1st of a month: its month is the one it begins in.
    assert plan_reports.plan_starts(PlanKind.MONTH, week) == [date(2026, 11, 1)]
    quarter = metrics.quarter_of(date(2026, 11, 1), SHANGHAI)
    assert plan_reports.plan_starts(PlanKind.MONTH, quarter) == [
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    ]


def test_submission_on_time_late_missing_and_not_due(plans):
    m1, m2 = plans["m1"], plans["m2"]
    report = plan_reports.plan_report([m1, m2], NOVEMBER, PlanKind.WEEK, now=NOW)
    S = plan_reports.Submission
    by_manager = {row.manager.id: [c.submission for c in row.cells] for row in report.rows}
    # Weeks of 2, 9, 16, 23, 30 November.
    assert by_manager[m1.id] == [S.MISSING, S.ON_TIME, S.ON_TIME, S.MISSING, S.NOT_DUE]
    assert by_manager[m2.id] == [S.MISSING, S.MISSING, S.LATE, S.MISSING, S.NOT_DUE]
    m1_row = report.rows[0]
    assert (m1_row.count(S.ON_TIME), m1_row.count(S.LATE), m1_row.count(S.MISSING)) == (2, 0, 2)


def test_tasks_and_planned_visits_are_counted_per_plan(plans):
    m1 = plans["m1"]
    report = plan_reports.plan_report([m1], NOVEMBER, PlanKind.WEEK, now=NOW)
    row = report.rows[0]
    cell = row.cells[2]
    assert cell.starts_on == WEEK_16
    assert (cell.tasks, cell.tasks_done) == (3, 2)
    assert (cell.planned, cell.done, cell.unplanned, cell.completion) == (2, 1, 1, 50)
    # The week of the 23rd is a draft with nothing planned; the Monday 01:00 visit is its.
    assert (row.cells[3].planned, row.cells[3].unplanned) == (0, 1)
    assert (row.tasks, row.tasks_done, row.planned, row.done, row.unplanned) == (3, 2, 2, 1, 2)
    assert row.completion == 50


def test_monthly_plans(plans):
    m1, m2 = plans["m1"], plans["m2"]
    report = plan_reports.plan_report([m1, m2], NOVEMBER, PlanKind.MONTH, now=NOW)
    assert report.starts == [date(2026, 11, 1)]
    S = plan_reports.Submission
    assert [row.cells[0].submission for row in report.rows] == [S.ON_TIME, S.MISSING]


def test_ratings_per_manager_per_month(plans):
    m1, m2 = plans["m1"], plans["m2"]
    quarter = metrics.quarter_of(date(2026, 11, 1), SHANGHAI)
    ratings = plan_reports.ratings_over_time(lines_for([m1, m2]), quarter)
    assert ratings.months == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    m1_row, m2_row = ratings.rows
    # The week of 9 November (优) and November's monthly plan (良, after a return).
    assert m1_row.months[1] == {Rating.EXCELLENT: 1, Rating.GOOD: 1}
    assert not m1_row.months[0] and m1_row.months[2] == {Rating.FAIR: 1}
    assert m2_row.months[0] == {Rating.POOR: 1}
    assert m1_row.total(Rating.GOOD) == 1 and m1_row.total(Rating.POOR) == 0
    # November alone: the plan for 1 December is not in it.
    (november,) = plan_reports.ratings_over_time(lines_for([m1]), NOVEMBER).rows
    assert november.months == [{Rating.EXCELLENT: 1, Rating.GOOD: 1}]
    # A week's report shows its month only.
    week = metrics.week_of(date(2026, 11, 18), SHANGHAI)
    assert plan_reports.ratings_over_time(lines_for([m2]), week).rows[0].months == [{}]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize(
    ("persona", "seen", "unseen"),
    [
        ("sup1", ("m1", "m2"), ("m3",)),
        ("m1", ("m1",), ("m2", "m3")),
        ("admin", ("m1", "m2"), ("m3", "m4")),  # with a team chosen; else per team (below)
    ],
)
def test_the_page_and_csv_show_the_managers_in_scope(client, login, plans, persona, seen, unseen):
    login(client, plans[persona])
    args = "period=month&on=2026-11-10"
    if persona == "admin":
        args += f"&team={plans['team1'].id}"
    page = client.get(f"/reports/plans?{args}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for name in seen:
        assert f'data-manager="{plans[name].id}"' in body
    for name in unseen:
        assert f'data-manager="{plans[name].id}"' not in body
    assert f'href="/plans/{plans["plans"]["week_16"].id}"' in body  # m1's: in every scope
    rows = _csv(client.get(f"/reports/export.csv?report=plans&{args}"))
    assert {r[0] for r in rows[1:]} == {plans[name].display_name for name in seen}
    assert len(rows) == 1 + 5 * len(seen)


def test_an_admin_sees_each_teams_submissions_until_choosing_a_team(client, login, plans):
    m1, m2, m3 = plans["m1"], plans["m2"], plans["m3"]
    lines = lines_for([m1, m2, m3], by_team=True, teams=[plans["team1"], plans["team2"]])
    report = plan_reports.team_submissions(lines, [m1, m2, m3], NOVEMBER, PlanKind.WEEK, now=NOW)
    by_team = {row.line.id: row for row in report.rows}
    team1, team2 = by_team[plans["team1"].id], by_team[plans["team2"].id]
    # Week of the 16th: m1 on time, m2 a minute late; of the 23rd: m1's draft and m2's
    # nothing are missing; of the 30th: not due yet (the deadline is Friday the 27th).
    week_16 = report.starts.index(WEEK_16)
    S = plan_reports.Submission
    assert team1.cells[week_16] == {S.ON_TIME: 1, S.LATE: 1}
    assert team1.cells[week_16 + 1] == {S.MISSING: 2}
    assert team1.cells[week_16 + 2] == {S.NOT_DUE: 2}
    assert team2.cells[week_16] == {S.ON_TIME: 1}
    # The same as each manager's cells in the per-manager report, summed.
    single = plan_reports.plan_report([m1, m2], NOVEMBER, PlanKind.WEEK, now=NOW)
    for i in range(len(report.starts)):
        assert team1.cells[i] == Counter(row.cells[i].submission for row in single.rows)
    plans["admin"].locale = "en"
    db.session.commit()
    login(client, plans["admin"])
    args = "period=month&on=2026-11-10"
    page = client.get(f"/reports/plans?{args}").get_data(as_text=True)
    assert 'id="lines-per-team"' in page and 'data-manager="' not in page
    assert f'data-team="{plans["team1"].id}"' in page
    assert f"/reports/plans?period=month&amp;on=2026-11-10&amp;team={plans['team1'].id}" in page
    rows = _csv(client.get(f"/reports/export.csv?report=plans&{args}"))
    assert rows[0] == ["Team", "Week", "On time", "Late", "Missing", "Not due yet"]
    assert [plans["team1"].name, "2026-W47", "1", "1", "0", "0"] in rows
    ratings = _csv(client.get(f"/reports/export.csv?report=ratings&{args}"))
    assert ratings[0][0] == "Team"
    assert [plans["team1"].name, "2026-11", "1", "1", "0", "0", "2"] in ratings


def test_csv_repeats_the_figures(client, login, plans):
    plans["sup1"].locale = "en"
    db.session.commit()
    login(client, plans["sup1"])
    rows = _csv(client.get("/reports/export.csv?report=plans&period=week&on=2026-11-18"))
    head, *body = rows
    assert head[:4] == ["Manager", "Week", "Plan status", "Submitted"]
    m1 = next(r for r in body if r[0] == plans["m1"].display_name)
    assert m1[1] == "2026-W47" and m1[3] == "On time"
    assert m1[4:] == ["2", "1", "50", "1", "3", "2"]
    m2 = next(r for r in body if r[0] == plans["m2"].display_name)
    assert m2[3] == "Late"
    ratings = _csv(client.get("/reports/export.csv?report=ratings&period=month&on=2026-11-10"))
    assert ratings[0] == ["Manager", "Month", "Excellent", "Good", "Fair", "Poor", "Total"]
    m1_ratings = next(r for r in ratings[1:] if r[0] == plans["m1"].display_name)
    assert m1_ratings == [plans["m1"].display_name, "2026-11", "1", "1", "0", "0", "2"]


@pytest.mark.parametrize("kind", ["week", "month"])
def test_the_page_takes_a_fixed_number_of_statements(
    client, login, plans, make_user, count_queries, kind
):
    login(client, plans["admin"])
    url = f"/reports/plans?period=quarter&on=2026-11-10&kind={kind}"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for number in range(6):
        make_user(f"extra{number}", team=plans["team1"])
    with count_queries() as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(few) <= 15, "\n\n".join(more)


def test_monthly_goals_beside_the_months_figures(plans, make_customer, make_visit):
    m1 = plans["m1"]
    customer = make_customer(m1)
    for day in (3, 12, 28):
        make_visit(customer, occurred_at=utc(11, day, 3))
    make_visit(customer, occurred_at=utc(11, 30, 17))  # 1 December in Shanghai
    report = plan_reports.plan_report([m1], NOVEMBER, PlanKind.MONTH, now=NOW)
    goals = {g.name: g for g in report.rows[0].cells[0].goals}
    # The fixture logged three more visits of m1 in November (17th, 19th, 22nd 17:00 UTC).
    assert (goals["visits"].goal, goals["visits"].actual) == (20, 6)
    assert goals["new_opportunities"].goal is None
    assert report.rows[0].goal_total("visits") == (20, 6)


def test_monthly_csv(client, login, plans):
    plans["m1"].locale = "en"
    db.session.commit()
    login(client, plans["m1"])
    rows = _csv(client.get("/reports/export.csv?report=plans&kind=month&on=2026-11-10"))
    assert rows[0][4:6] == ["Goal: visits", "Visits"]
    assert rows[1][:6] == [plans["m1"].display_name, "2026-11", "Reviewed", "On time", "20", "3"]
    page = client.get("/reports/plans?kind=month&on=2026-11-10").get_data(as_text=True)
    assert 'data-figure="visits">3/20<' in page
