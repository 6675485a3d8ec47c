from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from crm.i18n import COMMON_TIMEZONES, LANGUAGE_NAMES
from crm.labels import options


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class LanguageForm(FlaskForm):
    locale = SelectField(choices=options(LANGUAGE_NAMES.items()))
    next = HiddenField()


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=options(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), choices=options((z, z) for z in COMMON_TIMEZONES))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
