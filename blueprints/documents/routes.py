"""Documents: upload on a customer, opportunity or visit; the document page; the bytes.

Every document URL loads the document in scope (its customer's scope): out of scope,
deleted or absent all answer 404, the file URLs too. Files are served with
`X-Content-Type-Options: nosniff`, a sandboxing CSP, and as attachments unless their
sniffed type is one the browser's own viewer shows safely (PDF, JPEG, PNG, WebP) and
the preview was asked for (?inline=1).
"""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints.common import confirm_or_ask, write
from blueprints.documents import bp
from blueprints.documents.forms import ConfirmForm, DocumentForm, UploadForm, VersionForm
from blueprints.documents.serving import file_response
from crm.permissions import get_in_scope_or_404
from crm.services.documents import library, sniffing
from crm.services.documents.storage import StoreError
from models import Customer, Document, DocumentVersion, Opportunity, Visit

DOCUMENT_PAGE = (
    joinedload(Document.kind),
    joinedload(Document.customer),
    joinedload(Document.opportunity),
    joinedload(Document.visit),
    joinedload(Document.created_by),
    selectinload(Document.versions).joinedload(DocumentVersion.uploaded_by),
)
UPLOAD_ENDPOINTS = frozenset(
    {
        "documents.upload_to_customer",
        "documents.upload_to_opportunity",
        "documents.upload_to_visit",
        "documents.new_version",
    }
)


def _locale() -> str:
    return str(get_locale())


@bp.url_value_preprocessor
def allow_large_uploads(endpoint, values) -> None:
    """Upload requests may carry several full-size files (each is checked on its own).

    Set before any hook reads the body (the CSRF check does, in before_request).
    """
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = library.MAX_FILES * library.max_bytes() + 1024 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    return render_template(
        "documents/problem.html", status=413, message=library.too_large_message()
    ), 413


# Upload -----------------------------------------------------------------------------


def _upload_page(customer: Customer, *, opportunity=None, visit=None, kind_code: str, to: str):
    form = UploadForm(locale=_locale(), kind_code=kind_code)
    status = 200
    if form.validate_on_submit():
        uploads = [
            library.Upload(stream=f.stream, filename=f.filename or "")
            for f in (form.files.data or [])
            if f is not None and getattr(f, "filename", None)
        ]
        outcome = write(
            lambda: library.upload(
                customer=customer,
                opportunity=opportunity,
                visit=visit,
                actor=current_user,
                uploads=uploads,
                kind_id=form.kind_id.data,
                title=form.title.data,
            ),
            done=lambda docs: ngettext(
                "%(num)d document is uploaded.", "%(num)d documents are uploaded.", len(docs)
            ),
            to=to,
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        status = 413 if isinstance(outcome.error, library.FileTooLarge) else outcome.status
    elif form.errors:
        status = 400
    return render_template(
        "documents/upload.html",
        form=form,
        customer=customer,
        opportunity=opportunity,
        visit=visit,
        back=to,
        accept=sniffing.ACCEPT,
        photos=kind_code == "site_photo",
    ), status


@bp.route("/customers/<int:customer_id>/documents", methods=["GET", "POST"])
@login_required
def upload_to_customer(customer_id: int):
    customer = get_in_scope_or_404(Customer, customer_id, current_user)
    return _upload_page(
        customer,
        kind_code="other",
        to=url_for("customers.show", customer_id=customer.id, _anchor="documents"),
    )


@bp.route("/opportunities/<int:opportunity_id>/documents", methods=["GET", "POST"])
@login_required
def upload_to_opportunity(opportunity_id: int):
    opportunity = get_in_scope_or_404(
        Opportunity, opportunity_id, current_user, joinedload(Opportunity.customer)
    )
    return _upload_page(
        opportunity.customer,
        opportunity=opportunity,
        kind_code="proposal",
        to=url_for("opportunities.show", opportunity_id=opportunity.id, _anchor="documents"),
    )


@bp.route("/visits/<int:visit_id>/documents", methods=["GET", "POST"])
@login_required
def upload_to_visit(visit_id: int):
    visit = get_in_scope_or_404(Visit, visit_id, current_user, joinedload(Visit.customer))
    return _upload_page(
        visit.customer,
        visit=visit,
        kind_code="site_photo",
        to=url_for("visits.show", visit_id=visit.id, _anchor="documents"),
    )


# The document page ----------------------------------------------------------------------


def _document_or_404(document_id: int) -> Document:
    document = get_in_scope_or_404(Document, document_id, current_user, *DOCUMENT_PAGE)
    if document.deleted_at is not None:
        abort(404)
    return document


def _home_of(document: Document) -> str:
    """The page the document hangs on: its visit, its opportunity, else its customer."""
    if document.visit_id:
        return url_for("visits.show", visit_id=document.visit_id, _anchor="documents")
    if document.opportunity_id:
        return url_for(
            "opportunities.show", opportunity_id=document.opportunity_id, _anchor="documents"
        )
    return url_for("customers.show", customer_id=document.customer_id, _anchor="documents")


def _show(document: Document, *, edit_form=None, version_form=None, status: int = 200):
    edit_form = edit_form or DocumentForm(obj=document, locale=_locale(), current=document.kind_id)
    if not edit_form.is_submitted():
        edit_form.version.data = document.version
    return render_template(
        "documents/show.html",
        document=document,
        edit_form=edit_form,
        version_form=version_form or VersionForm(),
        confirm_form=ConfirmForm(),
        home=_home_of(document),
        accept=sniffing.ACCEPT,
        inline_types={t.content_type for t in sniffing.KNOWN.values() if t.inline},
    ), status


@bp.get("/documents/<int:document_id>")
@login_required
def show(document_id: int):
    return _show(_document_or_404(document_id))


@bp.post("/documents/<int:document_id>/edit")
@login_required
def edit(document_id: int):
    document = _document_or_404(document_id)
    form = DocumentForm(locale=_locale(), current=document.kind_id)
    if form.validate_on_submit():
        outcome = write(
            lambda: library.update(
                document,
                actor=current_user,
                version=form.version.data,
                title=form.title.data,
                kind_id=form.kind_id.data,
            ),
            done=_("The document is saved."),
            to=url_for("documents.show", document_id=document.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        if outcome.stale is not None:
            return _show(_document_or_404(document_id), status=409)
        return _show(document, edit_form=form, status=outcome.status)
    return _show(document, edit_form=form, status=400)


@bp.post("/documents/<int:document_id>/versions")
@login_required
def new_version(document_id: int):
    document = _document_or_404(document_id)
    form = VersionForm()
    status = 400
    if form.validate_on_submit():
        upload = form.file.data
        outcome = write(
            lambda: library.add_version(
                document,
                actor=current_user,
                upload=library.Upload(stream=upload.stream, filename=upload.filename or "")
                if upload is not None and getattr(upload, "filename", None)
                else None,
            ),
            done=lambda row: _("Version %(n)d is uploaded.", n=row.number),
            to=url_for("documents.show", document_id=document.id),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
        status = 413 if isinstance(outcome.error, library.FileTooLarge) else outcome.status
    return _show(document, version_form=form, status=status)


@bp.post("/documents/<int:document_id>/delete")
@login_required
def delete(document_id: int):
    document = _document_or_404(document_id)
    home = _home_of(document)
    confirm_or_ask(
        _(
            "Delete %(title)s? It is purged for good after the retention period.",
            title=document.title,
        ),
        back=url_for("documents.show", document_id=document.id),
    )
    return write(
        lambda: library.delete(document, actor=current_user),
        done=_("%(title)s is deleted.", title=document.title),
        to=home,
        back=url_for("documents.show", document_id=document.id),
    ).response


# The bytes ---------------------------------------------------------------------------


def _serve(key: str, content_type: str, *, inline: bool, name: str, size: int | None = None):
    try:
        return file_response(key, content_type, inline=inline, name=name, size=size)
    except StoreError:
        return render_template(
            "documents/problem.html",
            status=503,
            message=_("The document store cannot be reached. Try again later."),
        ), 503


@bp.get("/documents/<int:document_id>/file/<int:number>")
@login_required
def file(document_id: int, number: int):
    document = _document_or_404(document_id)
    version = library.version_of(document, number)
    if version is None:
        abort(404)
    known = sniffing.known(version.content_type)
    inline = request.args.get("inline") == "1" and known is not None and known.inline
    return _serve(
        version.blob_key,
        version.content_type,
        inline=inline,
        name=version.filename,
        size=version.size,
    )


@bp.get("/documents/<int:document_id>/thumbnail/<int:number>")
@login_required
def thumbnail(document_id: int, number: int):
    document = _document_or_404(document_id)
    version = library.version_of(document, number)
    if version is None or version.thumbnail_key is None:
        abort(404)
    return _serve(version.thumbnail_key, "image/jpeg", inline=True, name="thumbnail.jpg")


# The panel on the customer, opportunity and visit pages ------------------------------


def _panel(record: Customer | Opportunity | Visit, *, with_form: bool = True) -> dict:
    """What documents/_panel.html shows for a record its page loaded in scope.

    Without the form (the customer page) the panel links to the upload page instead: the
    form's kind choices would be one more statement on the busiest page.
    """
    if isinstance(record, Visit):
        kind_code, action = "site_photo", url_for("documents.upload_to_visit", visit_id=record.id)
    elif isinstance(record, Opportunity):
        kind_code = "proposal"
        action = url_for("documents.upload_to_opportunity", opportunity_id=record.id)
    else:
        kind_code = "other"
        action = url_for("documents.upload_to_customer", customer_id=record.id)
    return {
        "documents": library.documents_on(record, viewer=current_user),
        "form": (
            UploadForm(formdata=None, locale=_locale(), kind_code=kind_code) if with_form else None
        ),
        "action": action,
        "accept": sniffing.ACCEPT,
        "photos": kind_code == "site_photo",
    }


@bp.app_context_processor
def document_panel_helper() -> dict:
    return {"document_panel": _panel}
