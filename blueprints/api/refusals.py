"""Refusals the resource modules share: a service's field named as the body names it, and a
query filter refused with its name.

The visits service says `occurred_on` (the web form's date input), the handover service
`to_owner` (the form's select): over the API those fields are `occurred_at` and
`to_owner_id`, and a problem's field list must name what the client sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext as _

from blueprints.api.problems import Problem, problem
from crm.services.errors import DomainError


@contextmanager
def body_names(**names: str) -> Iterator[None]:
    """Within the block, a DomainError's field `old` is reported as `names[old]`."""
    try:
        yield
    except DomainError as error:
        if error.field in names:
            error.field = names[error.field]
        raise


@contextmanager
def in_path(*fields: str) -> Iterator[None]:
    """Within the block, a DomainError on one of `fields` names the path as its location
    (DELETE .../contacts/{contact_id}: the id the service refuses came in the URL)."""
    try:
        yield
    except DomainError as error:
        if error.field in fields:
            error.location = "path"
        raise


def refuse_query(field: str, message: str) -> None:
    """Answer 422 for a query parameter the token user may not use this way."""
    raise Problem(
        problem(
            422,
            _("The request has invalid fields; nothing was changed."),
            kind="validation",
            errors=[{"field": field, "location": "query", "message": str(message)}],
        )
    )


def admin_filter(field: str) -> None:
    """The web lists offer some filters (a team) to administrators only."""
    refuse_query(field, _("Only an administrator filters by team."))
