"""The customer archive in a real browser: a customer, its people, a competitor, the map."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def test_manager_builds_a_customer_and_sees_the_relationship_map(page: Page):
    sign_in(page, "manager1")

    page.goto("/customers/new")
    page.fill("#name", "江城浏览器测试科技有限公司")
    page.fill("#region", "江城市")
    page.click("#save-customer")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("#customer-name")).to_have_text("江城浏览器测试科技有限公司")
    customer_url = page.url
    customer_id = int(customer_url.rsplit("/", 1)[1])

    page.goto(f"/customers/{customer_id}/contacts/new")
    page.fill("#name", "周总")
    page.fill("#title", "总经理")
    page.select_option("#role", "decision_maker")
    page.select_option("#attitude", "supporter")  # both start on "choose"
    page.click("#save-contact")
    expect(page.locator("body")).to_contain_text("周总")

    page.goto(f"/customers/{customer_id}/contacts/new")
    page.fill("#name", "钱主任")
    page.fill("#title", "信息中心主任")
    page.select_option("#role", "influencer")
    page.select_option("#attitude", "neutral")
    boss_id = page.locator("#reports_to_id option", has_text="周总").get_attribute("value")
    page.select_option("#reports_to_id", boss_id)
    page.click("#save-contact")
    expect(page.locator("body")).to_contain_text("钱主任")

    page.goto(f"/customers/{customer_id}/competitors/new")
    page.select_option("#competitor_id", label="中国联通")
    page.select_option("#threat", "high")
    page.fill("#offer", "专线首年八折")
    page.fill("#confirmed_on", date.today().isoformat())
    page.click("#save-profile")
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}"))
    expect(page.locator("body")).to_contain_text("中国联通")
    # The customer page no longer warns that nobody decides; its timeline shows the work.
    page.goto(customer_url)
    expect(page.locator("#no-decision-maker")).to_have_count(0)
    expect(page.locator("#timeline .timeline-archive")).to_have_count(4)

    page.goto(f"/customers/{customer_id}/map")
    boss = page.locator("li.org-branch", has=page.locator("> div .org-name", has_text="周总"))
    expect(boss).to_have_attribute("data-depth", "1")
    report = boss.locator("li.org-branch", has=page.locator("> div .org-name", has_text="钱主任"))
    expect(report).to_have_attribute("data-depth", "2")
