"""Per-request caching: values read once per page view, kept on `flask.g`.

A page builds several queries from the same reference data (stages, cadences, the
team's member ids) and prints hundreds of rows through the same URL and number
patterns; `per_request` works each out once. `g` lives as long as the app context,
which Flask opens for each request, so nothing is kept from one request, user or
language to the next. The cache is also dropped when a request ends (init_app): an
app context can outlive a request, as in the tests, which keep one open over many
requests (their client pops CACHE_KEY from `g` too, as it pops Flask-Login's user).

Only GET requests cache: a POST may change the very rows (stages, cadences, teams)
and then read them back. Outside a request (CLI, scheduler) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, g, has_request_context, request

T = TypeVar("T")

CACHE_KEY = "_crm_request_cache"


def per_request(key: str, load: Callable[[], T]) -> T:
    """load(), once per GET request for each key."""
    if not has_request_context():
        return load()
    cache = g.get(CACHE_KEY)  # made only by a GET (this runs for every row of a list)
    if cache is None:
        if request.method != "GET":
            return load()
        cache = {}
        setattr(g, CACHE_KEY, cache)
    if key not in cache:
        cache[key] = load()
    return cache[key]


def init_app(app: Flask) -> None:
    """Drop the cache when a request ends, even where its app context lives on."""

    @app.teardown_request
    def drop_request_cache(_error: BaseException | None) -> None:
        g.pop(CACHE_KEY, None)
