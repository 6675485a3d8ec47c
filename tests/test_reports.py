"""Reports: periods in the user's zone, each report's figures, CSV exports, targets."""

from __future__ import annotations

from datetime import date
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
    october = reports.visits_over_time([m1], OCTOBER)
    assert october.manager_total(m1.id) == 1  # 23:30 on 31 October in Shanghai
    assert october.get(m1.id, len(october.buckets) - 1) == 1  # in the last week of October
    november = reports.visits_over_time([m1], NOVEMBER)
    assert november.manager_total(m1.id) == 3
    assert november.get(m1.id, 0) == 1  # 00:30 on 1 November


def test_won_over_time(org, dataset):
    m1, m3 = org["m1"], org["m3"]
    quarter = metrics.quarter_of(date(2026, 11, 1), SHANGHAI)
    won = reports.won_over_time([m1, m3], quarter)
    assert [won.get(m1.id, i) for i in range(3)] == [Decimal("300.00"), Decimal("2000.00"), 0]
    assert won.bucket_total(1) == Decimal("7000.00")


def test_pipeline_movement_and_win_rate(org, dataset, histories):
    m1, m2 = org["m1"], org["m2"]
    rows = {r.manager.username: r for r in reports.pipeline_movement([m1, m2], NOVEMBER)}
    assert (rows["m1"].entered, rows["m1"].advanced, rows["m1"].won, rows["m1"].lost) == (
        4,
        3,
        1,
        2,
    )
    assert rows["m1"].won_amount == Decimal("2000.00")
    assert rows["m1"].win_rate == Decimal("33.3")
    assert (rows["m2"].entered, rows["m2"].advanced, rows["m2"].won, rows["m2"].lost) == (
        2,
        1,
        0,
        0,
    )
    assert rows["m2"].win_rate is None


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
        month.first.month: reports.pipeline_movement([m1], month)[0].advanced
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
    row = reports.tier_coverage([m1], NOVEMBER)[0]
    assert (row.key_customers, row.covered, row.share) == (4, 3, Decimal("75.0"))


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


def test_target_service_checks_the_actor(org):
    with pytest.raises(NotAllowed):
        set_target(org["m3"], weekly_visits=1, quarterly_won=Decimal(1), actor=org["sup1"])
    with pytest.raises(NotAllowed):
        set_target(org["m1"], weekly_visits=1, quarterly_won=Decimal(1), actor=org["m1"])
