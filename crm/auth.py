"""Session loading for Flask-Login and the on-site redirect check."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import request

from crm.extensions import db
from models import User


def load_user(session_id: str) -> User | None:
    """Load the user of a session; a stale token or deactivated account ends it."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def safe_next_url(target: str | None) -> str | None:
    """Return `target` if it stays on this site, else None (no open redirects)."""
    if not target or target.startswith(("//", "\\")) or "\\" in target:
        return None
    resolved = urlsplit(urljoin(request.host_url, target))
    here = urlsplit(request.host_url)
    if resolved.scheme not in ("http", "https") or resolved.netloc != here.netloc:
        return None
    return resolved.path + (f"?{resolved.query}" if resolved.query else "")
