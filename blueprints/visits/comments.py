"""Comments on a visit (点评): the thread under the visit, its form, and the work log's counts.

The visit's page (routes.show) and the work log include the thread and the counts
through the template globals below, so their views stay as they are.
"""

from __future__ import annotations

from flask import g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from wtforms import TextAreaField
from wtforms.validators import Length

from blueprints.common import write
from blueprints.forms_base import CrmForm
from blueprints.visits import bp, routes
from crm.permissions import get_in_scope_or_404
from crm.services.activity import comments as comment_service
from models import Visit

# The form refused on a POST, for the visit page shown again with its errors.
REFUSED_FORM = "refused_comment_form"


class CommentForm(CrmForm):
    body = TextAreaField(
        lazy_pgettext("review", "Comment"), validators=[Length(max=comment_service.BODY_LIMIT)]
    )


@bp.app_template_global("visit_thread")
def visit_thread(visit: Visit) -> dict:
    """The visit's comments, and the form when the current user may write one."""
    thread = comment_service.comments_of(visit, viewer=current_user)
    form = None
    if comment_service.may_comment(visit, current_user, thread):
        form = g.get(REFUSED_FORM) or CommentForm(formdata=None)
    return {"comments": thread, "form": form}


@bp.app_template_global("visit_comment_counts")
def visit_comment_counts(visits: list[Visit]) -> dict[int, int]:
    """Comments per visit of one work-log page (one statement)."""
    return comment_service.comment_counts((v.id for v in visits), viewer=current_user)


@bp.route("/<int:visit_id>/comments", methods=["POST"])
@login_required
def add_comment(visit_id: int):
    visit = get_in_scope_or_404(Visit, visit_id, current_user, *routes.VISIT_PAGE)
    form = CommentForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: comment_service.add_comment(visit, actor=current_user, body=form.body.data),
            done=_("Your comment is added; %(name)s is told.", name=visit.user.display_name)
            if current_user.id != visit.user_id
            else _("Your reply is added."),
            to=url_for("visits.show", visit_id=visit.id, _anchor="comments"),
            form=form,
        )
        if outcome.response:
            return outcome.response
    g.setdefault(REFUSED_FORM, form)
    return routes.show(visit_id), 400
