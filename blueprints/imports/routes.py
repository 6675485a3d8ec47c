"""CSV import and export of customers and contacts, and the merge of duplicate customers."""

from __future__ import annotations

from collections.abc import Iterable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints.common import write
from blueprints.imports import bp
from blueprints.imports.forms import (
    ImportCommitForm,
    ImportEncodingForm,
    ImportUploadForm,
    MergeChoiceForm,
    MergeForm,
)
from blueprints.imports.uploads import discard_upload, keep_upload, load_upload
from crm.permissions import admin_required, get_customer_or_404
from crm.services.archive import merge as merge_service
from crm.services.archive.search import CustomerFilters
from crm.services.errors import DomainError
from crm.services.imports import batch as imports
from crm.services.imports import exports
from crm.services.imports.batch import COLUMNS
from models import Customer
from models.base import utcnow

# Import ---------------------------------------------------------------------------


def _result(report, filename: str, token: str | None, status: int = 200):
    return render_template(
        "imports/result.html",
        report=report,
        filename=filename,
        columns=COLUMNS[report.kind],
        commit_form=ImportCommitForm(formdata=None, token=token) if token else None,
    ), status


def _check_upload(form, data: bytes, *, kind: str, encoding: str, filename: str):
    """Dry-run the file and show the result; None when it cannot be read (the form says why).

    A file whose encoding is unclear is kept, and the page shows how its first lines
    read in each candidate encoding, so the user picks one without uploading again.
    """
    try:
        parsed = imports.parse_file(kind, data, encoding)
        report = imports.check_import(parsed, actor=current_user)
    except imports.EncodingUnsure as unsure:
        token = keep_upload(
            data, user_id=current_user.id, kind=kind, encoding="auto", filename=filename
        )
        return render_template(
            "imports/encoding.html",
            unsure=unsure,
            filename=filename,
            form=ImportEncodingForm(formdata=None, token=token),
        )
    except DomainError as error:
        form.errors_on_file(str(error.message))
        return None
    token = None
    if report.ok and report.rows:
        token = keep_upload(
            data,
            user_id=current_user.id,
            kind=parsed.kind,
            encoding=parsed.encoding,
            filename=filename,
        )
    return _result(report, filename, token)


@bp.route("/customers/import", methods=["GET", "POST"])
@login_required
def upload():
    form = ImportUploadForm(figures=current_user.is_admin)
    if form.validate_on_submit():
        shown = _check_upload(
            form,
            form.file.data.read(),
            kind=form.kind.data,
            encoding=form.encoding.data,
            filename=form.file.data.filename or "",
        )
        if shown is not None:
            return shown
    return render_template(
        "imports/upload.html", form=form, columns=COLUMNS
    ), 400 if form.errors else 200


def _kept_upload(form) -> tuple[bytes, dict] | None:
    """The upload a token form names, if this user kept it and it is still there."""
    if not form.validate_on_submit():
        abort(400)
    stored = load_upload(form.token.data, current_user.id)
    if stored is None:
        flash(_("This upload is no longer available. Please upload the file again."), "warning")
    return stored


@bp.route("/customers/import/encoding", methods=["POST"])
@login_required
def choose_encoding():
    """Check a kept upload again, read in the encoding the user chose from the previews."""
    form = ImportEncodingForm()
    stored = _kept_upload(form)
    if stored is None:
        return redirect(url_for("imports.upload"))
    data, meta = stored
    discard_upload(form.token.data)
    upload_form = ImportUploadForm(
        formdata=None,
        kind=meta["kind"],
        encoding=form.encoding.data,
        figures=current_user.is_admin,
    )
    shown = _check_upload(
        upload_form,
        data,
        kind=meta["kind"],
        encoding=form.encoding.data,
        filename=meta["filename"],
    )
    if shown is not None:
        return shown
    return render_template("imports/upload.html", form=upload_form, columns=COLUMNS), 400


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    """A body above MAX_CONTENT_LENGTH is refused unread; say so on the upload form."""
    form = ImportUploadForm(formdata=None, figures=current_user.is_admin)
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    form.file.errors = [_("The file is too large: at most %(mb)d MB.", mb=max(limit, 1))]
    return render_template("imports/upload.html", form=form, columns=COLUMNS), 413


@bp.route("/customers/import/commit", methods=["POST"])
@login_required
def commit():
    form = ImportCommitForm()
    stored = _kept_upload(form)
    if stored is None:
        return redirect(url_for("imports.upload"))
    data, meta = stored
    outcome = write(
        lambda: imports.import_file(
            meta["kind"], data, meta["encoding"], actor=current_user, source=meta["filename"]
        ),
        done=_imported,
        to=lambda report: url_for(
            "contacts.index" if report.kind == "contacts" else "customers.index"
        ),
    )
    if isinstance(outcome.error, imports.ImportNoLongerPasses):
        # The database changed since the dry run: show what no longer passes.
        discard_upload(form.token.data)
        return _result(outcome.error.report, meta["filename"], None, status=409)
    if outcome.response is None:
        return redirect(url_for("imports.upload"))
    discard_upload(form.token.data)
    return outcome.response


def _imported(report) -> str:
    if report.kind == "figures":
        counts = report.figure_counts
        return _(
            "%(count)d lines of business figures are imported: %(added)d new, %(changed)d "
            "changed, %(unchanged)d the same as before.",
            count=report.imported,
            added=counts.added,
            changed=counts.changed,
            unchanged=counts.unchanged,
        )
    if report.kind == "customers":
        return _("%(count)d customers are imported.", count=report.imported)
    return _("%(count)d contacts are imported.", count=report.imported)


# Export ---------------------------------------------------------------------------


def _csv_response(rows: Iterable[list[str]], name: str) -> Response:
    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(exports.csv_chunks(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/customers/export.csv")
@login_required
def export_customers():
    """The customer list as filtered by the same query arguments as /customers/."""
    user = current_user._get_current_object()
    filters = CustomerFilters.from_args(request.args)
    language = exports.export_language(request.args.get("lang"), user)
    return _csv_response(exports.customer_rows(user, filters, language), "customers")


@bp.route("/contacts/export.csv")
@login_required
def export_contacts():
    """The contacts of the user's customers, or of one of them (?customer=<id>)."""
    user = current_user._get_current_object()
    customer_id = request.args.get("customer", type=int)
    if customer_id is not None:
        get_customer_or_404(customer_id, user)
    language = exports.export_language(request.args.get("lang"), user)
    return _csv_response(exports.contact_rows(user, language, customer_id), "contacts")


# Merge ----------------------------------------------------------------------------


def _customer_or_error(field) -> Customer | None:
    if not field.data:
        return None
    customer = merge_service.customer_to_merge(field.data, viewer=current_user)
    if customer is None:
        field.errors = [*field.errors, _("No customer has the id %(id)d.", id=field.data)]
    return customer


@bp.route("/customers/merge", methods=["GET"])
@admin_required
def merge():
    choice = MergeChoiceForm(request.args)
    choice.validate()
    candidates = []
    if choice.q.data:
        candidates = merge_service.merge_candidates(choice.q.data, viewer=current_user)
    survivor = _customer_or_error(choice.survivor)
    duplicate = _customer_or_error(choice.duplicate)
    preview = None
    if survivor is not None and duplicate is not None:
        preview = merge_service.preview_merge(survivor, duplicate)
    form = MergeForm(
        formdata=None,
        survivor_id=survivor.id if survivor else None,
        duplicate_id=duplicate.id if duplicate else None,
    )
    return render_template(
        "imports/merge.html",
        choice=choice,
        candidates=candidates,
        preview=preview,
        form=form,
    )


@bp.route("/customers/merge", methods=["POST"])
@admin_required
def merge_now():
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    survivor = merge_service.customer_to_merge(form.survivor_id.data, viewer=current_user)
    duplicate = merge_service.customer_to_merge(form.duplicate_id.data, viewer=current_user)
    if survivor is None or duplicate is None:
        abort(404)
    duplicate_name = duplicate.name
    return write(
        lambda: merge_service.merge_customers(survivor, duplicate, actor=current_user),
        done=lambda _result: _(
            "%(duplicate)s is merged into %(survivor)s.",
            duplicate=duplicate_name,
            survivor=survivor.name,
        ),
        to=url_for("customers.show", customer_id=survivor.id),
        back=url_for("imports.merge", survivor=survivor.id, duplicate=form.duplicate_id.data),
    ).response
