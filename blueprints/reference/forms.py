"""Forms of the reference data pages: industries and the competitor registry."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm


class IndustryForm(CrmForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=50)])
    position = IntegerField(
        _l("Position in lists"),
        validators=[Optional(), NumberRange(min=0, max=9999)],
        description=_l("Lower numbers come first; leave empty to add at the end."),
    )


class CompetitorForm(CrmForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
