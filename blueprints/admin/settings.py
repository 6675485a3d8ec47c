"""Run-time settings (admins only): every declared setting, its value in force and default."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.forms import SettingForm
from blueprints.common import write
from crm.permissions import admin_required
from crm.services import settings as settings_service


@bp.route("/settings")
@admin_required
def settings():
    return _page()


@bp.route("/settings/<key>", methods=["POST"])
@admin_required
def change_setting(key: str):
    if key not in settings_service.SETTINGS:
        abort(404)
    form = SettingForm()
    if form.validate_on_submit():
        outcome = write(
            lambda: settings_service.change(key, form.value.data or "", actor=current_user),
            done=lambda _value: _(
                "%(setting)s is saved.", setting=settings_service.SETTINGS[key].label
            ),
            to=url_for("admin.settings", _anchor=f"setting-{key}"),
            form=form,
        )
        if outcome.response is not None:
            return outcome.response
    # Refused: the page again, this setting's row with the typed text and the message.
    return _page(failed_key=key, form=form), 400


def _page(failed_key: str | None = None, form: SettingForm | None = None):
    return render_template(
        "admin/settings.html",
        areas=settings_service.settings_by_area(),
        failed_key=failed_key,
        failed_form=form,
        form=SettingForm(formdata=None),
    )
