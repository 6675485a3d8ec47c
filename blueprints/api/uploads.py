"""Multipart bodies of the API: files with their fields, in one schema and one requestBody.

webargs reads the form and the files as two locations, and flask-smorest documents one
body per operation; an upload has both (the files, and the kind and title they get). The
`multipart` location reads them together, and is documented as multipart/form-data.
An upload's files are received by werkzeug into temporary files, never whole in memory;
the Idempotency-Key's fingerprint reads them in chunks (`body_digest`).
"""

from __future__ import annotations

import hashlib

import marshmallow as ma
from flask import Request, request
from flask_babel import lazy_gettext as _l
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from blueprints.api.fields import BASE_MESSAGES
from crm.services.documents.storage import CHUNK

MULTIPART = "multipart/form-data"


class ApiParser(FlaskParser):
    """flask-smorest's parser with the `multipart` location: the form and its files."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Request, schema: ma.Schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class File(ma.fields.Field):
    """One uploaded file of a multipart body (documented as a binary string)."""

    default_error_messages = {**BASE_MESSAGES, "invalid": _l("Send a file.")}

    def __init__(self, *args, **kwargs) -> None:
        metadata = kwargs.pop("metadata", {})
        super().__init__(
            *args, metadata={"type": "string", "format": "binary", **metadata}, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


def body_digest() -> bytes:
    """What an Idempotency-Key's fingerprint hashes of the body: the bytes as sent, or for
    an upload its fields and the files' bytes, read in chunks (never whole in memory)."""
    if request.mimetype != MULTIPART:
        return request.get_data()
    digest = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)

    for name, value in sorted(request.form.items(multi=True)):
        add(name, value)
    for name, upload in request.files.items(multi=True):
        add(name, upload.filename or "")
        while chunk := upload.stream.read(CHUNK):
            add(chunk)
        upload.stream.seek(0)  # the view reads it again
    return digest.hexdigest().encode()
