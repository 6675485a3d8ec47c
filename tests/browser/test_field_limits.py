"""A field's limit is counted as one types, and a longer text is kept to be shortened."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def manager1_customer(demo_database) -> int:
    connection = sqlite3.connect(demo_database)
    try:
        (customer_id,) = connection.execute(
            "SELECT c.id FROM customers c JOIN users u ON u.id = c.owner_id"
            " WHERE u.username = 'manager1' ORDER BY c.id LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    return customer_id


def test_the_contact_name_counts_its_characters_and_is_not_cut(page: Page, manager1_customer):
    sign_in(page, "manager1")
    page.goto(f"/customers/{manager1_customer}/contacts/new")
    counter = page.locator('#name-limit [data-count-for="name"]')
    expect(page.locator("#name-limit")).to_contain_text("最多 100 字")
    expect(counter).to_have_text("0/100")

    page.fill("#name", "王小明")
    expect(counter).to_have_text("3/100")

    page.fill("#name", "张" * 120)  # as a paste would: nothing is cut short
    expect(counter).to_have_text("120/100")
    expect(counter).to_have_class(re.compile(r"\btext-danger\b"))
    assert len(page.input_value("#name")) == 120

    page.select_option("#role", "influencer")
    page.select_option("#attitude", "neutral")
    page.click("#save-contact")
    expect(page.locator(".invalid-feedback").first).to_contain_text("不能超过 100 个字符")
