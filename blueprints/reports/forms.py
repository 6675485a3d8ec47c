"""The targets form (one per manager row on the targets page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from blueprints.forms_base import CrmForm
from crm.services.reporting.targets import MAX_WEEKLY_VISITS


class TargetForm(CrmForm):
    manager_id = HiddenField(validators=[InputRequired()])
    weekly_visits = IntegerField(
        _l("Visits a week"), validators=[InputRequired(), NumberRange(0, MAX_WEEKLY_VISITS)]
    )
    quarterly_won = DecimalField(
        _l("Won amount a quarter"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )
