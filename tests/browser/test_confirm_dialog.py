"""Destructive buttons ask first, in a real browser: a dialog with JavaScript, a page without."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, _open_page
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def manager1_visits(demo_database) -> list[int]:
    """Two of manager1's visits in the demo database the live server copies."""
    connection = sqlite3.connect(demo_database)
    try:
        rows = connection.execute(
            "SELECT v.id FROM visits v JOIN users u ON u.id = v.user_id"
            " WHERE u.username = 'manager1' ORDER BY v.id LIMIT 2"
        ).fetchall()
    finally:
        connection.close()
    assert len(rows) == 2, "the demo gives manager1 visits"
    return [row[0] for row in rows]


@pytest.fixture
def page_without_javascript(browser, live_server, request):
    yield from _open_page(
        browser, live_server, request, viewport=DESKTOP, java_script_enabled=False
    )


def test_deleting_a_visit_asks_in_a_dialog_and_cancel_keeps_it(page: Page, manager1_visits):
    visit_id = manager1_visits[0]
    sign_in(page, "manager1")
    page.goto(f"/visits/{visit_id}")
    questions: list[str] = []

    def cancel(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    page.click("#delete-visit")

    expect(page).to_have_url(re.compile(rf"/visits/{visit_id}$"))
    assert len(questions) == 1 and "删除" in questions[0], questions
    page.reload()
    expect(page.locator("#visit-when")).to_be_visible()  # still there

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-visit")

    expect(page).to_have_url(re.compile(r"/visits/(\?.*)?$"))
    expect(page.locator(".alert-success")).to_be_visible()
    assert page.request.get(f"/visits/{visit_id}").status == 404


def test_without_javascript_a_confirm_page_asks_and_cancel_keeps_the_visit(
    page_without_javascript: Page, manager1_visits
):
    page = page_without_javascript
    kept, deleted = manager1_visits
    sign_in(page, "manager1")

    page.goto(f"/visits/{kept}")
    page.click("#delete-visit")
    expect(page.locator("#confirm-question")).to_be_visible()
    page.click("#confirm-cancel")
    expect(page).to_have_url(re.compile(rf"/visits/{kept}$"))
    expect(page.locator("#visit-when")).to_be_visible()

    page.goto(f"/visits/{deleted}")
    page.click("#delete-visit")
    page.click("#confirm-yes")
    expect(page).to_have_url(re.compile(r"/visits/(\?.*)?$"))
    assert page.request.get(f"/visits/{deleted}").status == 404
    assert page.request.get(f"/visits/{kept}").status == 200
