"""The month's assessment in a real browser (issue 15): a supervisor sets a target on the
team sheet, scores the temporary task the last quarter still waits for, and publishes
the month; the manager then opens the published scorecard and clicks from an indicator
through to the records it counts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm import create_app
from crm.extensions import db, limiter
from crm.services.assessment import periods
from models import PeriodKind
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

SUPERVISOR, MANAGER = "supervisor1", "manager1"  # 王建国 leads 政企一部; 张伟 is in it
TEAM = "政企一部"
MANAGER_NAME = "张伟"


@pytest.fixture
def last_periods(live_server, tmp_path) -> tuple[str, str]:
    """The last finished month and quarter (the demo leaves both to publish)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    try:
        with app.app_context():
            month = periods.current(PeriodKind.MONTH).previous().key
            quarter = periods.current(PeriodKind.QUARTER).previous().key
            return month, quarter
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        limiter.reset()


def test_supervisor_publishes_the_month_manager_follows_a_figure_to_its_records(
    page: Page, last_periods: tuple[str, str]
):
    month, quarter = last_periods

    # The supervisor: from the home page to the month's team sheet.
    sign_in(page, SUPERVISOR)
    page.locator("#home-assessment").click()
    expect(page).to_have_url(re.compile(r"/assessment/$"))
    page.locator("#to-publish").get_by_role("link", name=f"{month} · {TEAM}").click()
    expect(page).to_have_url(re.compile(rf"/assessment/{month}/team/\d+$"))
    expect(page.locator("#draft-badge")).to_be_visible()
    team_url = page.url

    # Targets: 张伟's visits for the month.
    page.locator("#set-assessment-targets").click()
    row = page.locator("#targets-grid tbody tr", has_text=MANAGER_NAME)
    row.locator('input[name$="_C1_"]').fill("12")
    page.locator("#save-targets").click()
    expect(page).to_have_url(team_url)
    expect(page.locator(".alert-success")).to_contain_text(month)
    page.get_by_role("link", name=MANAGER_NAME).first.click()
    visits_line = page.locator('#scorecard tr[data-code="C1"]')
    expect(visits_line).to_contain_text("12")
    expect(visits_line).to_contain_text("主管设定")  # set by the supervisor

    # The last quarter waits for one task's score: publishing it is refused until then.
    page.goto(f"/assessment/{quarter}/team/{team_url.rsplit('/', 1)[1]}")
    page.locator("#publish-button").click()
    expect(page.locator(".alert-danger")).to_contain_text("请先为临时任务评分")
    page.get_by_role("link", name=MANAGER_NAME).first.click()
    task = page.locator("#tasks div.border", has_text="配合省公司年度审计资料准备")
    task.locator('input[name$="-score"]').fill("88")
    task.locator('textarea[name$="-comment"]').fill("资料齐全，提交及时。")
    task.get_by_role("button", name="保存评分").click()
    expect(page.locator(".alert-success")).to_contain_text("任务已评分")
    expect(page.locator("#card-tasks")).to_contain_text("资料齐全，提交及时。")

    # Publish the month.
    page.goto(team_url)
    page.locator("#publish-button").click()
    expect(page.locator("#published-badge")).to_be_visible()
    expect(page.locator("#publications")).to_contain_text("王建国")
    page.locator("#logout").click()

    # The manager: the published scorecard, then the visits it counted.
    sign_in(page, MANAGER)
    page.locator("#home-assessment").click()
    page.locator("#my-scorecards").get_by_role("link", name=month, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/assessment/{month}/managers/\d+$"))
    expect(page.locator("#published-badge")).to_be_visible()
    total = page.locator("#card-total").inner_text()
    assert re.fullmatch(r"\d+\.\d\d", total), total
    page.locator("#records-C1").click()
    expect(page).to_have_url(re.compile(rf"/assessment/{month}/managers/\d+/C1$"))
    expect(page.locator("#line-summary")).to_contain_text("12")  # the target just set
    visits = page.locator("#records tbody tr")
    expect(visits.first).to_be_visible()
    expect(page.locator("#no-records")).to_have_count(0)
    visits.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/visits/\d+$"))


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_a_printed_scorecard_is_one_page(page: Page, last_periods: tuple[str, str]):
    """The print stylesheet: navigation, forms and buttons left out, the sheet on one page."""
    month, _quarter = last_periods
    published = periods.parse(month).previous().key  # the demo publishes the month before
    sign_in(page, SUPERVISOR)
    page.locator("#home-assessment").click()
    page.goto(page.url.replace("/assessment/", f"/assessment/{published}"))
    page.locator("#department").get_by_role("link", name=TEAM).click()
    page.get_by_role("link", name=MANAGER_NAME).first.click()
    expect(page.locator("#published-badge")).to_be_visible()
    expect(page.locator("#add-task")).to_be_visible()  # the supervisor's forms, on screen
    page.emulate_media(media="print")
    expect(page.locator("#add-task")).to_be_hidden()
    expect(page.locator("nav.navbar")).to_be_hidden()
    assert _pdf_pages(page.pdf(prefer_css_page_size=True)) == 1
