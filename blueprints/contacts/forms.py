"""Forms for adding and editing contacts."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from crm.labels import choices, options
from models import Attitude, BuyingRole, Contact

PHONE = Regexp(
    r"^[0-9+()\-\s]+((转|ext\.?|x)\s*[0-9]+)?$",
    message=_l("Digits, spaces, + ( ) and - only; an extension may follow 转 or ext."),
)

# Display names of the audited fields, for the history.
FIELD_LABELS = {
    # A person's name and job title: "Name" and "Title" mean other things elsewhere.
    "name": lazy_pgettext("person", "Name"),
    "title": lazy_pgettext("job", "Title"),
    "department": _l("Department"),
    "mobile": _l("Mobile"),
    "office_phone": _l("Office phone"),
    "email": _l("Email"),
    "role": _l("Buying role"),
    "attitude": _l("Attitude to us"),
    "strength": _l("Relationship strength"),
    "reports_to_id": _l("Reports to"),
    "notes": _l("Notes"),
    "active": _l("Active"),
}


class ContactForm(CrmForm):
    name = StringField(FIELD_LABELS["name"], validators=[DataRequired(), Length(max=100)])
    title = StringField(FIELD_LABELS["title"], validators=[Optional(), Length(max=100)])
    department = StringField(FIELD_LABELS["department"], validators=[Optional(), Length(max=100)])
    mobile = StringField(FIELD_LABELS["mobile"], validators=[Optional(), Length(max=30), PHONE])
    office_phone = StringField(
        FIELD_LABELS["office_phone"], validators=[Optional(), Length(max=30), PHONE]
    )
    email = EmailField(FIELD_LABELS["email"], validators=[Optional(), Email(), Length(max=254)])
    # Both start on "choose": a preset decision maker made the "no decision maker" flag
    # lie, and a preset supporter claimed goodwill nobody had seen.
    role = SelectField(
        FIELD_LABELS["role"], validators=[DataRequired(message=_l("Choose a buying role."))]
    )
    attitude = SelectField(
        FIELD_LABELS["attitude"],
        validators=[DataRequired(message=_l("Choose the attitude to us."))],
    )
    strength = SelectField(FIELD_LABELS["strength"], coerce=int)
    reports_to_id = SelectField(FIELD_LABELS["reports_to_id"], coerce=int)
    notes = TextAreaField(FIELD_LABELS["notes"], validators=[Optional(), Length(max=5000)])
    version = HiddenField()

    def __init__(self, *args, managers: Iterable[Contact] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = options([("", _l("— choose —"))]) + choices(BuyingRole)
        self.attitude.choices = options([("", _l("— choose —"))]) + choices(Attitude)
        self.strength.choices = options((n, f"{'●' * n}{'○' * (5 - n)} {n}") for n in range(1, 6))
        self.reports_to_id.choices = options(
            [(0, _l("— reports to nobody here —"))]
            + [(c.id, f"{c.name} · {c.title}" if c.title else c.name) for c in managers]
        )

    def contact_fields(self) -> dict:
        """The submitted values as keyword arguments for the contacts service."""
        return {
            "name": self.name.data,
            "title": self.title.data,
            "department": self.department.data,
            "mobile": self.mobile.data,
            "office_phone": self.office_phone.data,
            "email": self.email.data,
            "role": self.role.data,
            "attitude": self.attitude.data,
            "strength": self.strength.data,
            "reports_to": self.reports_to_id.data or None,
            "notes": self.notes.data,
        }
