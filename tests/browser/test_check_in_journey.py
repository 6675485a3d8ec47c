"""On-site check-in and documents in a real browser (issue 16).

On a phone: log a visit with a check-in (the browser context grants geolocation and says
where the phone is), confirm it as the customer's site, then add a photo to the visit; a
refused location still logs the visit. On a desktop: attach a proposal v1 and v2 to an
opportunity and open both versions.
"""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, _open_page
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

# Where the phone says it is: the Bund, Shanghai (accuracy in metres).
HERE = {"latitude": 31.240018, "longitude": 121.490317, "accuracy": 18}
PDF_V1 = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_V2 = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Version 2>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _one(demo_database: Path, sql: str) -> int:
    connection = sqlite3.connect(demo_database)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def manager1_customer_without_site(demo_database: Path) -> int:
    return _one(
        demo_database,
        "SELECT c.id FROM customers c JOIN users u ON u.id = c.owner_id "
        "WHERE u.username = 'manager1' AND c.site_lat IS NULL ORDER BY c.id LIMIT 1",
    )


def manager1_open_opportunity(demo_database: Path) -> int:
    return _one(
        demo_database,
        "SELECT o.id FROM opportunities o JOIN users u ON u.id = o.owner_id "
        "WHERE u.username = 'manager1' AND o.status = 'open' ORDER BY o.id LIMIT 1",
    )


def phone_context(browser, live_server, request, **options):
    return _open_page(
        browser,
        live_server,
        request,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        **options,
    )


@pytest.fixture
def located_phone(browser, live_server, request):
    """A phone whose browser shares its location (permission granted)."""
    yield from phone_context(
        browser, live_server, request, geolocation=HERE, permissions=["geolocation"]
    )


@pytest.fixture
def refusing_phone(browser, live_server, request):
    """A phone whose user said no to sharing the location."""
    yield from phone_context(browser, live_server, request, permissions=[])


def test_manager_checks_in_on_a_phone_and_adds_a_photo(located_phone: Page, demo_database):
    page = located_phone
    customer_id = manager1_customer_without_site(demo_database)
    sign_in(page, "manager1")

    page.goto(f"/visits/new?customer_id={customer_id}")
    site_box = page.locator("#check-in-site")
    expect(site_box).to_be_hidden()  # nothing to confirm before a location
    page.click("#check-in-button")
    expect(page.locator("#check-in-status")).to_contain_text("±18")
    expect(page.locator("#check_in_lat")).to_have_value("31.240018")
    expect(page.locator("#check_in_lng")).to_have_value("121.490317")
    expect(site_box).to_be_visible()
    page.check("#confirm_site")
    page.fill("#outcome", "现场勘查机房，确认专线接入点")
    page.click("#save-visit")

    expect(page).to_have_url(re.compile(r"/visits/\d+$"))
    badge = page.locator("#visit-check-in .check-in-badge")
    expect(badge).to_have_attribute("data-check-in", "on_site")
    expect(page.locator("#check-in-map")).to_have_attribute("href", "geo:31.240018,121.490317")
    visit_url = page.url

    # A photo from the site, on the visit (a phone's file input opens the camera).
    panel = page.locator("#documents")
    panel.locator('input[type="file"]').set_input_files(
        {"name": "机房.png", "mimeType": "image/png", "buffer": png()}
    )
    panel.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(re.escape(visit_url) + r"(#documents)?$"))
    expect(page.locator("#documents-count")).to_have_text("1")
    expect(page.locator("#documents img.document-thumbnail")).to_have_count(1)

    # The customer now has its site, and the work log shows the badge.
    page.goto(f"/customers/{customer_id}")
    expect(page.locator("#customer-site-map")).to_have_attribute("href", "geo:31.240018,121.490317")
    page.goto("/visits/")
    expect(
        page.locator('.visit-row .check-in-badge[data-check-in="on_site"]').first
    ).to_be_visible()


def test_a_refused_location_still_logs_the_visit(refusing_phone: Page, demo_database):
    page = refusing_phone
    customer_id = manager1_customer_without_site(demo_database)
    sign_in(page, "manager1")

    page.goto(f"/visits/new?customer_id={customer_id}")
    page.click("#check-in-button")
    expect(page.locator("#check-in-status")).to_have_class(re.compile("text-danger"))
    expect(page.locator("#check_in_lat")).to_have_value("")
    page.fill("#outcome", "电话沟通续约")
    page.click("#save-visit")

    expect(page).to_have_url(re.compile(r"/visits/\d+$"))
    expect(page.locator("#visit-check-in .check-in-badge")).to_have_count(0)
    expect(page.locator("#visit-check-in")).to_contain_text("未签到")


def test_manager_attaches_proposal_v1_and_v2_and_opens_both(page: Page, demo_database):
    opportunity_id = manager1_open_opportunity(demo_database)
    sign_in(page, "manager1")

    page.goto(f"/opportunities/{opportunity_id}")
    panel = page.locator("#documents")
    panel.locator('input[type="file"]').set_input_files(
        {"name": "解决方案.pdf", "mimeType": "application/pdf", "buffer": PDF_V1}
    )
    panel.locator('select[name="kind_id"]').select_option(label="方案")
    panel.locator('input[name="title"]').fill("专线解决方案")
    panel.locator('button[type="submit"]').click()
    expect(page.locator("#documents")).to_contain_text("专线解决方案")

    page.locator("#documents a", has_text="专线解决方案").click()
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    new_version = page.locator("form.document-upload")  # the document page's one upload form
    new_version.locator('input[type="file"]').set_input_files(
        {"name": "解决方案-v2.pdf", "mimeType": "application/pdf", "buffer": PDF_V2}
    )
    new_version.locator('button[type="submit"]').click()
    versions = page.locator("#versions .version")
    expect(versions).to_have_count(2)

    # Open both: each version serves its own bytes, newest first.
    for number, expected in ((2, PDF_V2), (1, PDF_V1)):
        link = page.locator(f"#version-{number} a", has_text="预览")
        with page.context.expect_page() as opened:
            link.click()
        preview = opened.value
        preview.wait_for_load_state()
        preview.close()
        response = page.request.get(link.get_attribute("href"))
        assert response.ok and response.body() == expected
        assert response.headers["content-type"].startswith("application/pdf")
