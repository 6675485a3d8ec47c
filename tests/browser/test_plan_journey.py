"""A manager plans next week on a phone from the suggestions and submits it in under two
minutes of scripted steps; the supervisor reviews it; the manager sees the review."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def next_week_key() -> str:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def sign_out(page: Page) -> None:
    page.goto("/")
    page.click(".navbar-toggler")
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_manager_plans_next_week_on_a_phone_and_the_supervisor_reviews_it(phone_page: Page):
    page = phone_page
    started = time.monotonic()
    sign_in(page, "manager1")
    page.click(".navbar-toggler")  # on a phone the navigation is behind the menu button
    page.click("#nav >> text=计划")
    expect(page).to_have_url(re.compile(r"/plans/$"))
    page.goto(f"/plans/week/{next_week_key()}")
    page.click("#start-plan")
    expect(page).to_have_url(re.compile(r"/plans/\d+$"))
    plan_url = page.url

    suggestions = page.locator("#suggestions [id^=suggest-]")
    expect(suggestions.first).to_be_visible()
    offered = suggestions.count()
    for _ in range(min(2, offered)):
        page.locator("#suggestions [id^=suggest-]").first.click()
        expect(page.locator(".alert-success")).to_be_visible()
    planned = page.locator("[id^=planned-]")
    expect(planned).to_have_count(min(2, offered))

    page.fill("#text", "周五交周报")
    page.click("#add-task")
    expect(page.locator("#tasks")).to_contain_text("周五交周报")
    page.fill("#focus", "续约两家重点客户")
    page.click("#save-focus")
    page.click("#submit-plan")
    expect(page.locator("#plan-status")).to_have_text("已提交")
    assert time.monotonic() - started < 120, "planning a week took over two minutes"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "scrolls sideways"

    sign_out(page)
    sign_in(page, "supervisor1")
    page.goto(plan_url)
    expect(page.locator("#add-visit-form")).to_have_count(0)  # read-only for the supervisor
    page.check("input[name=rating][value=good]")
    page.fill("#comment", "计划清楚，抓紧续约。")
    page.click("#review-plan")
    expect(page.locator("#plan-status")).to_have_text("已点评")

    sign_out(page)
    sign_in(page, "manager1")
    page.goto(plan_url)
    expect(page.locator("#verdicts")).to_contain_text("计划清楚，抓紧续约。")
    expect(page.locator("#plan-locked")).to_be_visible()
