"""Documents over the API: a record's documents, one with its versions, uploads, the bytes.

Every write goes through crm/services/documents/library.py, as the web's upload forms
do: the type sniffed from the bytes (a script renamed .pdf is refused), the size limit
(413), at most ten files at once, versions kept, soft delete with the retention period.
A document is in scope exactly when its customer is; a deleted one answers 404, its file
too. The bytes are streamed from the store by the web's own file-serving code, always as
an attachment (an API client has no viewer to preview in).
"""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from flask import current_app, request, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints.api.auth import api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Id,
    Int,
    ListArgs,
    Str,
    Timestamp,
    max_length,
    page_of,
)
from blueprints.api.pagination import Key, Order, paginate
from blueprints.api.problems import problem, represents
from blueprints.api.refusals import body_names
from blueprints.api.uploads import File
from blueprints.documents.serving import file_response
from crm.permissions import refuse
from crm.services.documents import library, sniffing
from crm.services.documents.storage import StoreError
from models import Customer, Document, DocumentVersion, Opportunity, Visit

blp = ApiBlueprint(
    "api_documents",
    __name__,
    url_prefix="/api/v1/documents",
    description=(
        "Documents (资料) on a customer, an opportunity or a visit: proposals, contracts, "
        "photos; their versions and files."
    ),
)

# The record a document hangs on, by the field that names it; the kind the web's upload
# form offers first on it.
TARGETS = {"customer_id": Customer, "opportunity_id": Opportunity, "visit_id": Visit}
DEFAULT_KIND = {"customer_id": "other", "opportunity_id": "proposal", "visit_id": "site_photo"}
ONE_TARGET = _l("Name one record: customer_id, opportunity_id or visit_id.")
# Loaded with a document's record: its kind and every version with its uploader.
DOCUMENT_RECORD = (
    joinedload(Document.kind),
    selectinload(Document.versions),
)


class _FileUrl(ma.fields.String):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return url_for("api_documents.DocumentFile", document_id=obj.document_id, number=obj.number)


class _KindCode(ma.fields.String):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj.kind.code


class DocumentVersionSchema(ApiSchema):
    number = Int(metadata={"description": "1 for the first upload, then 2, 3 ..."})
    filename = Str(metadata={"description": "The name the file had when it was uploaded."})
    size = Int(metadata={"description": "Bytes."})
    content_type = Str(metadata={"description": "Sniffed from the bytes when uploaded."})
    uploaded_by_id = Int()
    uploaded_at = Timestamp()
    file_url = _FileUrl(dump_only=True, metadata={"description": "GET it for the bytes."})


class DocumentSchema(ApiSchema):
    """A document as a list shows it: with its newest version."""

    id = Int(dump_only=True)
    customer_id = Int()
    opportunity_id = Int(allow_none=True)
    visit_id = Int(allow_none=True)
    kind = _KindCode(metadata={"description": "Its kind's code (/api/v1/documents/kinds)."})
    title = Str()
    current_version = Int(metadata={"description": "The newest version's number."})
    newest = ma.fields.Nested(DocumentVersionSchema, allow_none=True)
    created_by_id = Int()
    created_at = Timestamp()
    updated_at = Timestamp()
    version = Int(metadata={"description": "Send it back with a change (409 when stale)."})


class DocumentRecordSchema(DocumentSchema):
    """One document with every version, the newest first."""

    class Meta(ApiSchema.Meta):
        exclude = ("newest",)

    versions = ma.fields.List(ma.fields.Nested(DocumentVersionSchema))


class UploadedSchema(ApiSchema):
    items = ma.fields.List(ma.fields.Nested(DocumentRecordSchema), required=True)


class KindSchema(ApiSchema):
    code = Str()
    name_zh = Str()
    name_en = Str()


class KindListSchema(ApiSchema):
    items = ma.fields.List(ma.fields.Nested(KindSchema), required=True)


class _OneTarget(ApiSchema):
    """Exactly one of customer_id, opportunity_id and visit_id."""

    customer_id = Id(strict=False, metadata={"description": "A customer in your scope."})
    opportunity_id = Id(strict=False, metadata={"description": "An opportunity in your scope."})
    visit_id = Id(strict=False, metadata={"description": "A visit in your scope."})

    @ma.validates_schema
    def one_target(self, data: dict[str, Any], **kwargs) -> None:
        if len([name for name in TARGETS if data.get(name) is not None]) != 1:
            raise ma.ValidationError(str(ONE_TARGET), field_name="customer_id")


class DocumentListArgs(ListArgs, _OneTarget):
    """Whose documents: a customer's (all of them), an opportunity's or a visit's."""


class UploadSchema(_OneTarget):
    """A multipart upload: one document per file, on the record named."""

    kind = Str(
        validate=max_length(30),
        metadata={
            "description": (
                "A kind's code (/api/v1/documents/kinds); by default other on a customer, "
                "proposal on an opportunity, site_photo on a visit."
            )
        },
    )
    title = Str(
        validate=max_length(200),
        metadata={"description": "For one file; several files keep their own names."},
    )
    files = ma.fields.List(File(), load_default=list, metadata={"description": "One to ten files."})


class VersionUploadSchema(ApiSchema):
    file = File(metadata={"description": "The new version's bytes."})


class DocumentUpdateSchema(ApiSchema):
    title = Str(validate=max_length(200))
    kind = Str(validate=max_length(30), metadata={"description": "A kind's code."})
    version = Int(required=True, metadata={"description": "The version you read."})


DocumentPage = page_of(DocumentSchema, "DocumentPage")
# Newest first, as the panels on the web pages list them.
ORDER = Order(
    "newest",
    (
        Key(Document.created_at, lambda d: d.created_at, True),
        Key(Document.id, lambda d: d.id, True),
    ),
)
_dump_record = DocumentRecordSchema().dump
represents(Document, _dump_record)

FILE_RESPONSE = {
    "description": "The version's bytes, streamed, as an attachment.",
    "content": {
        content_type: {"schema": {"type": "string", "format": "binary"}}
        for content_type in sniffing.KNOWN
    },
    "headers": {
        "Content-Disposition": {
            "description": "attachment, with the file's name.",
            "schema": {"type": "string"},
        }
    },
}


# Uploads: the request may carry several full-size files; too large answers 413 ----------

UPLOADS = {"api_documents.Documents": library.MAX_FILES, "api_documents.DocumentVersions": 1}


@blp.url_value_preprocessor
def allow_large_uploads(endpoint, values) -> None:
    """Set before anything reads the body (each file is checked on its own, by the library)."""
    if endpoint in UPLOADS and request.method == "POST":
        request.max_content_length = UPLOADS[endpoint] * library.max_bytes() + 1024 * 1024


@blp.errorhandler(RequestEntityTooLarge)
def request_too_large(error):
    return problem(413, library.too_large_message())


@blp.errorhandler(library.FileTooLarge)
def file_too_large(error: library.FileTooLarge):
    field = "file" if request.endpoint == "api_documents.DocumentVersions" else "files"
    message = str(error.message)
    return problem(
        413, message, errors=[{"field": field, "location": "multipart", "message": message}]
    )


# Helpers --------------------------------------------------------------------------------


def _target(data: dict[str, Any]) -> tuple[str, Customer | Opportunity | Visit]:
    """The field naming the record and the record, loaded in scope (another team's: 404)."""
    name = next(name for name in TARGETS if data.get(name) is not None)
    return name, load(TARGETS[name], data[name])


def _live(document_id: int, *options: Any) -> Document:
    """The document in scope and not deleted (else 404, as the web's document URLs)."""
    document = load(Document, document_id, *options)
    if document.deleted_at is not None:
        refuse(404, f"deleted document {document_id}", api_user())
    return document


def _kind_id(code: str | None, *, current: Document | None = None) -> int | None:
    """The kind a code names (None: no active kind has it, and the library says so)."""
    if current is not None and code == current.kind.code:
        return current.kind_id  # a document keeps its kind, even one retired since
    kind = library.kind_by_code(code) if code else None
    return kind.id if kind is not None else None


# Routes ---------------------------------------------------------------------------------


@blp.route("/")
class Documents(MethodView):
    @blp.reads
    @blp.arguments(DocumentListArgs, location="query")
    @blp.response(200, DocumentPage)
    def get(self, args: dict[str, Any]):
        """The documents on a customer (all of its own), an opportunity or a visit."""
        _, record = _target(args)
        stmt = library.documents_on_query(record, viewer=api_user())
        return paginate(stmt, ORDER, limit=args["limit"], cursor=args["cursor"])

    @blp.creates
    @blp.arguments(UploadSchema, location="multipart")
    @blp.alt_response(413, response=http.HTTPStatus(413).name)
    @blp.response(201, UploadedSchema)
    def post(self, data: dict[str, Any]):
        """Upload files (multipart/form-data) as new documents, one per file."""
        name, record = _target(data)
        customer = record if isinstance(record, Customer) else record.customer
        uploads = [
            library.Upload(stream=f.stream, filename=f.filename or "")
            for f in data["files"]
            if f.filename
        ]
        with body_names(kind_id="kind"):
            documents = library.upload(
                customer=customer,
                opportunity=record if isinstance(record, Opportunity) else None,
                visit=record if isinstance(record, Visit) else None,
                actor=api_user(),
                uploads=uploads,
                kind_id=_kind_id(data.get("kind", DEFAULT_KIND[name])),
                title=data.get("title"),
            )
        headers = {}
        if len(documents) == 1:
            headers["Location"] = url_for(".DocumentRecord", document_id=documents[0].id)
        return {"items": documents}, 201, headers


@blp.route("/kinds")
class DocumentKinds(MethodView):
    @blp.reads
    @blp.response(200, KindListSchema)
    def get(self):
        """The kinds a document may have (an administrator keeps the list)."""
        return {"items": library.active_kinds()}


@blp.route("/<int:document_id>")
class DocumentRecord(MethodView):
    @blp.reads
    @blp.response(200, DocumentRecordSchema)
    def get(self, document_id: int):
        """One document in your scope, with every version (the newest first)."""
        return _live(document_id, *DOCUMENT_RECORD)

    @blp.updates
    @blp.arguments(DocumentUpdateSchema)
    @blp.response(200, DocumentRecordSchema)
    def patch(self, data: dict[str, Any], document_id: int):
        """Rename it or change its kind; `version` must be the one you read."""
        document = _live(document_id, *DOCUMENT_RECORD)
        with body_names(kind_id="kind"):
            return library.update(
                document,
                actor=api_user(),
                version=data["version"],
                title=data.get("title", document.title),
                kind_id=_kind_id(data.get("kind", document.kind.code), current=document),
            )

    @blp.updates
    @blp.response(204)
    def delete(self, document_id: int):
        """Delete it (hidden now, purged with its files after the retention period)."""
        library.delete(_live(document_id), actor=api_user())


@blp.route("/<int:document_id>/versions")
class DocumentVersions(MethodView):
    @blp.creates
    @blp.arguments(VersionUploadSchema, location="multipart")
    @blp.alt_response(413, response=http.HTTPStatus(413).name)
    @blp.response(201, DocumentRecordSchema)
    def post(self, data: dict[str, Any], document_id: int):
        """Upload a new version (multipart/form-data); the earlier ones are kept."""
        document = _live(document_id, *DOCUMENT_RECORD)
        upload = data.get("file")
        with body_names(files="file"):
            row = library.add_version(
                document,
                actor=api_user(),
                upload=library.Upload(stream=upload.stream, filename=upload.filename or "")
                if upload is not None and upload.filename
                else None,
            )
        location = url_for(".DocumentFile", document_id=document.id, number=row.number)
        return document, 201, {"Location": location}


@blp.route("/<int:document_id>/versions/<int:number>/file")
class DocumentFile(MethodView):
    @blp.reads
    @blp.alt_response(503, response=http.HTTPStatus(503).name)
    @blp.doc(responses={"200": FILE_RESPONSE})
    def get(self, document_id: int, number: int):
        """The bytes of one version, streamed (never held whole in memory)."""
        document = _live(document_id, selectinload(Document.versions))
        version: DocumentVersion | None = library.version_of(document, number)
        if version is None:
            refuse(404, f"version {number} of document {document_id}", api_user())
        try:
            return file_response(
                version.blob_key,
                version.content_type,
                inline=False,
                name=version.filename,
                size=version.size,
            )
        except StoreError:
            current_app.logger.error("document %s: version %s unreadable", document_id, number)
            return problem(503, str(_l("The document store cannot be reached. Try again later.")))
