"""The assessment pages: who sees which sheet, and what each page and form does (issue 15)."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.assessment import sheets, store
from models import AssessmentPublication, AssessmentTarget, AssessmentWeightSet, TemporaryTask
from tests.assessment_world import figure, last_month


@pytest.fixture(autouse=True)
def english(app, org):
    """Messages and pages in English (the users' and the app's default is Chinese)."""
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    with force_locale("en"):
        yield


@pytest.fixture
def period(app):
    return last_month()


@pytest.fixture
def world(org, make_customer, period):
    """m1's customers: one whose revenue fell, one whose revenue grew."""
    fell = make_customer(org["m1"], "下滑客户有限公司")
    grew = make_customer(org["m1"], "增长客户有限公司")
    figure(fell, period.previous().first, 80000)
    figure(fell, period.first, 50000)
    figure(grew, period.previous().first, 20000)
    figure(grew, period.first, 30000)
    return {"fell": fell, "grew": grew}


def _get(client, login, user, url, status=200) -> str:
    login(client, user)
    response = client.get(url)
    assert response.status_code == status, (user.username, url, response.status_code)
    return response.get_data(as_text=True)


def test_the_team_sheet_is_its_supervisors_and_the_admins(client, login, org, period, world):
    url = f"/assessment/{period.key}/team/{org['team1'].id}"
    page = _get(client, login, org["sup1"], url)
    shown = {org[m].id for m in ("m1", "m2", "m3", "m4") if f'data-manager="{org[m].id}"' in page}
    assert shown == {org["m1"].id, org["m2"].id}
    assert 'id="team-sheet"' in page and 'id="publish-button"' in page
    assert f'data-manager="{org["m1"].id}"' in _get(client, login, org["admin"], url)
    for outsider in ("m1", "m2", "m3", "sup2"):
        _get(client, login, org[outsider], url, 404)
    _get(client, login, org["sup1"], f"/assessment/2026-13/team/{org['team1'].id}", 404)


def test_publishing_from_the_team_page(client, login, org, period, world):
    login(client, org["sup1"])
    url = f"/assessment/{period.key}/team/{org['team1'].id}/publish"
    assert client.post(url).status_code == 302
    refused = client.post(url, data={"reason": ""})  # the second time, without a reason
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "say why it is published again" in page and 'id="published-badge"' in page
    assert client.post(url, data={"reason": "补录投诉"}).status_code == 302
    reasons = db.session.scalars(
        select(AssessmentPublication.reason).order_by(AssessmentPublication.number)
    ).all()
    assert reasons == [None, "补录投诉"]
    page = client.get(f"/assessment/{period.key}/team/{org['team1'].id}").get_data(as_text=True)
    assert "补录投诉" in page


def test_a_manager_opens_only_their_own_published_scorecard(client, login, org, period, world):
    mine = f"/assessment/{period.key}/managers/{org['m1'].id}"
    assert 'id="not-published"' in _get(client, login, org["m1"], mine)
    _get(client, login, org["m1"], f"{mine}/01", 404)  # not before it is published
    store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    page = _get(client, login, org["m1"], mine)
    assert 'id="card-total"' in page and 'id="records-01"' in page
    records = _get(client, login, org["m1"], f"{mine}/01")
    # The customer whose revenue fell comes first, with its fall.
    assert records.index("下滑客户有限公司") < records.index("增长客户有限公司")
    assert "-30,000" in records or "-30000" in records or "−30,000" in records
    _get(client, login, org["m1"], f"{mine}/XX", 404)
    for outsider in ("m2", "m3", "sup2"):
        _get(client, login, org[outsider], mine, 404)
        _get(client, login, org[outsider], f"{mine}/01", 404)
    assert 'id="card-total"' in _get(client, login, org["sup1"], mine)
    assert period.key in _get(client, login, org["m1"], "/assessment/")


def test_the_manager_is_sent_to_their_own_card(client, login, org, period):
    login(client, org["m1"])
    response = client.get(f"/assessment/{period.key}")
    assert response.status_code == 302
    assert response.location.endswith(f"/assessment/{period.key}/managers/{org['m1'].id}")


def test_the_department_view(client, login, org, period, world):
    store.refresh(period)
    db.session.commit()
    page = _get(client, login, org["admin"], f"/assessment/{period.key}")
    assert "Team One" in page and "Team Two" in page
    page = _get(client, login, org["sup1"], f"/assessment/{period.key}")
    assert "Team One" in page and "Team Two" not in page


def test_a_supervisors_department_lines_are_the_whole_departments_for_their_teams(
    org, period, world
):
    store.refresh(period)
    db.session.commit()
    whole = {line.team.id: line for line in sheets.department(period)}
    mine = sheets.department(period, [org["team1"]])
    assert [line.team.id for line in mine] == [org["team1"].id]
    expected = whole[org["team1"].id]
    assert mine[0].managers == expected.managers > 0
    assert mine[0].totals == expected.totals and mine[0].totals
    assert mine[0].previous == expected.previous


def test_targets_in_bulk(client, login, org, period, world):
    login(client, org["sup1"])
    url = f"/assessment/{period.key}/team/{org['team1'].id}/targets"
    page = client.get(url).get_data(as_text=True)
    m1 = org["m1"].id
    assert f'name="t{m1}_C1_"' in page and f'name="s{m1}_lines"' in page
    response = client.post(
        url, data={f"t{m1}_C1_": "30", f"t{m1}_03_lines": "900", f"s{m1}_lines": "100"}
    )
    assert response.status_code == 302
    got = {
        (t.indicator, t.part): (t.target, t.share)
        for t in db.session.scalars(select(AssessmentTarget).where(AssessmentTarget.user_id == m1))
    }
    assert got == {("C1", ""): (D(30), None), ("03", "lines"): (D(900), D(100))}
    # A share that does not make 100 is refused and nothing changes.
    response = client.post(url, data={f"t{m1}_03_lines": "900", f"s{m1}_lines": "60"})
    assert response.status_code == 400
    assert "not 100" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssessmentTarget)) == 2
    # Drafts are computed at once: the team page shows the new target's points.
    sheet = _get(client, login, org["sup1"], f"/assessment/{period.key}/team/{org['team1'].id}")
    assert 'id="draft-badge"' in sheet and "figures as of" in sheet
    _get(client, login, org["m1"], url, 404)


def test_targets_from_a_csv_file(client, login, org, period, world):
    login(client, org["sup1"])
    url = f"/assessment/{period.key}/team/{org['team1'].id}/targets/import"
    text = "username,indicator,part,target,share\nm1,C1,,25,\nm2,03,lines,500,100\n"
    data = {"file": (io.BytesIO(("\ufeff" + text).encode()), "targets.csv")}
    assert client.post(url, data=data, content_type="multipart/form-data").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AssessmentTarget)) == 2
    bad = "username,indicator,part,target,share\nm3,C1,,25,\n"
    data = {"file": (io.BytesIO(bad.encode()), "targets.csv")}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "m3 is not in the team" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AssessmentTarget)) == 2


def test_the_team_sheet_as_csv(client, login, org, period, world):
    org["sup1"].locale = "en"
    login(client, org["sup1"])
    response = client.get(f"/assessment/{period.key}/team/{org['team1'].id}/sheet.csv")
    body = response.get_data()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Code,Indicator,How it is scored,Weight,M1 · actual,M1 · points")
    assert lines[1].startswith("01,Revenue growth of the portfolio,")
    assert lines[-2].startswith(",Total,,100,") and lines[-1].startswith(",Rank,")


def test_temporary_tasks_set_and_scored_on_the_scorecard(client, login, org, period, world):
    quarter = period.quarter()
    login(client, org["sup1"])
    card = f"/assessment/{quarter.key}/managers/{org['m1'].id}"
    response = client.post(f"{card}/tasks", data={"title": "配合集团大客户走访", "weight": "2"})
    assert response.status_code == 302
    task = db.session.scalars(select(TemporaryTask)).one()
    page = client.get(card).get_data(as_text=True)
    assert "配合集团大客户走访" in page and f'id="task-{task.id}"' in page
    prefix = f"task{task.id}"
    refused = client.post(
        f"/assessment/tasks/{task.id}/score",
        data={f"{prefix}-score": "80", f"{prefix}-comment": "", f"{prefix}-version": task.version},
    )
    assert refused.status_code == 400  # a score needs its comment
    done = client.post(
        f"/assessment/tasks/{task.id}/score",
        data={
            f"{prefix}-score": "80",
            f"{prefix}-comment": "按时完成",
            f"{prefix}-version": task.version,
        },
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert (task.score, task.comment) == (D(80), "按时完成")
    # The manager cannot set tasks for themselves.
    login(client, org["m1"])
    assert (
        client.post(f"{card}/tasks", data={"title": "自己加分", "weight": "1"}).status_code == 400
    )
    assert db.session.scalar(select(func.count()).select_from(TemporaryTask)) == 1


def test_an_admin_saves_a_new_weight_version(client, login, org):
    login(client, org["admin"])
    page = client.get("/admin/assessment").get_data(as_text=True)
    assert 'id="catalog"' in page and 'id="edit-month-junior"' in page
    form = client.get("/admin/assessment/month/junior").get_data(as_text=True)
    assert 'name="w01_weight"' in form and 'name="w06_method"' in form
    from crm.services.assessment import catalog, periods
    from models import Level, PeriodKind

    spec = catalog.BUILT_IN[(Level.JUNIOR, PeriodKind.MONTH)]
    start = periods.current(PeriodKind.MONTH).following().key
    data = {"starts_on": start, "task_weight": "0", "note": "提高收入权重"}
    for code, line in spec.lines.items():
        data |= {
            f"w{code}_weight": str(line.weight),
            f"w{code}_marking": line.marking.value,
            f"w{code}_cap": str(line.cap),
            f"w{code}_floor": str(line.floor),
            f"w{code}_method": line.method.value,
            f"w{code}_default_target": ""
            if line.default_target is None
            else str(line.default_target),
            f"w{code}_per_unit": "" if line.per_unit is None else str(line.per_unit),
        }
    data |= {"w01_weight": "15", "w02_weight": "0", "w02_marking": "not_assessed"}
    response = client.post("/admin/assessment/month/junior", data=data)
    assert response.status_code == 302
    version = db.session.scalars(select(AssessmentWeightSet)).one()
    assert version.note == "提高收入权重"
    assert "提高收入权重" in client.get(f"/admin/assessment/versions/{version.id}").get_data(
        as_text=True
    )
    data["w01_weight"] = "20"  # 105 in all
    response = client.post("/admin/assessment/month/junior", data=data)
    assert response.status_code == 400 and "add up to 105" in response.get_data(as_text=True)
    login(client, org["sup1"])
    assert client.get("/admin/assessment").status_code == 403


def test_the_level_review_page(client, login, org, period, world):
    quarter = period.quarter()
    _get(client, login, org["m1"], f"/assessment/{quarter.key}/review", 404)
    _get(client, login, org["sup1"], f"/assessment/{period.key}/review", 404)  # a month
    page = _get(client, login, org["sup1"], f"/assessment/{quarter.key}/review")
    assert 'id="level-review"' in page


def test_the_complaints_that_cost_points_link_to_their_tickets(client, login, org, period, world):
    from tests.assessment_world import complaint, near_end

    ticket = complaint(world["fell"], near_end(period), title="专线中断投诉")
    store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    page = _get(client, login, org["m1"], f"/assessment/{period.key}/managers/{org['m1'].id}/07")
    assert f'href="/service/{ticket.id}"' in page and "专线中断投诉" in page
