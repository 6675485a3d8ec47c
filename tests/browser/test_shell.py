"""The shell every page shares, in a real browser: sign in, switch language, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm.config import PROJECT_ROOT
from crm.services.demo.organisation import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# The compiled Chinese catalog (under zh_Hans_CN, the name Babel gives the zh_CN locale).
ZH_CATALOGS = list((PROJECT_ROOT / "crm" / "translations").glob("zh*/LC_MESSAGES/messages.mo"))


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator('form[action$="/login"] button[type="submit"]').click()


def test_manager_signs_in_switches_to_english_and_signs_out(page: Page):
    sign_in(page, "manager1")

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#greeting")).to_contain_text("张伟")  # manager1's display name
    expect(page.locator("#lang-zh_CN")).to_have_count(0)  # only the other language is offered
    if ZH_CATALOGS:
        expect(page.locator("#greeting")).to_contain_text("欢迎")
        expect(page.locator("#nav")).to_contain_text("客户")

    page.click("#lang-en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#greeting")).to_contain_text("Welcome")
    expect(page.locator("#nav")).to_contain_text("Customers")
    expect(page.locator("#lang-en")).to_have_count(0)  # only the other language is offered

    page.click("#logout")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#username")).to_be_visible()
    expect(page.locator("#logout")).to_have_count(0)
    page.goto("/")  # signed out for real: home sends us back to the sign-in page
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_sign_in_works_on_a_phone(phone_page: Page):
    page = phone_page
    page.goto("/login")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390, "the sign-in page scrolls sideways on a phone"

    sign_in(page, "manager2")

    expect(page.locator("#greeting")).to_contain_text("刘洋")  # manager2's display name
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(page.locator("#logout")).to_be_hidden()  # the menu is folded away
    toggler.tap()
    expect(page.locator("#logout")).to_be_visible()
    page.locator("#logout").tap()
    expect(page).to_have_url(re.compile(r"/login$"))
