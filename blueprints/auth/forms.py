from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from blueprints.forms_base import CrmForm
from crm.i18n import COMMON_TIMEZONES, LANGUAGE_NAMES
from crm.labels import choices, options
from crm.services.people import tokens
from models import TokenScope


class LoginForm(CrmForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LogoutForm(CrmForm):
    pass


class LanguageForm(CrmForm):
    locale = SelectField(choices=options(LANGUAGE_NAMES.items()))
    next = HiddenField()


class PreferencesForm(CrmForm):
    locale = SelectField(_l("Language"), choices=options(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), choices=options((z, z) for z in COMMON_TIMEZONES))


class PasswordChangeForm(CrmForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


# Reminder lead times offered: on time, 15 minutes, an hour, a day ahead.
LEAD_MINUTES = (
    (0, _l("At the due time")),
    (15, _l("15 minutes before")),
    (60, _l("1 hour before")),
    (1440, _l("1 day before")),
)


class EmailPreferencesForm(CrmForm):
    email_reminders = BooleanField(_l("Reminder emails when a follow-up is due"))
    reminder_lead_minutes = SelectField(_l("Send reminder emails"), coerce=int)
    email_daily_digest = BooleanField(_l("Daily digest at 08:00: today's and overdue follow-ups"))
    email_weekly_digest = BooleanField(_l("Weekly team digest on Monday at 08:00"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per form, in the viewer's language: at class level they were English for all.
        self.reminder_lead_minutes.choices = options(LEAD_MINUTES)


class ApiTokenForm(CrmForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=tokens.NAME_MAX)],
        description=_l("What will use it, e.g. the billing import."),
    )
    scope = SelectField(_l("The token may"))
    lifetime_days = SelectField(_l("Valid for"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope.choices = choices(TokenScope)
        if self.scope.data is None:  # a fresh form: the cautious choice first
            self.scope.data = TokenScope.READ.value
            self.lifetime_days.data = tokens.DEFAULT_LIFETIME
        self.lifetime_days.choices = options(
            (days, _l("%(n)d days", n=days)) for days in tokens.LIFETIMES
        )
