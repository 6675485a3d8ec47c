"""Static files: fingerprinted names kept a year, a changed file under a new name, and
Chart.js only on the pages that draw a chart (crm/static_files.py)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask, url_for

from crm import static_files
from crm.config import PROJECT_ROOT
from crm.extensions import db
from crm.services.figures.months import add_months
from models import MonthlyFigure

STATIC = PROJECT_ROOT / "static"
STATIC_URL = re.compile(r'(?:src|href)="(/static/[^"]+)"')
LAST_MONTH = add_months(datetime.now(UTC).date().replace(day=1), -1)
YEAR = {"public", "max-age=31536000", "immutable"}


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def static_urls(page: str) -> list[str]:
    urls = STATIC_URL.findall(page)
    assert len(urls) == page.count("/static/"), "every static URL is in a src or href"
    return urls


def assert_kept_a_year(client, url: str) -> None:
    named = static_files.FINGERPRINTED.match(url.removeprefix("/static/"))
    assert named, f"{url} is not fingerprinted"
    with client.get(url) as response:
        assert response.status_code == 200, url
        assert cache_control(response) == YEAR, url
        assert response.data == (STATIC / (named["stem"] + named["suffix"])).read_bytes(), url


@pytest.fixture
def figures_customer(org, make_customer):
    customer = make_customer(org["m1"])
    db.session.add(
        MonthlyFigure(customer_id=customer.id, month=LAST_MONTH, revenue=Decimal(900), source="x")
    )
    db.session.add(
        MonthlyFigure(
            customer_id=customer.id,
            month=add_months(LAST_MONTH, -1),
            revenue=Decimal(800),
            source="x",
        )
    )
    db.session.commit()
    return customer


@pytest.mark.parametrize(
    ("persona", "page", "charts"),
    [
        ("m1", "/", True),
        ("sup1", "/", True),
        ("admin", "/", True),
        ("sup1", "/reports/", True),
        ("m1", "/customers/{id}", False),
        ("m1", "/customers/{id}/figures", True),
        ("m1", "/customers/", False),
        ("m1", "/api/v1/docs", False),
    ],
)
def test_every_static_url_is_fingerprinted_kept_a_year_and_the_file(
    client, login, org, figures_customer, persona, page, charts
):
    login(client, org[persona])

    response = client.get(page.format(id=figures_customer.id))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    urls = static_urls(html)
    assert urls
    for url in urls:
        assert_kept_a_year(client, url)
    # Chart.js (208 KB) only where a chart is drawn, with the script that draws it.
    loads_charts = any("/vendor/chartjs/chart.umd.min." in url for url in urls)
    assert loads_charts is charts
    assert any("/js/charts." in url for url in urls) is charts


def test_a_figures_page_without_figures_loads_no_chart_library(client, login, org, make_customer):
    customer = make_customer(org["m1"])
    login(client, org["m1"])

    html = client.get(f"/customers/{customer.id}/figures").get_data(as_text=True)

    assert 'id="no-figures"' in html
    assert "chart.umd" not in html and "/js/charts." not in html


def test_the_sign_in_page_before_anyone_signs_in(client):
    html = client.get("/login").get_data(as_text=True)

    for url in static_urls(html):
        assert_kept_a_year(client, url)


def test_the_plain_name_still_works_revalidated(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.data == (STATIC / "css" / "app.css").read_bytes()
        assert cache_control(response) == {"no-cache"}


def test_a_wrong_hash_redirects_to_the_current_name_and_a_missing_file_is_404(app, client):
    with app.test_request_context():
        current = url_for("static", filename="css/app.css")

    with client.get("/static/css/app.0badf00d.css") as response:
        assert response.status_code == 302 and response.location == current
        assert cache_control(response) == {"no-cache"}  # the redirect is not kept
    for missing in ("/static/css/nothing.0badf00d.css", "/static/../crm/app.0badf00d.py"):
        assert client.get(missing).status_code == 404


def test_names_without_a_suffix_or_a_file_stay_as_they_are(app):
    with app.test_request_context():
        assert url_for("static", filename="vendor/bootstrap/LICENSE") == (
            "/static/vendor/bootstrap/LICENSE"
        )
        assert url_for("static", filename="css/nothing.css") == "/static/css/nothing.css"
        named = url_for("static", filename="css/app.css")
        # Building the URL of a fingerprinted name again does not add a second hash.
        assert url_for("static", filename=named.removeprefix("/static/")) == named


def small_app(folder, env_name: str) -> Flask:
    """A real Flask app on a folder of its own, so a test may change its files."""
    app = Flask("static-test", static_folder=str(folder))
    app.config["ENV_NAME"] = env_name
    static_files.init_app(app)
    return app


def rewrite(path, text: str) -> None:
    """New content, and a new time even on a file system with coarse times."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


@pytest.mark.parametrize("env_name", ["development", "production"])
def test_a_changed_file_gets_a_new_url_and_the_old_one_leads_to_it(tmp_path, env_name):
    css = tmp_path / "site.css"
    css.write_text("body { color: red; }")
    app = small_app(tmp_path, env_name)
    client = app.test_client()
    with app.test_request_context():
        old = url_for("static", filename="site.css")
    with client.get(old) as response:
        assert response.data == b"body { color: red; }"

    rewrite(css, "body { color: blue; }")  # the same size: the time tells

    with app.test_request_context():
        named = url_for("static", filename="site.css")
    if env_name == "development":
        assert named != old  # scripts/serve: the next page names the new file
    else:
        assert named == old  # production hashes once per process...
    with client.get(old) as response:  # ...and a request for the old name finds the change
        assert response.status_code == 302
        new = response.location
    assert new != old
    with client.get(new) as response:
        assert response.data == b"body { color: blue; }" and cache_control(response) == YEAR
    with app.test_request_context():
        assert url_for("static", filename="site.css") == new  # pages name it from now on
