"""Browser fixtures: a live server on a demo SQLite file, and Chromium driven by Playwright.

Chromium is Debian's (/usr/bin/chromium, or the path in CRM_CHROMIUM). Without it the
browser tests skip, unless CRM_REQUIRE_BROWSER or CI is set: then they fail.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from crm import create_app
from crm.config import PROJECT_ROOT
from crm.extensions import db, limiter

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
INSTALL_HINT = "install Debian's chromium: apt-get install -y chromium"
TIMEOUT_MS = 10_000  # a loaded CI machine needs more than expect's 5 s; less than 30 s

_test_failed = pytest.StashKey[bool]()


def _browser_required() -> bool:
    flags = (os.environ.get(name, "").strip().lower() for name in ("CRM_REQUIRE_BROWSER", "CI"))
    return any(flag not in ("", "0", "false", "no") for flag in flags)


def _browser_unavailable(reason: str) -> NoReturn:
    if _browser_required():
        pytest.fail(
            f"browser tests must run here (CI or CRM_REQUIRE_BROWSER) but {reason}; {INSTALL_HINT}",
            pytrace=False,
        )
    pytest.skip(f"{reason}; to run the browser tests {INSTALL_HINT}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    if report.failed:
        item.stash[_test_failed] = True
    return report


# The server ------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite file holding the demo organisation; built once, copied for every test."""
    from crm.services.demo.organisation import load_demo

    path = tmp_path_factory.mktemp("browser") / "demo.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    limiter.reset()
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    # The backup API copies a consistent database whatever state its WAL file is in.
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Skip the access log; errors and tracebacks are still logged."""


@pytest.fixture
def live_server(demo_database, tmp_path) -> Iterator[str]:
    """The app on a random loopback port, over its own copy of the demo database."""
    path = tmp_path / "crm.sqlite3"
    _copy_sqlite(demo_database, path)
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        WTF_CSRF_ENABLED=True,  # the browser posts real forms, tokens included
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()
        limiter.reset()


# The browser -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process."""
    if not Path(CHROMIUM).exists():
        _browser_unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as error:
        _browser_unavailable(f"Playwright is not installed ({error})")
    expect.set_options(timeout=TIMEOUT_MS)  # assertions wait as long as actions do
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # noqa: BLE001 - any launch failure means "no browser"
        playwright.stop()
        _browser_unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


def _open_page(browser, base_url: str, request: pytest.FixtureRequest, **options):
    """A fresh context and page; screenshot on failure; JS errors and CSP blocks fail the test."""
    context = browser.new_context(
        base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai", **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught JavaScript error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"blocked by the CSP: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield page
    finally:
        if request.node.stash.get(_test_failed, False):
            _screenshot(page, request.node.nodeid)
        context.close()
    if problems:
        pytest.fail("the page reported errors:\n" + "\n".join(problems), pytrace=False)


def _screenshot(page, nodeid: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    except Exception as error:  # noqa: BLE001 - a missing screenshot must not hide the failure
        print(f"could not save a screenshot: {error}")


@pytest.fixture
def page(browser, live_server, request):
    """A desktop-sized page whose relative URLs go to the live server."""
    yield from _open_page(browser, live_server, request, viewport=DESKTOP)


@pytest.fixture
def phone_page(browser, live_server, request):
    """A phone-sized touch page (390x844, like a current iPhone)."""
    yield from _open_page(
        browser,
        live_server,
        request,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )


def demo_customer_id(demo_database: Path, name: str) -> int:
    """The id of the demo customer with this name, read from the live server's database."""
    connection = sqlite3.connect(demo_database)
    try:
        return connection.execute("SELECT id FROM customers WHERE name = ?", (name,)).fetchone()[0]
    finally:
        connection.close()
