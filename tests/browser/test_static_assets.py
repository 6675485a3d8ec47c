"""Static files in Chromium: kept in its cache from one page to the next (no revalidation),
Chart.js only where a chart is drawn, Swagger UI from fingerprinted files."""

from __future__ import annotations

import pytest
from flask import request, request_started
from playwright.sync_api import Page, expect

from crm.static_files import FINGERPRINTED
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server_paths():
    """The path of every request that reached the live server (it runs in this process)."""
    paths: list[str] = []

    def record(sender, **extra):
        paths.append(request.path)

    request_started.connect(record)
    yield paths
    request_started.disconnect(record)


def static_paths(paths: list[str]) -> list[str]:
    # Not the icon: Chromium's favicon loader asks again on its own terms, whatever the
    # cache headers (it revalidates /favicon.ico's day-long max-age as well).
    return [p for p in paths if p.startswith("/static/") and not p.startswith("/static/favicon.")]


def test_the_next_pages_take_every_static_file_from_the_browser_cache(page: Page, server_paths):
    sign_in(page, "manager1")
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "1")
    fetched = static_paths(server_paths)
    assert any("/vendor/chartjs/" in path for path in fetched)
    assert all(FINGERPRINTED.match(path.removeprefix("/static/")) for path in fetched)
    server_paths.clear()

    page.goto("/customers/")
    expect(page.locator("h1")).to_be_visible()
    assert page.evaluate("typeof Chart") == "undefined"  # no chart here, no chart library
    page.goto("/")
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "1")

    assert "/customers/" in server_paths and "/" in server_paths  # pages are never cached
    assert static_paths(server_paths) == []  # not even a revalidation (it was 3-6 a page)


def test_the_api_docs_draw_swagger_ui_from_fingerprinted_files(page: Page, server_paths):
    page.goto("/api/v1/docs")

    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    fetched = static_paths(server_paths)
    assert len(fetched) == 3  # Swagger UI's CSS and script, and the script that starts it
    assert all(FINGERPRINTED.match(path.removeprefix("/static/")) for path in fetched)
