"""Sign-ins as rows: each browser's sign-in has its own key, and signing out deletes it.

The session cookie carries the key (and the user's session token, which a password
change rotates to end every sign-in at once); the table keeps only a hash of the key.
A sign-in lasts SESSION_HOURS from the moment it was made.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.orm import joinedload, with_expression

from crm.extensions import db
from crm.services.notices.inbox import unread_count_expression
from models import User, UserSession
from models.base import utcnow


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User, *, now: datetime | None = None) -> str:
    """Record a new sign-in of `user`; returns its key, for the cookie only."""
    now = now or utcnow()
    # The user's sign-ins that ran out are of no use to anyone: tidy them away here.
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    key = secrets.token_urlsafe(32)
    hours = current_app.config["SESSION_HOURS"]
    db.session.add(
        UserSession(
            key_hash=_hash(key),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.flush()
    return key


def end_session(key: str | None) -> None:
    """Sign out: the sign-in with this key ends, for every copy of its cookie."""
    if key:
        db.session.execute(delete(UserSession).where(UserSession.key_hash == _hash(key)))


def signed_in_user(
    user_id: int, token: str, key: str | None, *, now: datetime | None = None
) -> User | None:
    """The user of a live sign-in, or None: signed out, expired, password changed, deactivated."""
    if not key:
        return None
    # The bell's unread count comes with the user: no statement of its own on every page;
    # so do the user's team (every home names it) and targets (a manager's home shows them).
    user_load = joinedload(UserSession.user).options(
        with_expression(User.unread_notices, unread_count_expression()),
        joinedload(User.team),
        joinedload(User.target),
    )
    sign_in = db.session.get(UserSession, _hash(key), options=[user_load])
    if sign_in is None or sign_in.user_id != user_id or sign_in.expires_at <= (now or utcnow()):
        return None
    user = sign_in.user
    if not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user
