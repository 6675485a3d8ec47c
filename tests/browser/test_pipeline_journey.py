"""A manager's day in a real browser: a visit on the phone, an opportunity dragged across the
board and lost to a competitor; the supervisor sees it on the team board."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

CUSTOMER = "北辰能源集团有限公司"  # manager1's group account in the demo
TITLE = "智慧园区5G专网浏览器演示"


@pytest.fixture
def demo_ids(demo_database) -> dict[str, int]:
    """Ids in the demo database the live server copies (the same ids there)."""
    connection = sqlite3.connect(demo_database)
    try:
        ids = {
            "customer": connection.execute(
                "SELECT id FROM customers WHERE name = ?", (CUSTOMER,)
            ).fetchone()[0]
        }
        for name_en, stage_id in connection.execute("SELECT name_en, id FROM stages"):
            ids[name_en] = stage_id
    finally:
        connection.close()
    return ids


def _card_in(page: Page, stage_id: int, opportunity_id: int):
    return page.locator(f'.board-cards[data-stage-id="{stage_id}"] #opportunity-{opportunity_id}')


def test_manager_logs_visits_moves_and_loses_an_opportunity_supervisor_sees_it(
    phone_page: Page, page: Page, browser, live_server, demo_ids
):
    customer_id = demo_ids["customer"]
    follow_up = date.today() + timedelta(days=3)

    # On the road: one short form on the phone, with the next follow-up date.
    sign_in(phone_page, "manager1")
    phone_page.goto(f"/visits/new?customer_id={customer_id}")
    phone_page.locator('#visit-kind label[for="kind-1"]').tap()  # a phone call
    phone_page.locator("#contacts-met input").first.check()
    phone_page.fill("#purpose", "了解园区 5G 专网需求")
    phone_page.fill("#outcome", "信息中心希望下月看方案")
    phone_page.fill("#next_step", "带方案上门演示园区专网")
    phone_page.fill("#follow_up_on", follow_up.isoformat())
    phone_page.locator("#save-visit").tap()
    expect(phone_page).to_have_url(re.compile(r"/visits/\d+$"))
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the visit page scrolls sideways on a phone"
    phone_page.goto("/reminders/")
    expect(phone_page.locator("body")).to_contain_text("带方案上门演示园区专网")

    # At the desk: the opportunity, then two moves on the board.
    sign_in(page, "manager1")
    page.goto(f"/opportunities/new?customer_id={customer_id}")
    page.fill("#title", TITLE)
    page.fill("#amount", "880000")
    page.click("#save-opportunity")
    expect(page).to_have_url(re.compile(r"/opportunities/\d+$"))
    opportunity_id = int(page.url.rsplit("/", 1)[1])

    page.goto(f"/opportunities/board?q={TITLE}")
    card = _card_in(page, demo_ids["Initial contact"], opportunity_id)
    expect(card).to_be_visible()
    target = page.locator(f'.board-cards[data-stage-id="{demo_ids["Needs discovery"]}"]')
    move_url = f"/opportunities/{opportunity_id}/stage"
    # The drop POSTs the move, then the board reloads for fresh totals.
    with page.expect_response(lambda r: r.url.endswith(move_url)), page.expect_navigation():
        card.drag_to(target)
    expect(_card_in(page, demo_ids["Needs discovery"], opportunity_id)).to_be_visible()

    # The second move with the card's plain form (what works without JavaScript).
    page.select_option(f"#move-{opportunity_id}", str(demo_ids["Solution design"]))
    page.locator(f"#opportunity-{opportunity_id} form.board-move button").click()
    expect(_card_in(page, demo_ids["Solution design"], opportunity_id)).to_be_visible()
    expect(page.locator(f"#opportunity-{opportunity_id}")).to_have_count(1)

    # Lost to a competitor, from the opportunity page.
    page.goto(f"/opportunities/{opportunity_id}")
    lost_form = page.locator("#lost-form")
    lost_form.locator("#reason").select_option("competitor")
    winner = lost_form.locator("#competitor_id option", has_text="中国电信").get_attribute("value")
    lost_form.locator("#competitor_id").select_option(winner)
    lost_form.locator("#note").fill("对方报价低两成")
    lost_form.locator("button[type=submit]").click()
    expect(page.locator("#lost-reason")).to_contain_text("中国电信")

    # Its history records every step, and the customer's timeline shows them.
    page.goto(f"/customers/{customer_id}?kinds=stage")
    expect(page.locator("#timeline .timeline-stage", has_text=TITLE)).to_have_count(4)

    # The supervisor sees the lost opportunity on the team board (lost ones on request).
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    supervisor = context.new_page()
    try:
        sign_in(supervisor, "supervisor1")
        supervisor.goto(f"/opportunities/board?q={TITLE}")
        expect(supervisor.locator(f"#opportunity-{opportunity_id}")).to_have_count(0)
        supervisor.select_option("#f-status", "lost")
        supervisor.click("#apply-filters")
        lost_card = _card_in(supervisor, demo_ids["Solution design"], opportunity_id)
        expect(lost_card).to_be_visible()
        expect(lost_card).to_contain_text("张伟")  # manager1, the owner
    finally:
        context.close()
