"""Serving a stored document's bytes: streamed in chunks, never whole in memory, with the
headers that keep a browser from running it (the web's file URLs and the API's download).

`X-Content-Type-Options: nosniff` and a sandboxing CSP on every file; `inline` only when
the caller decided the sniffed type is safe to preview; a UTF-8 name (RFC 5987) beside a
plain ASCII one for old clients.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import IO
from urllib.parse import quote

from flask import Response

from crm.services.documents import library
from crm.services.documents.storage import CHUNK

# The sandbox a served file runs in, should a browser ever render one as a page.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The object in chunks; the stream is closed when done, or when the client leaves."""
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


def _disposition(response: Response, *, inline: bool, name: str) -> None:
    """RFC 6266: a plain ASCII name for old clients, the UTF-8 name (RFC 5987) for the rest."""
    try:
        name.encode("ascii")
        names = {"filename": name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        names = {
            "filename": simple.strip() or "download",
            "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~"),
        }
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", **names)


def file_response(
    key: str, content_type: str, *, inline: bool, name: str, size: int | None = None
) -> Response:
    """The stored object as a streamed response; StoreError when the store cannot give it."""
    stream = library.open_bytes(key)
    response = Response(_chunks(stream), mimetype=content_type, direct_passthrough=True)
    if size is not None:
        response.content_length = size
    _disposition(response, inline=inline, name=name)
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
