"""The email outbox for administrators: what was written, sent, failed; retry a failure."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import joinedload

from blueprints.admin.forms import ConfirmForm
from blueprints.common import write
from blueprints.outbox_admin import bp
from blueprints.outbox_admin.labels import (
    KIND_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    kind_options,
    status_options,
)
from crm.extensions import db
from crm.i18n import user_zone
from crm.mail import eml_name
from crm.permissions import admin_required, get_in_scope_or_404
from crm.services.followups import outbox, outbox_filter
from crm.services.followups.outbox_filter import OutboxFilter
from crm.services.followups.scheduler_state import last_tick
from models import MessageKind, MessageStatus, OutboxMessage
from models.base import utcnow

# The scheduler ticks every minute; this much silence means it is not running.
TICK_STALE_AFTER = timedelta(minutes=5)


@bp.context_processor
def outbox_helpers() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "status_badges": STATUS_BADGES,
        "kind_labels": KIND_LABELS,
    }


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def filters_from_args() -> OutboxFilter:
    """The list's filter from the query string; unknown values are ignored."""
    args = request.args
    return OutboxFilter(
        zone=user_zone(current_user),
        status=MessageStatus(args["status"]) if args.get("status") in set(MessageStatus) else None,
        kind=MessageKind(args["kind"]) if args.get("kind") in set(MessageKind) else None,
        recipient=(args.get("recipient") or "").strip()[:100],
        since=_date_arg("since"),
        until=_date_arg("until"),
    )


def _filter_args() -> dict[str, str]:
    """The query string's filter fields, to carry from the list to its actions and back."""
    names = ("status", "kind", "recipient", "since", "until")
    return {name: request.args[name] for name in names if request.args.get(name)}


@bp.route("/")
@admin_required
def index():
    filters = filters_from_args()
    page = db.paginate(
        outbox_filter.listing(filters), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    ticked = last_tick()
    backlog = outbox_filter.backlog(viewer=current_user)
    return render_template(
        "outbox_admin/index.html",
        page=page,
        filters=filters,
        filter_args=_filter_args(),
        status_choices=status_options(_l("Any status")),
        kind_choices=kind_options(_l("Any kind")),
        backlog=backlog,
        failed_total=backlog[MessageStatus.FAILED],
        last_tick=ticked,
        scheduler_quiet=ticked is None or utcnow() - ticked > TICK_STALE_AFTER,
        smtp_host=current_app.config.get("SMTP_HOST"),
        mail_dir=current_app.config["MAIL_DIR"],
    )


# Loaded with each OutboxMessage its pages show.
MESSAGE_PAGE = (joinedload(OutboxMessage.recipient),)


def _eml_path(message: OutboxMessage) -> Path | None:
    """The .eml file the file transport wrote for this message, if there is one.

    The name comes from the key through the transport's own sanitising (no / or \\),
    and the resolved path must still lie inside the mail folder.
    """
    if current_app.config.get("SMTP_HOST") or not message.key:
        return None
    folder = Path(current_app.config["MAIL_DIR"]).resolve()
    path = (folder / eml_name(message.key)).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path


@bp.route("/<int:message_id>")
@admin_required
def show(message_id: int):
    message = get_in_scope_or_404(OutboxMessage, message_id, current_user, *MESSAGE_PAGE)
    return render_template(
        "outbox_admin/show.html",
        message=message,
        eml_path=_eml_path(message),
        smtp_host=current_app.config.get("SMTP_HOST"),
        mail_dir=current_app.config["MAIL_DIR"],
        confirm_form=ConfirmForm(),
    )


@bp.route("/<int:message_id>/eml")
@admin_required
def download(message_id: int):
    path = _eml_path(get_in_scope_or_404(OutboxMessage, message_id, current_user, *MESSAGE_PAGE))
    if path is None:
        abort(404)
    # Small files: read whole, so no file handle outlives the request.
    return Response(
        path.read_bytes(),
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    message = get_in_scope_or_404(OutboxMessage, message_id, current_user, *MESSAGE_PAGE)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    page = url_for("outbox_admin.show", message_id=message_id)
    return write(
        lambda: outbox.retry_message(message, actor=current_user),
        done=_("The message is queued again; the scheduler sends it at its next tick."),
        to=page,
        back=page,
    ).response


@bp.route("/retry-failed", methods=["GET", "POST"])
@admin_required
def retry_failed():
    """Queue every failed message that matches the list's filter again, after a confirm page."""
    filters = filters_from_args()
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        back = url_for("outbox_admin.index", **_filter_args())
        return write(
            lambda: outbox_filter.retry_failed(filters, actor=current_user),
            done=lambda queued: ngettext(
                "%(num)d failed message is queued again; the scheduler sends it at its next tick.",
                "%(num)d failed messages are queued again; the scheduler sends them at its next "
                "tick.",
                queued,
            ),
            category=lambda queued: "success" if queued else "info",
            to=back,
            back=back,
        ).response
    return render_template(
        "outbox_admin/retry_failed.html",
        filters=filters,
        filter_args=_filter_args(),
        failed=outbox_filter.count_failed(filters) if filters.retries_failed else 0,
        confirm_form=form,
    )
