"""Each demo role's home in a real browser: charts drawn, a figure clicked through to its list.

With CRM_SCREENSHOTS=1 the test saves each home to static/screenshots/<role>-home.png
(the README shows them).
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from crm.config import PROJECT_ROOT
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT_ROOT / "static" / "screenshots"  # the layout has no docs/ folder

# Pixels drawn on a canvas (any non-transparent one means Chart.js painted something).
PAINTED = """canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
  return painted;
}"""


def charts_are_drawn(page: Page) -> None:
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_have_attribute("data-drawn", "1")
    count = canvases.count()
    assert count >= 1
    assert page.evaluate("Object.keys(Chart.instances).length") == count
    for i in range(count):
        canvas = canvases.nth(i)
        if canvas.is_visible():
            assert canvas.evaluate(PAINTED) > 0, f"chart {i} is blank"


def screenshot(page: Page, role: str) -> None:
    if os.environ.get("CRM_SCREENSHOTS", "") in ("", "0"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{role}-home.png"), full_page=True)


def test_manager_home(page: Page):
    sign_in(page, "manager1")
    expect(page.locator("#my-day")).to_be_visible()
    charts_are_drawn(page)
    screenshot(page, "manager")
    page.locator("#my-pipeline").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\?owner=\d+&status=open$"))


def test_supervisor_home(page: Page):
    sign_in(page, "supervisor1")
    table = page.locator("#team-table")
    expect(table).to_be_visible()
    charts_are_drawn(page)
    screenshot(page, "supervisor")
    first = table.locator("tbody tr[data-manager]").first
    manager_id = first.get_attribute("data-manager")
    first.locator('[data-figure="overdue"] a').click()
    expect(page).to_have_url(re.compile(rf"/reminders/\?owner={manager_id}$"))


def test_admin_home_with_a_team_selected(page: Page):
    sign_in(page, "admin")
    expect(page.locator("#system-health")).to_be_visible()
    charts_are_drawn(page)
    screenshot(page, "admin")
    page.locator("#team").select_option(index=1)
    page.locator('#team-selector button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/\?team=\d+$"))
    charts_are_drawn(page)
    first = page.locator("#team-table tbody tr[data-manager]").first
    manager_id = first.get_attribute("data-manager")
    first.locator('[data-figure="customers"] > a').click()
    expect(page).to_have_url(re.compile(rf"/customers/\?owner={manager_id}$"))


def test_manager_home_on_a_phone(phone_page: Page):
    page = phone_page
    sign_in(page, "manager2")
    charts_are_drawn(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the home page scrolls sideways on a phone"


def test_supervisor_sets_a_target_and_reads_the_reports(page: Page):
    sign_in(page, "supervisor1")
    page.locator("#set-targets").click()
    row = page.locator("#targets tbody tr[data-manager]").first
    row.locator('input[name="weekly_visits"]').fill("7")
    row.locator('button[type="submit"]').click()
    expect(
        page.locator("#targets tbody tr[data-manager]").first.locator('input[name="weekly_visits"]')
    ).to_have_value("7")
    page.goto("/")
    expect(page.locator("#team-table")).to_contain_text("/ 7")
    page.goto("/reports/?period=quarter")
    charts_are_drawn(page)
    expect(page.locator("#csv-visits")).to_have_attribute("href", re.compile(r"report=visits"))
    expect(page.locator("#report-movement tbody tr[data-manager]").first).to_be_visible()
