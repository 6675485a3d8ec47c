"""Reports: periods in the user's zone, each report's figures, CSV exports, targets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import NotAllowed
from crm.services.reporting import metrics, reports
from crm.services.reporting.targets import set_target
from models import CustomerStatus, Target, Tier
from tests.test_dashboards import dataset_fixture, histories_fixture, utc  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = metrics.month_of(date(2026, 10, 15), SHANGHAI)
NOVEMBER = metrics.month_of(date(2026, 11, 15), SHANGHAI)


@pytest.mark.parametrize(
    ("args", "first", "last"),
    [
        ({"period": "week", "on": "2026-11-20"}, date(2026, 11, 16), date(2026, 11, 22)),
        ({"period": "month", "on": "2026-02-10"}, date(2026, 2, 1), date(2026, 2, 28)),
        ({"period": "quarter", "on": "2026-11-20"}, date(2026, 10, 1), date(2026, 12, 31)),
        (
            {"period": "custom", "from": "2026-03-05", "to": "2026-04-01"},
            date(2026, 3, 5),
            date(2026, 4, 1),
        ),
        # A reversed custom range falls back to the month of `on`.
        (
            {"period": "custom", "from": "2026-04-01", "to": "2026-03-05", "on": "2026-07-02"},
            date(2026, 7, 1),
            date(2026, 7, 31),
        ),
        ({"period": "bogus", "on": "not a date"}, None, None),
    ],
)
def test_periods(args, first, last):
    period = metrics.period_from_args(args, SHANGHAI)
    if first is None:
        assert period.kind == "month"
        return
    assert (period.first, period.last) == (first, last)


def test_period_bounds_are_local_midnights():
    assert NOVEMBER.start == utc(10, 31, 16)  # 00:00 on 1 November in Shanghai
    assert NOVEMBER.end.day == 30 and NOVEMBER.end.hour == 16
    weeks = NOVEMBER.buckets()
    assert (weeks[0].first, weeks[0].last) == (date(2026, 11, 1), date(2026, 11, 1))  # a Sunday
    assert (weeks[-1].first, weeks[-1].last) == (date(2026, 11, 30), date(2026, 11, 30))
    assert [b.first.month for b in metrics.quarter_of(date(2026, 11, 1), SHANGHAI).buckets()] == [
        10,
        11,
        12,
    ]


def test_visit_at_2330_on_the_last_day_belongs_to_that_month(org, dataset):
    m1 = org["m1"]
    lines = reports.lines_for([m1])
    line = lines.of_manager[m1.id]
    october = reports.visits_over_time(lines, OCTOBER)
    assert october.line_total(line) == 1  # 23:30 on 31 October in Shanghai
    assert october.get(line, len(october.buckets) - 1) == 1  # in the last week of October
    november = reports.visits_over_time(lines, NOVEMBER)
    assert november.line_total(line) == 3
    assert november.get(line, 0) == 1  # 00:30 on 1 November


def test_won_over_time(org, dataset):
    m1, m3 = org["m1"], org["m3"]
    quarter = metrics.quarter_of(date(2026, 11, 1), SHANGHAI)
    lines = reports.lines_for([m1, m3])
    won = reports.won_over_time(lines, quarter)
    line = lines.of_manager[m1.id]
    assert [won.get(line, i) for i in range(3)] == [Decimal("300.00"), Decimal("2000.00"), 0]
    assert won.bucket_total(1) == Decimal("7000.00")


def test_pipeline_movement_and_win_rate(org, dataset, histories):
    m1, m2 = org["m1"], org["m2"]
    rows = {
        r.line.name: r for r in reports.pipeline_movement(reports.lines_for([m1, m2]), NOVEMBER)
    }
    assert (rows["M1"].entered, rows["M1"].advanced, rows["M1"].won, rows["M1"].lost) == (
        4,
        3,
        1,
        2,
    )
    assert rows["M1"].won_amount == Decimal("2000.00")
    assert rows["M1"].win_rate == Decimal("33.3")
    assert (rows["M2"].entered, rows["M2"].advanced, rows["M2"].won, rows["M2"].lost) == (
        2,
        1,
        0,
        0,
    )
    assert rows["M2"].win_rate is None


def test_a_move_counts_in_its_period_against_the_row_before_it(
    org, stages, make_customer, make_opportunity
):
    """A move in November from a stage entered in October advances in November only; a
    step back in December changes neither month; a row of October alone moves nothing."""
    from models import OpportunityStatus
    from tests.test_dashboards import _history

    m1 = org["m1"]
    mover = make_opportunity(make_customer(m1), "Solution design")
    open_ = OpportunityStatus.OPEN
    _history(
        mover,
        [
            (utc(10, 20), "Initial contact", open_),
            (utc(11, 5), "Solution design", open_),
            (utc(12, 3), "Needs discovery", open_),
        ],
        stages,
    )
    still = make_opportunity(make_customer(m1))
    _history(still, [(utc(10, 21), "Initial contact", open_)], stages)
    december = metrics.month_of(date(2026, 12, 15), SHANGHAI)
    advanced = {
        month.first.month: reports.pipeline_movement(reports.lines_for([m1]), month)[0].advanced
        for month in (OCTOBER, NOVEMBER, december)
    }
    assert advanced == {10: 0, 11: 1, 12: 0}


def test_tier_coverage(org, make_customer, make_visit):
    m1 = org["m1"]
    covered = make_customer(m1, tier=Tier.A_PLUS)
    stale = make_customer(m1, tier=Tier.A_PLUS)
    edge = make_customer(m1, tier=Tier.A_PLUS)
    a = make_customer(m1, tier=Tier.A)
    make_customer(m1, tier=Tier.B)
    lost = make_customer(m1, tier=Tier.A, status=CustomerStatus.LOST)
    make_visit(covered, occurred_at=utc(11, 20))
    make_visit(stale, occurred_at=utc(11, 10))
    make_visit(stale, occurred_at=utc(12, 2))  # after the period: does not count
    make_visit(edge, occurred_at=utc(11, 15, 16))  # 00:00 on 16 Nov local: 14 days before the 30th
    make_visit(a, occurred_at=utc(11, 5))
    make_visit(lost, occurred_at=utc(11, 5))
    row = reports.tier_coverage(reports.lines_for([m1]), NOVEMBER)[0]
    assert (row.key_customers, row.covered, row.share) == (4, 3, Decimal("75.0"))


def test_tier_coverage_while_the_period_lasts_reads_the_last_visit(org, make_customer, make_visit):
    """Before a period ends no visit lies after it, so each customer's last visit answers
    what a search of their visits answers once it is over."""
    from crm.services.activity.visits import refresh_last_visits

    m1 = org["m1"]
    for tier, at in (
        (Tier.A_PLUS, utc(11, 20)),
        (Tier.A_PLUS, utc(11, 10)),  # before the A+ cadence's cutoff
        (Tier.A_PLUS, utc(11, 15, 16)),  # on it: 00:00 on 16 Nov local
        (Tier.A_PLUS, utc(11, 15, 15, 59)),  # a minute before it
        (Tier.A, utc(11, 5)),
        (Tier.A, None),  # never visited
    ):
        customer = make_customer(m1, tier=tier)
        if at:
            make_visit(customer, occurred_at=at)
            make_visit(customer, occurred_at=at - timedelta(days=40))
    make_visit(make_customer(m1, tier=Tier.A, status=CustomerStatus.LOST), occurred_at=utc(11, 5))
    refresh_last_visits()
    db.session.commit()
    lines = reports.lines_for([m1])
    over = reports.tier_coverage(lines, NOVEMBER)  # today is after November
    lasting = reports.tier_coverage(lines, NOVEMBER, now=utc(11, 20, 12))
    figures = [(r.key_customers, r.covered) for r in (over[0], lasting[0])]
    assert figures == [(6, 3), (6, 3)]


# Pages and CSV ------------------------------------------------------------------------


def _english(user):
    user.locale = "en"
    db.session.commit()


def test_visits_csv_is_excel_friendly_and_scoped(client, login, org, dataset):
    _english(org["sup1"])
    login(client, org["sup1"])
    response = client.get("/reports/export.csv?report=visits&period=month&on=2026-10-15")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Manager,")
    assert lines[0].endswith(",Total")
    assert lines[1].startswith("M1,") and lines[1].endswith(",1")
    assert lines[2].startswith("M2,") and lines[2].endswith(",0")
    assert lines[3].startswith("Total,") and lines[3].endswith(",1")
    assert "M3" not in response.text
    # Another team's manager cannot be picked.
    other = client.get(f"/reports/export.csv?report=visits&manager={org['m3'].id}").text
    assert "M3" not in other
    assert [line.split(",")[0] for line in other.splitlines()] == ["\ufeffManager", "Total"]


@pytest.mark.parametrize("report", ["won", "movement", "coverage"])
def test_other_csv_reports(client, login, org, dataset, report):
    _english(org["m1"])
    login(client, org["m1"])
    response = client.get(f"/reports/export.csv?report={report}&period=quarter&on=2026-11-01")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert "M1" in text and "M2" not in text
    if report == "movement":
        assert "M1,2,0,2,1,2300.00,66.7" in text


def test_unknown_report_is_404(client, login, org):
    login(client, org["m1"])
    assert client.get("/reports/export.csv?report=secrets").status_code == 404


def test_reports_page_filters(client, login, org, dataset):
    _english(org["admin"])
    login(client, org["admin"])
    html = client.get(f"/reports/?period=month&on=2026-11-10&team={org['team2'].id}").text
    assert 'id="chart-visits"' in html and 'id="csv-coverage"' in html
    assert f'data-manager="{org["m3"].id}"' in html
    assert f'data-manager="{org["m1"].id}"' not in html
    assert "report=coverage" in html and f"team={org['team2'].id}" in html


# Targets ------------------------------------------------------------------------------


def test_supervisor_sets_a_team_members_targets(client, login, org):
    _english(org["sup1"])
    login(client, org["sup1"])
    page = client.get("/reports/targets")
    assert page.status_code == 200
    assert f'data-manager="{org["m1"].id}"' in page.text
    assert f'data-manager="{org["m3"].id}"' not in page.text
    response = client.post(
        "/reports/targets",
        data={"manager_id": org["m1"].id, "weekly_visits": 6, "quarterly_won": "250000.50"},
    )
    assert response.status_code == 302
    target = db.session.scalar(select(Target).where(Target.user_id == org["m1"].id))
    assert (target.weekly_visits, target.quarterly_won, target.set_by_id) == (
        6,
        Decimal("250000.50"),
        org["sup1"].id,
    )
    _english(org["m1"])
    login(client, org["m1"])
    assert "/ 6" in client.get("/").text


def test_targets_refused_outside_the_team(client, login, org):
    login(client, org["sup1"])
    data = {"manager_id": org["m3"].id, "weekly_visits": 6, "quarterly_won": "1"}
    assert client.post("/reports/targets", data=data).status_code == 404
    bad = {"manager_id": org["m1"].id, "weekly_visits": -1, "quarterly_won": "1"}
    assert client.post("/reports/targets", data=bad).status_code == 400
    assert db.session.scalar(select(Target)) is None
    login(client, org["m1"])
    assert client.get("/reports/targets").status_code == 403
    assert client.post("/reports/targets", data=data).status_code == 403
    login(client, org["admin"])
    assert client.post("/reports/targets", data=data).status_code == 302


def test_an_admin_chooses_the_team_whose_targets_to_set(client, login, org):
    _english(org["admin"])
    login(client, org["admin"])
    page = client.get("/reports/targets").text
    assert 'id="choose-team"' in page and 'data-manager="' not in page
    assert f'href="/reports/targets?team={org["team2"].id}"' in page
    team2 = client.get(f"/reports/targets?team={org['team2'].id}").text
    assert f'data-manager="{org["m3"].id}"' in team2
    assert f'data-manager="{org["m1"].id}"' not in team2 and 'id="choose-team"' not in team2
    data = {"manager_id": org["m3"].id, "weekly_visits": 4, "quarterly_won": "10"}
    saved = client.post(f"/reports/targets?team={org['team2'].id}", data=data)
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/reports/targets?team={org['team2'].id}")
    assert (
        db.session.scalar(select(Target.weekly_visits).where(Target.user_id == org["m3"].id)) == 4
    )
    # Not a manager (an admin, a supervisor), or no such user: nothing to set.
    for user_id in (org["sup1"].id, org["admin"].id, 999_999, "x", "²", "9" * 25):
        data["manager_id"] = user_id
        assert client.post("/reports/targets", data=data).status_code == 404
    # A supervisor has no team to choose: their own team's managers.
    login(client, org["sup1"])
    mine = client.get("/reports/targets").text
    assert 'id="team-selector"' not in mine and f'data-manager="{org["m1"].id}"' in mine
    data["manager_id"] = org["m1"].id
    saved = client.post("/reports/targets", data=data)
    assert saved.headers["Location"].endswith("/reports/targets")


def test_target_service_checks_the_actor(org):
    with pytest.raises(NotAllowed):
        set_target(org["m3"], weekly_visits=1, quarterly_won=Decimal(1), actor=org["sup1"])
    with pytest.raises(NotAllowed):
        set_target(org["m1"], weekly_visits=1, quarterly_won=Decimal(1), actor=org["m1"])


# An admin's every team -------------------------------------------------------------------


def test_a_team_line_sums_its_managers_in_every_report(org, dataset, histories, make_user):
    from crm.services.reporting import dashboards

    loner = make_user("loner", team=None)
    # As the reports page reads them: names and teams as columns, not User rows.
    managers = dashboards.managers_named(org["admin"])
    assert [m.id for m in managers] == [m.id for m in dashboards.managers_in_view(org["admin"])]
    quarter = metrics.quarter_of(date(2026, 11, 1), SHANGHAI)
    per_manager = reports.lines_for(managers)
    per_team = reports.lines_for(managers, by_team=True, teams=[org["team1"], org["team2"]])
    assert per_team.by_team and not per_manager.by_team
    # By name, the managers in no team last.
    assert [line.id for line in per_team.lines] == [org["team1"].id, org["team2"].id, None]
    assert [line.name for line in per_team.lines[:2]] == [org["team1"].name, org["team2"].name]
    assert per_team.of_manager[loner.id].filters == {}  # no list filter for "no team"
    assert per_team.of_manager[org["m1"].id].filters == {"team": org["team1"].id}

    def team_of(manager_line):
        return per_team.of_manager[manager_line.id]

    for report in (reports.visits_over_time, reports.won_over_time):
        mine, teams = report(per_manager, quarter), report(per_team, quarter)
        for i in range(len(quarter.buckets())):
            expected = {line: 0 for line in per_team.lines}
            for line in per_manager.lines:
                expected[team_of(line)] += mine.get(line, i)
            assert {line: teams.get(line, i) for line in per_team.lines} == expected
            assert teams.bucket_total(i) == mine.bucket_total(i)
    for report, figures in (
        (reports.pipeline_movement, ("entered", "advanced", "won", "lost", "won_amount")),
        (reports.tier_coverage, ("key_customers", "covered")),
    ):
        summed = {}
        for row in report(per_manager, quarter):
            line = summed.setdefault(team_of(row.line), dict.fromkeys(figures, 0))
            for name in figures:
                line[name] += getattr(row, name)
        by_team = {
            row.line: {n: getattr(row, n) for n in figures} for row in report(per_team, quarter)
        }
        assert by_team == summed
        assert any(any(line.values()) for line in summed.values())  # not all zeros
    heading = reports.movement_rows(reports.pipeline_movement(per_team, quarter))[0][0]
    assert (
        heading == reports.line_heading(per_team.lines) != reports.line_heading(per_manager.lines)
    )


def test_an_admin_sees_a_line_per_team_until_choosing_one(client, login, org, dataset):
    _english(org["admin"])
    login(client, org["admin"])
    every = client.get("/reports/?period=quarter&on=2026-11-01").text
    assert 'id="lines-per-team"' in every and "Visits per team" in every
    assert f'data-team="{org["team1"].id}"' in every and 'data-manager="' not in every
    assert f"/opportunities/?status=won&amp;team={org['team1'].id}" in every
    team = client.get(f"/reports/?period=quarter&on=2026-11-01&team={org['team1'].id}").text
    assert 'id="lines-per-team"' not in team and 'data-team="' not in team
    assert f'data-manager="{org["m1"].id}"' in team
    one = client.get(f"/reports/?period=quarter&on=2026-11-01&manager={org['m3'].id}").text
    assert f'data-manager="{org["m3"].id}"' in one and 'data-team="' not in one
    csv = client.get("/reports/export.csv?report=visits&period=quarter&on=2026-11-01").text
    assert csv.lstrip("\ufeff").startswith("Team,") and f"\r\n{org['team1'].name}," in csv
    # A supervisor's lines are the team's managers, as before.
    login(client, org["sup1"])
    mine = client.get("/reports/?period=quarter&on=2026-11-01").text
    assert 'data-team="' not in mine and f'data-manager="{org["m1"].id}"' in mine
