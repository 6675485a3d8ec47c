"""Sign-in, sign-out, language switch and the user's own account page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.admin.forms import ConfirmForm
from blueprints.auth import bp
from blueprints.auth.forms import (
    ApiTokenForm,
    EmailPreferencesForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    PasswordChangeForm,
    PreferencesForm,
)
from blueprints.common import write
from crm.auth import SIGN_IN_KEY, safe_next_url
from crm.extensions import db, limiter
from crm.services.people import sessions, tokens, users


def _login_username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()


def _login_failed(response) -> bool:
    # A successful sign-in redirects; only failures count against the limits.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_USERNAME"],
    key_func=_login_username_key,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-username",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-ip",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = users.authenticate(form.username.data, form.password.data)
        if user is None:
            current_app.logger.warning(
                "failed sign-in: username=%r ip=%s", form.username.data, request.remote_addr
            )
            flash(_("Wrong username or password, or the account is deactivated."), "danger")
            return render_template("auth/login.html", form=form), 200
        session.clear()  # a fresh session: no fixation of a pre-login id
        login_user(user)
        session[SIGN_IN_KEY] = sessions.start_session(user)
        users.record_login(user)
        db.session.commit()
        current_app.logger.info("sign-in: user=%s ip=%s", user.username, request.remote_addr)
        return redirect(safe_next_url(form.next.data) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if LogoutForm().validate_on_submit():
        # Ends this sign-in on the server: a copy of the cookie is signed out too.
        sessions.end_session(session.get(SIGN_IN_KEY))
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language; remembered on the account when signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            users.update_preferences(
                current_user, locale=form.locale.data, timezone=current_user.timezone
            )
            db.session.commit()
    return redirect(safe_next_url(form.next.data) or url_for("main.home"))


def _account_page(
    prefs: PreferencesForm | None = None,
    password_form=None,
    email_form=None,
    token_form: ApiTokenForm | None = None,
    new_token: tokens.NewToken | None = None,
):
    prefs = prefs or PreferencesForm(
        prefix="prefs", locale=current_user.locale, timezone=current_user.timezone
    )
    password_form = password_form or PasswordChangeForm(prefix="pw", formdata=None)
    email_form = email_form or EmailPreferencesForm(prefix="email", formdata=None, obj=current_user)
    return render_template(
        "auth/account.html",
        prefs=prefs,
        password_form=password_form,
        email_form=email_form,
        confirm_form=ConfirmForm(),
        # The calendar URL is shown once, right after it is made (only its hash is kept).
        calendar_url=session.pop("calendar_feed_url", None),
        token_form=token_form or ApiTokenForm(prefix="token", formdata=None),
        api_tokens=tokens.tokens_of(current_user),
        new_token=new_token,  # its secret, shown in this answer only (blueprints/auth/tokens.py)
    )


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/preferences", methods=["POST"])
@login_required
def save_preferences():
    form = PreferencesForm(prefix="prefs")
    if not form.validate_on_submit():
        return _account_page(prefs=form), 400
    outcome = write(
        lambda: users.update_preferences(
            current_user, locale=form.locale.data, timezone=form.timezone.data
        ),
        done=_("Your preferences are saved."),
        to=url_for("auth.account"),
        form=form,
    )
    if outcome.response is None:
        return _account_page(prefs=form), outcome.status
    session["locale"] = form.locale.data
    return outcome.response


@bp.route("/account/email", methods=["POST"])
@login_required
def save_email_preferences():
    form = EmailPreferencesForm(prefix="email")
    if form.validate_on_submit():
        outcome = write(
            lambda: users.update_email_preferences(
                current_user,
                reminders=form.email_reminders.data,
                daily_digest=form.email_daily_digest.data,
                lead_minutes=form.reminder_lead_minutes.data,
                # Only supervisors get the weekly digest, so only they see its switch.
                weekly_digest=form.email_weekly_digest.data if current_user.is_supervisor else None,
            ),
            done=_("Your email settings are saved."),
            to=url_for("auth.account") + "#email",
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    return _account_page(email_form=form), 400


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        outcome = write(
            lambda: users.change_own_password(
                current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            ),
            done=_("Your password is changed; your other sessions are signed out."),
            to=url_for("auth.account"),
            form=form,
        )
        if outcome.response is not None:
            # This session carries on with the new token; every other session has ended.
            login_user(current_user._get_current_object())
            return outcome.response
    return _account_page(password_form=form), 400
