"""The assessment's forms. The targets grid and the weights form have a field per manager or
per indicator: their classes are built per request (`targets_form`, `weights_form`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.forms_base import CrmForm
from crm.labels import choices, options
from crm.services.assessment import catalog
from crm.services.assessment.tasks import MAX_TASK_WEIGHT, TITLE_LIMIT
from models import Marking, ScoringMethod

MAX_FILE_BYTES = 1024 * 1024


class TaskForm(CrmForm):
    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=TITLE_LIMIT)])
    description = TextAreaField(_l("What it asks"), validators=[Optional(), Length(max=2000)])
    weight = IntegerField(
        _l("Weight among the tasks"),
        default=1,
        validators=[InputRequired(), NumberRange(1, MAX_TASK_WEIGHT)],
    )


class ScoreForm(CrmForm):
    score = DecimalField(
        _l("Score (0–100)"), places=2, validators=[InputRequired(), NumberRange(0, 100)]
    )
    comment = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=2000)])
    version = HiddenField()


class PublishForm(CrmForm):
    reason = TextAreaField(
        _l("Why it is published again"), validators=[Optional(), Length(max=1000)]
    )


class ImportTargetsForm(CrmForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("A .csv file, please.")),
            FileSize(MAX_FILE_BYTES, message=_l("At most 1 MB.")),
        ],
    )


def target_field(user_id: int, code: str, part: str) -> str:
    return f"t{user_id}_{code}_{part}"


def share_field(user_id: int, part: str) -> str:
    return f"s{user_id}_{part}"


def targets_form(managers, keys, *, data=None):
    """A number box per manager and target (and a share per business-count part)."""

    class TargetsForm(CrmForm):
        pass

    for manager in managers:
        for code, part in keys:
            name = catalog.PARTS[part].name if part else catalog.INDICATORS[code].name
            setattr(
                TargetsForm,
                target_field(manager.id, code, part),
                DecimalField(name, places=2, validators=[Optional(), NumberRange(min=0)]),
            )
            if part:
                setattr(
                    TargetsForm,
                    share_field(manager.id, part),
                    DecimalField(
                        _l("Share, percent"), places=2, validators=[Optional(), NumberRange(0, 100)]
                    ),
                )
    return TargetsForm(data=data or {})


def weights_form(starts: list[tuple[str, str]], *, data=None):
    """The weights of one level and period kind: a line per indicator, and from when."""

    class WeightsForm(CrmForm):
        starts_on = SelectField(_l("In force from"), choices=options(starts))
        task_weight = DecimalField(
            _l("Temporary tasks"), places=2, validators=[InputRequired(), NumberRange(0, 100)]
        )
        note = StringField(_l("Why (kept with the version)"), validators=[Length(max=300)])

    for code, indicator in catalog.INDICATORS.items():
        prefix = f"w{code}_"
        fields = {
            "weight": DecimalField(
                _l("Weight"), places=2, validators=[InputRequired(), NumberRange(0, 100)]
            ),
            "marking": SelectField(_l("Marking"), choices=choices(Marking)),
            "cap": DecimalField(
                _l("Cap, percent of the weight"), places=2, validators=[InputRequired()]
            ),
            "floor": DecimalField(
                _l("Floor, percent of the weight"), places=2, validators=[InputRequired()]
            ),
        }
        if code == catalog.CHURN:
            fields["method"] = SelectField(_l("Scored"), choices=choices(ScoringMethod))
        if indicator.target_unit is not None and code != catalog.BUSINESS_COUNT:
            fields["default_target"] = DecimalField(
                _l("Level's target"), places=2, validators=[Optional(), NumberRange(min=0)]
            )
        if code == catalog.SATISFACTION:
            fields["per_unit"] = DecimalField(
                _l("Points a complaint costs"), places=2, validators=[InputRequired()]
            )
        for name, field in fields.items():
            setattr(WeightsForm, prefix + name, field)
    return WeightsForm(data=data or {})
