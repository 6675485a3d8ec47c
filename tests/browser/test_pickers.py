"""The searchable parent-group picker in a real browser (static/js/picker.js): two Chinese
characters typed, a group found beyond the page's short list, chosen, and saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm import create_app
from crm.extensions import db
from crm.services.pickers import SHOWN
from models import Customer, User
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

GROUP = "紫金人寿保险集团有限公司"  # sorts after every 批量客户: not in the page's short list


@pytest.fixture
def big_portfolio(live_server, tmp_path: Path) -> int:
    """manager1 with more customers than a picker's page holds, GROUP among the last by name.

    Written into the live server's own copy of the demo (tests/browser/conftest.py puts it
    in the test's tmp_path)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "manager1"))
        names = [f"批量客户{i:03d}号" for i in range(SHOWN + 10)] + [GROUP]
        db.session.add_all(Customer(name=name, name_key=name, owner=owner) for name in names)
        db.session.commit()
        group_id = db.session.scalar(select(Customer.id).where(Customer.name == GROUP))
        db.session.remove()
        db.engine.dispose()
    return group_id


def _saved_parent(tmp_path: Path, name: str) -> int | None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    with app.app_context():
        parent = db.session.scalar(select(Customer.parent_id).where(Customer.name == name))
        db.session.remove()
        db.engine.dispose()
    return parent


def test_a_manager_types_two_characters_picks_the_group_and_saves(
    page: Page, big_portfolio: int, tmp_path: Path
):
    sign_in(page, "manager1")
    page.goto("/customers/new")
    expect(page.locator("#parent_id-value option")).to_have_count(SHOWN + 1)  # "—" + short list
    expect(page.locator(f'#parent_id-value option[value="{big_portfolio}"]')).to_have_count(0)

    page.fill("#name", "紫金人寿江城分公司")
    picker = page.locator("#parent_id")  # the label's target is the type-ahead now
    expect(picker).to_have_attribute("role", "combobox")
    picker.click()
    picker.press_sequentially("人寿", delay=50)
    found = page.locator("[role=listbox] [role=option]", has_text=GROUP)
    expect(found).to_be_visible()
    expect(picker).to_have_attribute("aria-expanded", "true")
    picker.press("ArrowDown")
    expect(found).to_have_attribute("aria-selected", "true")
    picker.press("Enter")  # picks; does not send the form

    expect(picker).to_have_value(GROUP)
    expect(page.locator("#parent_id-value")).to_have_value(str(big_portfolio))
    expect(page).to_have_url(re.compile(r"/customers/new$"))
    page.click("#save-customer")

    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("body")).to_contain_text(GROUP)  # the group tree names the parent
    assert _saved_parent(tmp_path, "紫金人寿江城分公司") == big_portfolio


def test_on_a_phone_a_tap_picks_the_group(phone_page: Page, big_portfolio: int, tmp_path: Path):
    page = phone_page
    sign_in(page, "manager1")
    page.goto("/customers/new")
    page.fill("#name", "紫金人寿海港分公司")

    page.locator("#parent_id").tap()
    page.locator("#parent_id").press_sequentially("人寿")
    page.locator("[role=listbox] [role=option]", has_text=GROUP).tap()

    expect(page.locator("#parent_id")).to_have_value(GROUP)
    page.click("#save-customer")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    assert _saved_parent(tmp_path, "紫金人寿海港分公司") == big_portfolio
