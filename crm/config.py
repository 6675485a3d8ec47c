"""Configuration classes; CRM_* environment variables override them at app creation."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# CRM_<name> -> (config key, parser, what it means). The README's table is this one.
ENV_SETTINGS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "ENV": ("ENV_NAME", str, "development (default), production or testing"),
    "SECRET_KEY": ("SECRET_KEY", str, "signs sessions and CSRF tokens; required in production"),
    "DATABASE_URL": (
        "SQLALCHEMY_DATABASE_URI",
        str,
        "SQLAlchemy URL; default sqlite:///instance/crm.sqlite3; required in production "
        "(postgresql+psycopg://user@host/db)",
    ),
    "DB_POOL_SIZE": ("DB_POOL_SIZE", int, "connections per web worker (PostgreSQL), default 5"),
    "BASE_URL": ("BASE_URL", str, "public URL used in email links"),
    "DEFAULT_TIMEZONE": ("DEFAULT_TIMEZONE", str, "time zone for new users, Asia/Shanghai"),
    "SECURE_COOKIES": (
        "SESSION_COOKIE_SECURE",
        _bool,
        "mark cookies Secure (default on in production, off otherwise)",
    ),
    "SESSION_HOURS": ("SESSION_HOURS", int, "hours a sign-in lasts, default 12"),
    "RATELIMIT_STORAGE_URI": (
        "RATELIMIT_STORAGE_URI",
        str,
        "memory:// (default) or redis://127.0.0.1:6379/0 for several workers",
    ),
    "LOGIN_LIMIT_PER_USERNAME": (
        "LOGIN_LIMIT_PER_USERNAME",
        str,
        "failed sign-ins allowed per username, default '5 per 15 minutes'",
    ),
    "LOGIN_LIMIT_PER_IP": (
        "LOGIN_LIMIT_PER_IP",
        str,
        "failed sign-ins allowed per client address, default '30 per 15 minutes'",
    ),
    "API_RATE_LIMIT": (
        "API_RATE_LIMIT",
        str,
        "requests allowed per API token, default '600 per minute' (429 with Retry-After)",
    ),
    "PAGE_SIZE": ("PAGE_SIZE", int, "rows per list page, default 50"),
    "SMTP_HOST": ("SMTP_HOST", str, "SMTP server; unset: emails are written as .eml files"),
    "SMTP_PORT": ("SMTP_PORT", int, "SMTP port, default 25 (587 for starttls, 465 for ssl)"),
    "SMTP_SECURITY": ("SMTP_SECURITY", str, "none (default), starttls or ssl"),
    "SMTP_USER": ("SMTP_USER", str, "SMTP user name, if the server wants one"),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str, "SMTP password"),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", float, "seconds to wait for the SMTP server, default 10"),
    "MAIL_FROM": ("MAIL_FROM", str, "sender address, default crm@localhost"),
    "MAIL_DIR": ("MAIL_DIR", str, "where .eml files go without SMTP, default instance/mail"),
    "REMINDER_MAX_AGE_HOURS": (
        "REMINDER_MAX_AGE_HOURS",
        float,
        "reminders overdue by more than this are not emailed alone after downtime "
        "but go into the next digest, default 2",
    ),
    "MAIL_GIVE_UP_AFTER_HOURS": (
        "MAIL_GIVE_UP_AFTER_HOURS",
        float,
        "an email the SMTP server keeps turning away for now (4xx, down, unreachable) is "
        "retried until it is this old, then marked failed; default 72",
    ),
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": (
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES",
        _bool,
        "let webhooks call receivers on private, loopback or link-local addresses "
        "(an intranet's own systems); off by default",
    ),
    "WEBHOOK_TIMEOUT": (
        "WEBHOOK_TIMEOUT",
        float,
        "seconds a webhook call waits to connect and for each answer, default 5",
    ),
    "WEBHOOK_MAX_ATTEMPTS": (
        "WEBHOOK_MAX_ATTEMPTS",
        int,
        "attempts of a webhook call before it is marked failed, default 20 (about 7 hours)",
    ),
    "LOG_LEVEL": ("LOG_LEVEL", str, "INFO by default"),
    "MAX_DOCUMENT_MB": ("MAX_DOCUMENT_MB", float, "largest document a user may upload, default 25"),
    "DOCUMENT_STORE": (
        "DOCUMENT_STORE",
        str,
        "where documents are kept: local (default, under CRM_DOCUMENT_DIR) or s3",
    ),
    "DOCUMENT_DIR": ("DOCUMENT_DIR", str, "folder of the local store, default instance/documents"),
    "S3_ENDPOINT": ("S3_ENDPOINT", str, "S3-compatible endpoint URL (unset: AWS itself)"),
    "S3_BUCKET": ("S3_BUCKET", str, "bucket of the s3 store (it must exist)"),
    "S3_ACCESS_KEY": ("S3_ACCESS_KEY", str, "access key of the s3 store"),
    "S3_SECRET_KEY": ("S3_SECRET_KEY", str, "secret key of the s3 store"),
    "S3_REGION": ("S3_REGION", str, "region of the s3 store, default us-east-1"),
    "S3_PREFIX": ("S3_PREFIX", str, "folder of the objects in the bucket, default documents/"),
}


def settings_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the config keys set through CRM_* environment variables."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, (key, parse, _) in ENV_SETTINGS.items():
        raw = environ.get(f"CRM_{name}")
        if raw not in (None, ""):
            found[key] = parse(raw)
    if "SESSION_COOKIE_SECURE" in found:
        found["REMEMBER_COOKIE_SECURE"] = found["SESSION_COOKIE_SECURE"]
    return found


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "development"
    SECRET_KEY: str | None = None  # development makes one under instance/ (dev_secret_key)
    SQLALCHEMY_DATABASE_URI: str | None = f"sqlite:///{INSTANCE_DIR / 'crm.sqlite3'}"
    DB_POOL_SIZE = 5
    BASE_URL = "http://127.0.0.1:5000"
    DEFAULT_TIMEZONE = "Asia/Shanghai"
    LOG_LEVEL = "INFO"

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("zh_CN", "en")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    SESSION_HOURS = 12

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Stated, not defaulted: the limiter is one object, and an app that turned it off
    # would otherwise leave it off for the next app built in the same process.
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_USERNAME = "5 per 15 minutes"
    LOGIN_LIMIT_PER_IP = "30 per 15 minutes"
    API_RATE_LIMIT = "600 per minute"

    PAGE_SIZE = 50
    # Request bodies above this are refused before they are read (CSV imports go up to 20 MB).
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    DEMO_ALLOWED = True

    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_SECURITY = "none"
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_TIMEOUT = 10.0
    MAIL_FROM = "crm@localhost"
    MAIL_DIR = str(INSTANCE_DIR / "mail")
    REMINDER_MAX_AGE_HOURS = 2.0
    MAIL_GIVE_UP_AFTER_HOURS = 72.0
    OUTBOX_BATCH = 100
    # A sender renews its claims every third of this while it sends: one that is killed
    # holds its messages back for at most this long.
    OUTBOX_LEASE_SECONDS = 60
    # Webhooks (crm/services/webhooks): short calls; a receiver down for hours still gets
    # the event (pauses double from 30 s to 30 min); receivers inside the network only
    # when an admin of the deployment says so (the address check refuses them otherwise).
    WEBHOOK_TIMEOUT = 5.0
    WEBHOOK_MAX_ATTEMPTS = 20
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    # Documents: one file at most this large; the store is local (under DOCUMENT_DIR) or s3.
    MAX_DOCUMENT_MB = 25.0
    DOCUMENT_STORE = "local"
    DOCUMENT_DIR = str(INSTANCE_DIR / "documents")
    S3_ENDPOINT: str | None = None
    S3_BUCKET: str | None = None
    S3_ACCESS_KEY: str | None = None
    S3_SECRET_KEY: str | None = None
    S3_REGION: str | None = None
    S3_PREFIX = "documents/"


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    # One scratch store per test process, never the developer's instance/documents.
    DOCUMENT_DIR = str(Path(tempfile.gettempdir()) / f"crm-test-documents-{os.getpid()}")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    DEMO_ALLOWED = False


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def check_production(settings: dict[str, Any]) -> None:
    """Refuse to start production without the settings it cannot guess."""
    missing = [
        var
        for var, key in (
            ("CRM_SECRET_KEY", "SECRET_KEY"),
            ("CRM_DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
        )
        if not settings.get(key)
    ]
    if missing:
        raise RuntimeError("Production refuses to start without " + " and ".join(missing))


def dev_secret_key() -> str:
    """A random key kept under instance/, so a development server never runs on a known key."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
