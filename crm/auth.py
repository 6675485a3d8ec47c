"""Session loading for Flask-Login and the on-site redirect check."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import request, session

from crm.services.people import sessions
from models import User

# The session cookie's entry with the key of this browser's sign-in
# (crm/services/people/sessions.py).
SIGN_IN_KEY = "sign_in"


def load_user(session_id: str) -> User | None:
    """Load the user of a session; signing out, a stale token or deactivation ends it."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    return sessions.signed_in_user(int(user_id), token, session.get(SIGN_IN_KEY))


def safe_next_url(target: str | None) -> str | None:
    """Return `target` if it stays on this site, else None (no open redirects)."""
    if not target or target.startswith(("//", "\\")) or "\\" in target:
        return None
    resolved = urlsplit(urljoin(request.host_url, target))
    here = urlsplit(request.host_url)
    if resolved.scheme not in ("http", "https") or resolved.netloc != here.netloc:
        return None
    return resolved.path + (f"?{resolved.query}" if resolved.query else "")
