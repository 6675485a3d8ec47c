"""Reference data read once per page view: a page builds several queries from it.

Cached on the request's WSGI environ, not on `g`: tests keep one app context over
many requests. Only GET requests cache; a POST may change the very rows (stages,
cadences, teams) and then read them back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import has_request_context, request

T = TypeVar("T")


def per_request(key: str, load: Callable[[], T]) -> T:
    if not has_request_context():
        return load()
    environ = request.environ  # one proxy lookup: this runs for every row of a list
    if environ["REQUEST_METHOD"] != "GET":
        return load()
    cache = environ.setdefault("crm.cache", {})
    if key not in cache:
        cache[key] = load()
    return cache[key]
