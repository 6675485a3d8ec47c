"""The calendar feed (/calendar/<token>.ics, no sign-in) and making or revoking its link."""

from __future__ import annotations

from hashlib import sha256

from flask import Response, abort, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.admin.forms import ConfirmForm
from blueprints.common import confirm_or_ask, write
from blueprints.reminders import calendar_bp
from crm.emails import external_url
from crm.extensions import limiter
from crm.services.followups import calendar

# Shown once on the account page right after the link is made, then forgotten.
SESSION_KEY = "calendar_feed_url"


def _token_key() -> str:
    """Rate-limit per feed (calendar apps poll; many may share an office's address)."""
    token = (request.view_args or {}).get("token", "")
    return "ics:" + sha256(token.encode()).hexdigest()[:16]


@calendar_bp.route("/calendar/<token>.ics")
@limiter.limit("120 per hour", key_func=_token_key)
def feed(token: str):
    user = calendar.user_by_calendar_token(token)
    if user is None:
        abort(404)
    body = calendar.render_feed(user, calendar.feed_reminders(user))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="follow-ups.ics"'
    # Private data behind a secret URL: no shared caches, no search engines.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@calendar_bp.route("/account/calendar", methods=["POST"])
@login_required
def make_link():
    """Make the feed's link; if there was one, the old URL stops working."""
    had_one = current_user.calendar_token is not None
    if had_one:
        confirm_or_ask(
            _("Make a new link? The old link stops working."), button=_("Make a new link")
        )
    elif not ConfirmForm().validate_on_submit():
        abort(400)
    if had_one:
        done = _("A new calendar link is made; the old one no longer works.")
    else:
        done = _("Your calendar link is made.")
    account = url_for("auth.account") + "#calendar"
    outcome = write(
        lambda: calendar.make_calendar_token(current_user, actor=current_user),
        done=done,
        to=account,
        back=account,
    )
    if outcome.error is None:
        session[SESSION_KEY] = external_url("calendar.feed", token=outcome.result)
    return outcome.response


@calendar_bp.route("/account/calendar/revoke", methods=["POST"])
@login_required
def revoke_link():
    confirm_or_ask(
        _("Switch off your calendar link? Calendars that read it stop updating."),
        button=_("Revoke"),
    )
    account = url_for("auth.account") + "#calendar"
    outcome = write(
        lambda: calendar.revoke_calendar_token(current_user, actor=current_user),
        done=_("Your calendar link is switched off."),
        to=account,
        back=account,
    )
    if outcome.error is None:
        session.pop(SESSION_KEY, None)
    return outcome.response
