from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from blueprints.pickers import picker_attrs
from crm.i18n import COMMON_TIMEZONES, LANGUAGE_NAMES
from crm.labels import choices, options
from crm.services.pickers import Shortlist
from models import Level, Role


class _UserFields(CrmForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    role = SelectField(_l("Role"))
    level = SelectField(_l("Level"))
    team_id = SelectField(_l("Team"), coerce=int)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices(Role)
        self.level.choices = choices(Level)
        self.team_id.choices = options([(0, "—")] + [(t.id, t.name) for t in teams])


class UserCreateForm(_UserFields):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, . _ and - only.")),
        ],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    locale = SelectField(_l("Language"), choices=options(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), choices=options((z, z) for z in COMMON_TIMEZONES))


class UserEditForm(_UserFields):
    pass


class PasswordResetForm(CrmForm):
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=200)]
    )


class TeamForm(CrmForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=100)])
    # Pickers (crm/services/pickers.py): a short list on the page, the services judge the id.
    supervisor_id = SelectField(_l("Supervisor"), coerce=int, validate_choice=False)

    def offer_supervisors(self, supervisors: Shortlist, url: str) -> None:
        self.supervisor_id.choices = options([(0, "—"), *supervisors.options])
        self.supervisor_id.render_kw = picker_attrs(url, supervisors)


class MoveMemberForm(CrmForm):
    user_id = SelectField(
        _l("User"), coerce=int, validate_choice=False, validators=[DataRequired()]
    )

    def offer_people(self, people: Shortlist, url: str) -> None:
        self.user_id.choices = options(people.options)
        self.user_id.render_kw = picker_attrs(url, people)


class SettingForm(CrmForm):
    """One run-time setting's new value, as text; the setting's own parser judges it."""

    value = StringField(_l("New value"), validators=[Length(max=200)])
