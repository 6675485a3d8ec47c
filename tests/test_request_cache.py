"""per_request: one value per GET request, kept on flask.g and never beyond the request."""

from __future__ import annotations

from flask import g, request

from crm.request_cache import CACHE_KEY, per_request


def test_a_get_request_loads_each_key_once_and_keeps_it_on_g(app):
    loads = []
    with app.test_request_context("/"):
        assert per_request("k", lambda: loads.append(1) or len(loads)) == 1
        assert per_request("k", lambda: loads.append(1) or len(loads)) == 1
        assert per_request("other", lambda: "x") == "x"
        assert g.get(CACHE_KEY) == {"k": 1, "other": "x"}
        assert "crm.cache" not in request.environ
    assert loads == [1]


def test_a_post_and_code_outside_a_request_load_every_time(app):
    loads = []
    with app.test_request_context("/", method="POST"):
        per_request("k", lambda: loads.append(1))
        per_request("k", lambda: loads.append(1))
        assert CACHE_KEY not in g
    per_request("k", lambda: loads.append(1))  # the fixture's app context, no request
    assert loads == [1, 1, 1]


def test_each_request_of_the_test_client_starts_without_the_last_ones_cache(app, client):
    """The tests keep one app context (and so one `g`) over many requests; the client
    drops the cache between requests, as a new app context does in production."""
    loads = []

    def probe():
        return str(per_request("probe", lambda: loads.append(1) or len(loads)))

    app.add_url_rule("/_cache_probe", "cache_probe", probe)
    assert client.get("/_cache_probe").text == "1"
    assert client.get("/_cache_probe").text == "2"


def test_the_cache_ends_with_its_request_though_the_app_context_lives_on(app):
    with app.test_request_context("/"):
        assert per_request("k", lambda: "first") == "first"
    with app.test_request_context("/"):  # the fixture's app context, and its g, live on
        assert per_request("k", lambda: "second") == "second"
