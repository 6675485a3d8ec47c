"""Forms of the stage administration."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from crm.labels import choices
from models import Phase


class StageForm(CrmForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=50)])
    phase = SelectField(_l("Phase"))
    probability = IntegerField(
        _l("Default probability (%)"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("Opportunities moved into this stage take this probability."),
    )
    is_contract = BooleanField(
        _l("Contract stage"),
        description=_l("Opportunities are won here; exactly one pre-sale stage is it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase.choices = choices(Phase)
