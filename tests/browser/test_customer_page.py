"""The customer page on a phone: contacts that read, a page of bounded length, the hub's links."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm.services.activity import timeline
from tests.browser.conftest import PHONE, demo_customer_id
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

CUSTOMER = (
    "北辰能源集团有限公司"  # manager1's busiest account in the demo: 5 contacts, a long history
)
# The page ends within this many phone screens (about 5.5 now; it took 11 before).
MAX_SCREENS = 6.5


@pytest.fixture
def customer_id(demo_database) -> int:
    return demo_customer_id(demo_database, CUSTOMER)


def test_the_customer_page_reads_on_a_phone(phone_page: Page, customer_id: int):
    page = phone_page
    sign_in(page, "manager1")
    page.goto(f"/customers/{customer_id}")
    expect(page.locator("#customer-name")).to_have_text(CUSTOMER)

    names = page.locator("#customer-contacts td.contact-name")
    expect(names.first).to_be_visible()
    assert names.count() >= 5
    for index in range(names.count()):
        cell = names.nth(index).bounding_box()
        assert cell["width"] > 80, f"contact {index} squeezed to {cell['width']:.0f} px"
        link = names.nth(index).locator("a")
        size = link.evaluate("a => parseFloat(getComputedStyle(a).fontSize)")
        # One line: a name broken one character per line is several font sizes tall.
        assert link.bounding_box()["height"] < 2 * size, f"contact {index} wraps"

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= MAX_SCREENS * PHONE["height"], f"{height / PHONE['height']:.1f} screens"
    # The newest few, and any more sharing the oldest one's instant (the demo logs some together).
    assert page.locator("#timeline > li").count() >= timeline.LATEST

    # The rest of the timeline is one tap away; the hub's buttons are there too.
    expect(page.locator("#new-opportunity")).to_be_visible()
    page.locator("#timeline-more").tap()
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}/timeline\?"))
    expect(page.locator("#timeline > li").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
