"""The user's notices: the list (newest first), reading one (to its record), reading all."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import ConfirmForm, require_confirmation, write
from blueprints.notices import bp
from blueprints.plans.reviews import plan_url
from crm.extensions import db
from crm.permissions import get_in_scope_or_404
from crm.services.notices import inbox
from crm.services.plans import periods
from models import Notice


def record_url(notice: Notice) -> str:
    """The page of what the notice is about: the plan, or the visit while the reader still
    sees it; else the list."""
    if notice.plan is not None:
        return plan_url(notice.plan)
    if notice.visit_id in inbox.visible_visits([notice], viewer=current_user):
        return url_for("visits.show", visit_id=notice.visit_id)
    return url_for("notices.index")


@bp.route("/")
@login_required
def index():
    page = db.paginate(
        inbox.notices_of(current_user),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "notices/index.html",
        page=page,
        visible_visits=inbox.visible_visits(page.items, viewer=current_user),
        period_key=periods.key_of,
        confirm_form=ConfirmForm(),
    )


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int):
    notice = get_in_scope_or_404(Notice, notice_id, current_user)
    require_confirmation()
    return write(
        lambda: inbox.mark_read(notice, actor=current_user),
        done=_("Marked as read."),
        category="info",
        to=record_url(notice),
        back=url_for("notices.index"),
    ).response


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    require_confirmation()
    return write(
        lambda: inbox.mark_all_read(actor=current_user),
        done=lambda count: _("%(n)d notices marked as read.", n=count),
        category="info",
        to=url_for("notices.index"),
        back=url_for("notices.index"),
    ).response
