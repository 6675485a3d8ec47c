"""Every GET route of the URL map is in the bench (issue 18), or excused with a reason.

Read from the app's URL map as the access matrix reads it (tests/test_access_matrix.py):
a new page without a bench entry fails here, naming it. No dataset is needed; that every
entry answers 200 for its roles and only for them is tests/test_bench_small.py's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm import create_app  # noqa: E402
from scripts.benchmark.routes import (  # noqa: E402
    EXCUSED,
    OPEN_TO_ANY,
    ROLES,
    ROUTES,
    _AnyIds,
    endpoint_of,
    registry,
    role_of,
)
from scripts.benchmark.timings import PAGES  # noqa: E402


@pytest.fixture(scope="module")
def url_map():
    return create_app("testing").url_map


def _get_endpoints(url_map) -> set[str]:
    return {rule.endpoint for rule in url_map.iter_rules() if "GET" in rule.methods}


def test_every_get_route_has_a_bench_entry_or_an_excuse(url_map):
    timed = registry(PAGES, url_map)
    missing = sorted(_get_endpoints(url_map) - set(timed) - set(EXCUSED))
    assert not missing, (
        "GET routes the bench does not time: add them to scripts/benchmark/routes.py "
        f"ROUTES (or, if no one opens them as a page, EXCUSED with a reason): {missing}"
    )


def test_every_role_that_may_open_a_route_is_timed(url_map):
    timed = registry(PAGES, url_map)
    for endpoint, route in ROUTES.items():
        assert set(timed[endpoint]) == set(route.roles), endpoint


def test_excuses_are_few_and_name_routes_that_exist_without_entries(url_map):
    gets = _get_endpoints(url_map)
    assert set(EXCUSED) <= gets, sorted(set(EXCUSED) - gets)
    assert not set(EXCUSED) & set(ROUTES)
    assert all(len(reason) > 10 for reason in EXCUSED.values())
    assert len(EXCUSED) <= 10  # a page a user opens is timed, not excused


def test_each_entry_reaches_the_endpoint_it_is_listed_under(url_map):
    for endpoint, route in ROUTES.items():
        assert endpoint_of(url_map, route.url(_AnyIds())) == endpoint, endpoint
        assert route.roles and set(route.roles) <= set(ROLES), endpoint
        assert ("anonymous" in route.roles) <= (endpoint in OPEN_TO_ANY | {"auth.login"})
    for name, page in PAGES.items():
        endpoint = endpoint_of(url_map, page.url(_AnyIds()))
        if endpoint is None:  # the bench's own reference page
            assert page.url(_AnyIds()).startswith("/_bench/"), name
            continue
        # A named page is one of its route's entries: its role may open the route.
        assert role_of(page) in ROUTES[endpoint].roles, (name, endpoint)
