"""Uploaded import files kept between the dry run and the commit.

Each file is stored under instance/imports/<token>.csv with a .json beside it
naming the user who uploaded it; only that user can commit it, and it is
deleted after the commit. Files left behind are swept after a day.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import current_app

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"  # noqa: S105 - a format, not a secret
MAX_AGE_SECONDS = 24 * 3600


def upload_dir() -> Path:
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _paths(token: str) -> tuple[Path, Path]:
    if not re.match(TOKEN_PATTERN, token or ""):
        raise ValueError("bad upload token")
    directory = upload_dir()
    return directory / f"{token}.csv", directory / f"{token}.json"


def sweep_old_uploads() -> None:
    """Delete uploads nobody committed within a day."""
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in upload_dir().glob("*.*"):
        if path.suffix in (".csv", ".json") and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def keep_upload(data: bytes, *, user_id: int, kind: str, encoding: str, filename: str) -> str:
    """Store the file for the commit; return the token that names it."""
    sweep_old_uploads()
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(token)
    data_path.write_bytes(data)
    meta = {"user_id": user_id, "kind": kind, "encoding": encoding, "filename": filename}
    meta_path.write_text(json.dumps(meta))
    return token


def load_upload(token: str, user_id: int) -> tuple[bytes, dict[str, Any]] | None:
    """The stored file and what it is, if it exists and this user uploaded it."""
    try:
        data_path, meta_path = _paths(token)
        meta = json.loads(meta_path.read_text())
        if meta.get("user_id") != user_id:
            return None
        return data_path.read_bytes(), meta
    except (ValueError, OSError):
        return None


def discard_upload(token: str) -> None:
    try:
        for path in _paths(token):
            path.unlink(missing_ok=True)
    except ValueError:
        pass
