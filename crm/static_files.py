"""Static files under fingerprinted names, kept by browsers for a year.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<hash>.css`, the hash
being the first 8 hex digits of the file's SHA-256. That name is answered with
`Cache-Control: public, max-age=31536000, immutable`: a browser never asks for it again,
and a changed file gets a new name the moment a page names it. The hash goes into the
file's name, not a folder, so a file's relative references still resolve beside it.
The plain name still works, revalidated on every use (Flask's no-cache).

A name whose hash is not the file's (a page rendered before a deploy, an old e-mail, a
typo) is redirected, uncached, to the current name: the new bytes are never kept for a
year under the old name, and a page still on screen does not lose its styles to a 404.

Hashes are computed at first use and kept for the process. Outside production the file's
size and time are checked at every use, so an edit shows on the next page under
scripts/serve; in production a deploy restarts the workers, and the check made when a
fingerprinted name is requested catches a file changed under a running one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass

from flask import Flask, redirect, send_from_directory, url_for
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
# stem.<8 hex>.suffix, the hash in the last part of the path
FINGERPRINTED = re.compile(r"^(?P<stem>.*[^/])\.(?P<digest>[0-9a-f]{8})(?P<suffix>\.[^./]+)$")


@dataclass(frozen=True, slots=True)
class _Hashed:
    path: str
    mtime_ns: int
    size: int
    digest: str


class Fingerprints:
    """The hashes of the files under one static folder, computed once per file version."""

    def __init__(self, folder: str, *, recheck: bool) -> None:
        self.folder = folder
        self.recheck = recheck  # stat the file at every use (outside production)
        self._hashed: dict[str, _Hashed] = {}

    def digest(self, filename: str, *, recheck: bool) -> str | None:
        """The file's hash, or None when there is no such file."""
        known = self._hashed.get(filename)
        if known is not None and not recheck:
            return known.digest
        path = known.path if known is not None else safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            self._hashed.pop(filename, None)
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if known is not None and (known.mtime_ns, known.size) == (st.st_mtime_ns, st.st_size):
            return known.digest
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()[:8]
        self._hashed[filename] = _Hashed(path, st.st_mtime_ns, st.st_size, digest)
        return digest

    def name(self, filename: str) -> str:
        """`css/app.css` → `css/app.<hash>.css`; unchanged without a suffix or a file."""
        stem, dot, suffix = filename.rpartition(".")
        if not dot or not stem or stem.endswith("/") or "/" in suffix:
            return filename
        digest = self.digest(filename, recheck=self.recheck)
        return f"{stem}.{digest}.{suffix}" if digest else filename


def init_app(app: Flask) -> None:
    fingerprints = Fingerprints(app.static_folder, recheck=app.config["ENV_NAME"] != "production")
    app.extensions["static_fingerprints"] = fingerprints

    @app.url_defaults
    def fingerprinted_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = fingerprints.name(values["filename"])

    def static(filename: str):
        """The static view: a fingerprinted name for a year, a plain one revalidated."""
        named = FINGERPRINTED.match(filename)
        if named is None:
            return app.send_static_file(filename)
        plain = named["stem"] + named["suffix"]
        current = fingerprints.digest(plain, recheck=True)
        if current is None:  # not a fingerprint after all: a file of that very name, or 404
            return app.send_static_file(filename)
        if current != named["digest"]:
            response = redirect(url_for("static", filename=plain))
            response.cache_control.no_cache = True
            return response
        response = send_from_directory(app.static_folder, plain, max_age=YEAR)
        response.cache_control.immutable = True
        return response

    app.view_functions["static"] = static
