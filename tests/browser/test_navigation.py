"""The navigation bar on a laptop screen: one line per link; admin pages under Settings."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm.templating import SETTINGS
from tests.browser.conftest import _open_page
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop_page(browser, live_server, request):
    yield from _open_page(browser, live_server, request, viewport=LAPTOP)


@pytest.fixture
def laptop_page_without_javascript(browser, live_server, request):
    yield from _open_page(browser, live_server, request, viewport=LAPTOP, java_script_enabled=False)


def _wrapped_links(page: Page) -> list[str]:
    """The bar's links and buttons taller than one line of their text."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#nav .nav-link')].filter((link) => {
            const style = getComputedStyle(link);
            const line = parseFloat(style.lineHeight);
            const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
            return link.getBoundingClientRect().height - padding > line * 1.5;
        }).map((link) => link.textContent.trim())"""
    )


@pytest.mark.parametrize("username", ["admin", "supervisor1", "manager1"])
def test_no_navigation_link_wraps_at_1366_pixels_in_either_language(laptop_page, username):
    page = laptop_page
    sign_in(page, username)
    expect(page.locator("#nav")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.locator("#nav .nav-link").count() > 5
    assert _wrapped_links(page) == [], "Chinese"

    page.click("#lang-en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Measure once the stylesheets are in: a busy machine lays the bar out before them.
    page.wait_for_load_state("load")
    assert _wrapped_links(page) == [], "English"
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= LAPTOP["width"], "the page scrolls sideways"


def test_admin_pages_are_under_one_settings_menu(laptop_page):
    page = laptop_page
    sign_in(page, "admin")
    menu = page.locator("#nav .dropdown-menu")
    expect(menu).to_be_hidden()
    expect(page.locator("#nav > ul > li > a.nav-link[href='/admin/users']")).to_have_count(0)

    page.click("#nav-settings")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="用户").click()

    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(page.locator("#nav-settings")).to_have_class(re.compile(r"\bactive\b"))


def test_without_javascript_settings_opens_a_page_listing_the_admin_pages(
    laptop_page_without_javascript,
):
    page = laptop_page_without_javascript
    sign_in(page, "admin")

    page.click("#nav-settings")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    links = page.locator("#settings-list a")
    expect(links).to_have_count(len(SETTINGS))  # every admin page, System settings too
    page.locator("#settings-list a[href='/admin/stages/']").click()
    expect(page).to_have_url(re.compile(r"/admin/stages/$"))


def test_managers_see_no_settings_menu(laptop_page):
    sign_in(laptop_page, "manager1")
    expect(laptop_page.locator("#nav")).to_be_visible()
    expect(laptop_page.locator("#nav-settings")).to_have_count(0)
