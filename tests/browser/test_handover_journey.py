"""A leaving manager's portfolio, in a real browser: select all, preview, note, hand over."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

NOTE = "刘总下月续约，已承诺九折；财务处王处长是关键联系人。"


def portfolio_of(database, username: str) -> tuple[int, str, str | None]:
    """(number of customers, one customer's name, a customer with a follow-up due this week)."""
    with sqlite3.connect(database) as conn:
        (owner_id,) = conn.execute(
            "SELECT id FROM users WHERE username = ?", (username,)
        ).fetchone()
        count, name = conn.execute(
            "SELECT count(*), min(name) FROM customers WHERE owner_id = ?", (owner_id,)
        ).fetchone()
        soon = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
        row = conn.execute(
            "SELECT c.name FROM reminders r JOIN customers c ON c.id = r.customer_id "
            "WHERE r.owner_id = ? AND r.status = 'pending' AND r.due_on <= ? "
            "ORDER BY r.due_on LIMIT 1",
            (owner_id, soon),
        ).fetchone()
    return count, name, row[0] if row else None


def test_supervisor_hands_a_whole_portfolio_over(page: Page, tmp_path):
    count, some_customer, followed_up = portfolio_of(tmp_path / "crm.sqlite3", "manager2")
    assert count > 0 and followed_up, "the demo gives manager2 customers with follow-ups"

    sign_in(page, "supervisor1")
    page.goto("/handovers/new")
    page.select_option("#sel-owner", label="刘洋")  # manager2: every customer, on every page
    page.click("#apply-selection")
    expect(page.locator("#selection-total")).to_contain_text(str(count))

    page.select_option("#to_owner", label="张伟 (manager1)")  # senior: no tier warning
    page.click("#preview-handover")
    expect(page.locator("#preview-customers")).to_have_text(str(count))
    expect(page.locator("#preview-portfolio")).to_be_visible()

    page.fill("#note", NOTE)
    page.click("#commit-handover")

    expect(page).to_have_url(re.compile(r"/handovers/\d+$"))
    expect(page.locator("#handover-to")).to_contain_text("张伟")
    expect(page.locator("#handover-note")).to_contain_text(NOTE)
    expect(page.locator("#handover-customers")).to_contain_text(some_customer)

    page.click("#logout")
    sign_in(page, "manager1")
    page.goto("/customers?q=" + some_customer)
    expect(page.locator("body")).to_contain_text(some_customer)
    page.goto("/reminders/")  # manager2's follow-ups are manager1's now
    expect(page.locator("body")).to_contain_text(followed_up)


def test_the_handover_form_works_on_a_phone(phone_page: Page):
    page = phone_page
    sign_in(page, "supervisor1")
    page.goto("/handovers/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the handover page scrolls sideways on a phone"
