"""Personal access tokens of the JSON API: made on the account page, shown once, kept hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.services.errors import DomainError, NotAllowed
from models import ApiToken, TokenScope, User

# What a token starts with: secret scanners and people recognise it, and a token pasted
# into the wrong place (a password field, a URL) is easy to spot in a review.
TOKEN_MARK = "crm_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = 8
# The expiry choices on the account page, in days; a token lives a year at most.
LIFETIMES = (7, 30, 90, 180, 365)
DEFAULT_LIFETIME = 90
# last_used_at is written at most this often per token (not one UPDATE per request).
USE_RECORDED_EVERY = timedelta(minutes=1)
NAME_MAX = 100


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown to its user once and kept nowhere."""

    token: ApiToken
    secret: str


def create_token(
    *, actor: User, name: str, scope: TokenScope | str, lifetime_days: int
) -> NewToken:
    """Make a token for the actor; the secret is returned here and never again."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Give the token a name, e.g. the script that will use it."), "name")
    if len(name) > NAME_MAX:
        raise DomainError(_l("At most %(n)d characters.", n=NAME_MAX), "name")
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise DomainError(_l("Choose what the token may do."), "scope")
    if lifetime_days not in LIFETIMES:
        raise DomainError(_l("Choose how long the token stays valid."), "lifetime_days")
    if not actor.active:
        raise NotAllowed(_l("A deactivated account cannot make tokens."))
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = f"{TOKEN_MARK}{prefix}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    token = ApiToken(
        user=actor,
        name=name,
        scope=scope,
        prefix=f"{TOKEN_MARK}{prefix}",
        secret_hash=hash_secret(secret),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days),
    )
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def token_by_secret(secret: str) -> ApiToken | None:
    """The token this secret belongs to, with its user, whether usable or not (None if none)."""
    if not secret.startswith(TOKEN_MARK) or len(secret) > 200:
        return None
    return db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.secret_hash == hash_secret(secret))
    )


def usable(token: ApiToken | None, now: datetime | None = None) -> bool:
    """Not revoked, not expired, and its user still active."""
    now = now or datetime.now(UTC)
    return token is not None and token.usable_at(now) and token.user.active


def record_use(token: ApiToken, now: datetime | None = None) -> bool:
    """Note that the token was used; True when a row was written (at most once a minute)."""
    now = now or datetime.now(UTC)
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORDED_EVERY:
        return False
    token.last_used_at = now
    db.session.flush()
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, usable ones first, newest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(stmt))


def revoke_token(token: ApiToken, *, actor: User) -> ApiToken:
    """Stop a token at once; its user or an administrator may."""
    if actor.id != token.user_id and not actor.is_admin:
        raise NotAllowed(_l("Only the token's owner or an administrator may revoke it."))
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        token.revoked_by_id = actor.id
        db.session.flush()
    return token


def revoke_all(user: User, *, actor: User) -> int:
    """Revoke every token of the user (deactivation); the number revoked."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
