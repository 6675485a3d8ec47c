"""An axe-core audit of the main pages, for each role: zero violations.

axe-core comes from the axe-playwright-python package (the dev extra), never a CDN.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.conftest import demo_customer_id
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

CUSTOMER = "北辰能源集团有限公司"  # manager1's group account in the demo

# Who signs in, and the pages they open; {customer} is manager1's demo customer, {plan}
# manager1's weekly plan (the review form's page for the supervisor).
PAGES = {
    "manager1": (
        "/",
        "/customers/",
        "/customers/{customer}",
        "/opportunities/board",
        "/reminders/",
        "/visits/new?customer_id={customer}",
        "/visits/",
        "/handovers/",
        "/account",
        "/plans/{plan}",
        "/service/",
        "/service/{ticket}",
        "/service/new?customer_id={customer}",
    ),
    "supervisor1": (
        "/",
        "/customers/{customer}",
        "/opportunities/board",
        "/handovers/",
        "/plans/reviews",
        "/plans/{plan}",
    ),
    "admin": ("/", "/admin/", "/admin/users", "/customers/"),
}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def customer_id(demo_database) -> int:
    return demo_customer_id(demo_database, CUSTOMER)


@pytest.fixture
def plan_id(demo_database) -> int:
    """manager1's latest weekly plan awaiting review (else the latest): the demo's id."""
    with closing(sqlite3.connect(demo_database)) as connection:
        return connection.execute(
            "SELECT p.id FROM work_plans p JOIN users u ON u.id = p.owner_id "
            "WHERE u.username = 'manager1' AND p.kind = 'week' "
            "ORDER BY p.status = 'submitted' DESC, p.starts_on DESC LIMIT 1"
        ).fetchone()[0]


@pytest.fixture
def ticket_id(demo_database) -> int:
    """A resolved service ticket of manager1's (its page offers the most forms)."""
    with closing(sqlite3.connect(demo_database)) as connection:
        return connection.execute(
            "SELECT t.id FROM service_tickets t JOIN customers c ON c.id = t.customer_id "
            "JOIN users u ON u.id = c.owner_id WHERE u.username = 'manager1' "
            "ORDER BY t.status = 'resolved' DESC, t.id LIMIT 1"
        ).fetchone()[0]


def _violations(axe: Axe, page: Page) -> list[str]:
    results = axe.run(page).response
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
    ]


@pytest.mark.parametrize(
    ("username", "language"),
    [("manager1", "zh_CN"), ("supervisor1", "zh_CN"), ("admin", "zh_CN"), ("manager1", "en")],
)
def test_main_pages_have_no_accessibility_violations(
    page: Page, axe, customer_id, plan_id, ticket_id, username, language
):
    sign_in(page, username)
    if language == "en":
        page.click("#lang-en")
        page.wait_for_selector("html[lang='en']")
    found = {}
    for path in PAGES[username]:
        page.goto(path.format(customer=customer_id, plan=plan_id, ticket=ticket_id))
        page.wait_for_load_state("load")
        violations = _violations(axe, page)
        if violations:
            found[path] = violations
    assert not found, "\n".join(f"{path}:\n  " + "\n  ".join(v) for path, v in found.items())


def test_the_sign_in_page_in_english_has_no_accessibility_violations(page: Page, axe):
    page.goto("/login")
    page.click("#lang-en")
    assert _violations(axe, page) == []
