"""Personal access tokens of the JSON API, and the answers it keeps for retried creates."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from models.user import User


class TokenScope(enum.StrEnum):
    """What a token may do: read only, or read and write (never more than its user)."""

    READ = "read"
    READ_WRITE = "read_write"


class ApiToken(db.Model):
    """A personal access token: a script acts as its user, within the user's scope.

    Only a SHA-256 hash of the secret is kept: the secret has 256 bits of randomness,
    so a plain hash is as good as a slow one and lets each request find its token by
    one indexed lookup. `prefix` is a short part of the secret shown to tell tokens apart;
    it is not enough to use one.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope), default=TokenScope.READ)
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()

    @property
    def can_write(self) -> bool:
        return self.scope is TokenScope.READ_WRITE


class IdempotencyKey(db.Model):
    """The answer to a POST sent with an `Idempotency-Key`: a retry gets it again.

    Saved in the same transaction as what the POST created, so a create and its key
    are kept together or not at all; the unique key per user makes a concurrent retry
    fail its commit instead of creating a second record.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        # Old keys are dropped by age.
        Index("ix_idempotency_keys_created_at", "created_at"),
    )
