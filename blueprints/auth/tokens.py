"""Personal access tokens of the JSON API on the account page: make, list, revoke.

A new token's secret is shown in the answer to the POST that made it, once, and kept
nowhere: not in the database (only its hash), not in the session cookie (which the
browser stores and sends back; the calendar link can live there, a write token not).
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.auth import bp
from blueprints.auth.forms import ApiTokenForm
from blueprints.auth.routes import _account_page
from blueprints.common import commit_once, confirm_or_ask, show_error, write
from crm.auth import safe_next_url
from crm.permissions import get_in_scope_or_404
from crm.services.people import tokens
from models import ApiToken


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    form = ApiTokenForm(prefix="token")
    if not form.validate_on_submit():
        return _account_page(token_form=form), 400
    made, error = commit_once(
        lambda: tokens.create_token(
            actor=current_user,
            name=form.name.data,
            scope=form.scope.data,
            lifetime_days=form.lifetime_days.data,
        )
    )
    if error is not None:
        show_error(form, error)
        return _account_page(token_form=form), 400
    # Answered here, not after a redirect: the secret must not travel in the cookie.
    return _account_page(new_token=made), 201


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """The token's user or an administrator (from the user's admin page) revokes it."""
    token = get_in_scope_or_404(ApiToken, token_id, current_user)
    back = url_for("auth.account") + "#api-tokens"
    if token.user_id != current_user.id:
        back = url_for("admin.edit_user", user_id=token.user_id) + "#api-tokens"
    confirm_or_ask(
        _("Revoke the token %(name)s? Scripts using it stop working at once.", name=token.name),
        button=_("Revoke"),
        back=back,
    )
    outcome = write(
        lambda: tokens.revoke_token(token, actor=current_user),
        done=_("The token %(name)s is revoked.", name=token.name),
        to=safe_next_url(back) or back,
        back=back,
    )
    return outcome.response
