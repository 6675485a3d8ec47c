"""Users (managers, supervisors, admins) and their teams."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum

if TYPE_CHECKING:
    from models.target import Target


class Role(enum.StrEnum):
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Level(enum.StrEnum):
    JUNIOR = "junior"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class Team(TimestampMixin, db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True), index=True
    )

    # post_update: a team and its supervisor can be created in one flush.
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.username"
    )

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MANAGER, index=True)
    level: Mapped[Level] = mapped_column(str_enum(Level), default=Level.JUNIOR)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session identity: rotating it signs out every other session.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Email preferences: each kind can be switched off; reminders can come early.
    email_reminders: Mapped[bool] = mapped_column(default=True)
    email_daily_digest: Mapped[bool] = mapped_column(default=True)
    email_weekly_digest: Mapped[bool] = mapped_column(default=True)
    reminder_lead_minutes: Mapped[int] = mapped_column(default=0)
    # The local day each digest was last considered (sent, or skipped as empty).
    daily_digest_on: Mapped[date | None] = mapped_column(Date)
    weekly_digest_on: Mapped[date | None] = mapped_column(Date)
    # Secret of the personal calendar feed (.ics); None when revoked or never made.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Unread notices (the bell), loaded with the sign-in (crm/services/people/sessions.py);
    # None where the row was loaded without it.
    unread_notices: Mapped[int | None] = query_expression()

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    # Read-only: targets are written through crm/services/reporting/targets.py.
    target: Mapped[Target | None] = relationship(
        "Target", foreign_keys="Target.user_id", viewonly=True, uselist=False
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    # Flask-Login ------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    # Passwords --------------------------------------------------------------
    def set_password(self, password: str) -> None:
        """Store a scrypt hash and end every session opened with the old password."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.rotate_session()

    def rotate_session(self) -> None:
        """Give the account a new session token: every other session ends."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Roles ------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def is_manager(self) -> bool:
        """An account manager: sees only their own customers."""
        return self.role is Role.MANAGER
