"""Rendering emails in the recipient's language and time zone, with links back to the app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale

from models import User


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link on CRM_BASE_URL; works without a request (the scheduler has none)."""
    # Bound once per app: binding cost as much as building (an import's webhook per
    # customer builds 100,000 links). Building reads the adapter and changes nothing in it.
    adapter = current_app.extensions.get("crm.external_urls")
    if adapter is None:
        adapter = current_app.extensions["crm.external_urls"] = current_app.url_map.bind(
            "localhost"
        )
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


# An id no record has, to find where a built link holds its id.
_MARKER = 987654321


def as_pattern(link_for: Callable[[int], str]) -> str:
    """The link `link_for` builds for an id, as a str.format pattern: "/customers/{}".

    For links to many records of one kind (a list's rows, an import's webhook payloads):
    the route is looked up once, not once per record."""
    link = link_for(_MARKER)
    return link.replace("{", "{{").replace("}", "}}").replace(str(_MARKER), "{}")


def local_time(value: datetime | None, user: User, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt, tzinfo=ZoneInfo(user.timezone), locale=user.locale)


def render(name: str, user: User, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) of templates/email/<name>.{subject,txt,html} for `user`."""
    env = current_app.jinja_env
    context = {"user": user, "url": external_url, "local_time": local_time, **context}
    with force_locale(user.locale):
        subject = env.get_template(f"email/{name}.subject.txt").render(**context).strip()
        text = env.get_template(f"email/{name}.txt").render(**context)
        html = env.get_template(f"email/{name}.html").render(**context)
    return " ".join(subject.split()), text, html
