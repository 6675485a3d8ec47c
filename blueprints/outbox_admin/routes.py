"""The email outbox for administrators: what was written, sent, failed; retry a failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.admin.forms import ConfirmForm
from blueprints.outbox_admin import bp
from blueprints.outbox_admin.labels import (
    KIND_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    kind_options,
    status_options,
)
from crm.extensions import db
from crm.i18n import local_midnight_utc, user_zone
from crm.mail import eml_name
from crm.permissions import admin_required
from crm.scheduler import last_tick
from crm.services import outbox
from crm.services.errors import DomainError
from models import MessageKind, MessageStatus, OutboxMessage, User
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


@dataclass
class OutboxFilters:
    status: MessageStatus | None = None
    kind: MessageKind | None = None
    recipient: str = ""
    since: date | None = None  # created on or after this local day
    until: date | None = None  # created on or before this local day

    @classmethod
    def from_args(cls) -> OutboxFilters:
        args = request.args
        return cls(
            status=MessageStatus(args["status"])
            if args.get("status") in set(MessageStatus)
            else None,
            kind=MessageKind(args["kind"]) if args.get("kind") in set(MessageKind) else None,
            recipient=(args.get("recipient") or "").strip()[:100],
            since=_date_arg("since"),
            until=_date_arg("until"),
        )

    def apply(self, stmt: Select) -> Select:
        if self.status:
            stmt = stmt.where(OutboxMessage.status == self.status)
        if self.kind:
            stmt = stmt.where(OutboxMessage.kind == self.kind)
        if self.recipient:
            stmt = stmt.where(
                or_(
                    *(
                        column.contains(self.recipient, autoescape=True)
                        for column in (
                            User.username,
                            User.display_name,
                            User.email,
                            OutboxMessage.to_address,
                        )
                    )
                )
            )
        zone = user_zone(current_user)  # the days the admin typed are their own
        if self.since:
            stmt = stmt.where(OutboxMessage.created_at >= local_midnight_utc(self.since, zone))
        if self.until:
            end = local_midnight_utc(self.until + timedelta(days=1), zone)
            stmt = stmt.where(OutboxMessage.created_at < end)
        return stmt

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.recipient or self.since or self.until)


def _backlog() -> dict[MessageStatus, int]:
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in MessageStatus}


@bp.route("/")
@admin_required
def index():
    filters = OutboxFilters.from_args()
    stmt = filters.apply(
        select(OutboxMessage)
        .outerjoin(User, OutboxMessage.recipient_id == User.id)
        .options(contains_eager(OutboxMessage.recipient))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    ticked = last_tick()
    return render_template(
        "outbox_admin/index.html",
        page=page,
        filters=filters,
        status_choices=status_options(_l("Any status")),
        kind_choices=kind_options(_l("Any kind")),
        backlog=_backlog(),
        last_tick=ticked,
        scheduler_quiet=ticked is None or utcnow() - ticked > TICK_STALE_AFTER,
        smtp_host=current_app.config.get("SMTP_HOST"),
        mail_dir=current_app.config["MAIL_DIR"],
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.scalar(
        select(OutboxMessage)
        .options(joinedload(OutboxMessage.recipient))
        .where(OutboxMessage.id == message_id)
    )
    if message is None:
        abort(404)
    return message


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
    message = _message_or_404(message_id)
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
    path = _eml_path(_message_or_404(message_id))
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
    message = _message_or_404(message_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outbox.retry_message(message, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("The message is queued again; the scheduler sends it at its next tick."), "success")
    return redirect(url_for("outbox_admin.show", message_id=message_id))
