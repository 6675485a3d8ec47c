"""The early warning in a real browser (issue 14): a manager follows the home's at-risk
count to the list, opens a customer at risk, reads why factor by factor, logs a visit and
opens a service ticket for it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def manager_with_a_customer_at_risk(demo_database: Path) -> tuple[str, int, int]:
    """(username, customer id, how many of theirs are at risk): the demo's health pass
    scored every customer as the last step of building the demo."""
    connection = sqlite3.connect(demo_database)
    try:
        username, customer_id, count = connection.execute(
            "SELECT u.username, min(c.id), count(*) FROM customer_health h "
            "JOIN customers c ON c.id = h.customer_id JOIN users u ON u.id = c.owner_id "
            "WHERE h.band = 'at_risk' AND c.status != 'lost' AND u.role = 'manager' "
            "GROUP BY u.username ORDER BY count(*) DESC, u.username LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    return username, customer_id, count


def test_manager_reads_why_a_customer_is_at_risk_then_visits_and_opens_a_ticket(
    page: Page, demo_database
):
    username, _, at_risk = manager_with_a_customer_at_risk(demo_database)
    sign_in(page, username)

    # The home counts the manager's customers at risk and links the list.
    count = page.locator("#at-risk-count")
    expect(count).to_have_text(str(at_risk))
    page.click("#at-risk-link")
    expect(page).to_have_url(re.compile(r"/customers/at-risk$"))
    rows = page.locator("#at-risk-list tbody tr[data-customer-id]")
    expect(rows).to_have_count(at_risk)
    first = rows.first
    customer_id = int(first.get_attribute("data-customer-id"))
    reasons_listed = first.locator(".at-risk-reason").count()
    assert reasons_listed >= 1

    # The customer's page explains the band, factor by factor.
    first.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}#health-panel$"))
    panel = page.locator("#health-panel")
    expect(panel.locator('.health-band[data-band="at_risk"]')).to_be_visible()
    expect(panel.locator(".health-reason")).to_have_count(reasons_listed)
    score = int(panel.locator(".health-band").inner_text().split("·")[-1])
    points = [
        int(text.strip().lstrip("−"))
        for text in panel.locator(".health-reason .badge").all_inner_texts()
    ]
    assert sum(points) >= 100 - score  # the score never goes below 0
    # Each reason says why in words, and most link to the records behind them.
    expect(panel.locator(".health-reason").first).not_to_be_empty()
    assert panel.locator(".health-reason a").count() >= 1

    # Log a visit from the customer's page.
    page.click("#log-visit")
    expect(page).to_have_url(re.compile(rf"/visits/new\?customer_id={customer_id}"))
    page.fill("#outcome", "上门了解流失原因，客户愿意重新谈续约")
    page.click("#save-visit")
    expect(page).to_have_url(re.compile(r"/visits/\d+$"))

    # And open a service ticket for what the customer complained about.
    page.goto(f"/customers/{customer_id}")
    page.click("#new-ticket")
    expect(page).to_have_url(re.compile(rf"/service/new\?customer_id={customer_id}"))
    page.select_option("#kind", "complaint")
    page.select_option("#category", "network_quality")
    page.select_option("#severity", "high")
    page.fill("#title", "专线频繁中断，客户要求赔偿")
    page.click("#open-ticket")
    expect(page).to_have_url(re.compile(r"/service/\d+$"))
    expect(page.locator("body")).to_contain_text("专线频繁中断，客户要求赔偿")

    # Back on the customer, the visit and the ticket are on its timeline.
    page.goto(f"/customers/{customer_id}")
    expect(page.locator("#service-not-closed")).to_be_visible()
    expect(page.locator("body")).to_contain_text("上门了解流失原因")
