"""Sign-ins kept on the server, so that signing out ends one for good."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.user import User


class UserSession(db.Model):
    """One sign-in of one browser: its cookie carries a random key, the row its hash.

    The cookie is signed, but a copy of it works wherever it is sent; deleting the row
    (signing out) makes every copy worthless, while the user's other sign-ins go on.
    """

    __tablename__ = "user_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256, hex
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship("User")
