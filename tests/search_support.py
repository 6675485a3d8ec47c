"""What the search-index tests share: customers saved with their name key, and the searches
as they were before the bigram index (the LIKEs over every row in scope)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crm.services.archive import search_index
from crm.services.archive.identity import normalise_name


def keyed_customer(make_customer, owner, name):
    """A customer with its name key, as the archive's form saves it."""
    return make_customer(owner, name, name_key=normalise_name(name))


@contextmanager
def likes_alone(monkeypatch) -> Iterator[None]:
    """Inside: no search is narrowed by the index."""
    with monkeypatch.context() as patched:
        patched.setattr(search_index, "narrowing", lambda texts, credit_code, **options: None)
        yield


def same_as_likes_alone(find: Callable[..., set[str]], monkeypatch, user, q: str, **filters):
    """What `find(user, q, **filters)` finds, checked against the LIKEs alone."""
    names = find(user, q, **filters)
    with likes_alone(monkeypatch):
        assert names == find(user, q, **filters), q
    return names
