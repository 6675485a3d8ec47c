"""Forms for follow-up reminders: new, done (with the visit), snooze, reschedule, dismiss."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from blueprints.forms_base import CrmForm
from blueprints.reminders.row_texts import OUTCOME_LENGTH
from crm.labels import choices, options
from crm.services.followups.reminders import NOTE_LENGTH, SNOOZE_DAYS
from models import Opportunity, VisitKind


class _ActionForm(CrmForm):
    """What every action on one reminder carries: the version seen and where to go back."""

    version = HiddenField()
    next = HiddenField()


class ReminderForm(CrmForm):
    due_on = DateField(_l("Day"), validators=[InputRequired()])
    due_time = TimeField(
        _l("Time (optional)"),
        validators=[Optional()],
        description=_l("Without a time, the reminder email comes at 08:30 that day."),
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LENGTH)])
    opportunity_id = SelectField(_l("Opportunity"), coerce=int, validate_choice=False)

    def __init__(self, *args, opportunities: Iterable[Opportunity] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.opportunity_id.choices = options(
            [(0, _l("— none —"))] + [(o.id, o.title) for o in opportunities]
        )


class DoneForm(_ActionForm):
    """Done; with `log_visit`, the visit is logged in the same transaction."""

    log_visit = BooleanField(_l("Log the visit too"))
    # Starts on "choose": a preset kind would log a phone call as an on-site visit unasked.
    kind = SelectField(_l("Kind of visit"), validate_choice=False)
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=OUTCOME_LENGTH)])
    follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = options([("", _l("— choose —"))]) + choices(VisitKind)

    def validate_kind(self, field) -> None:
        """With the visit logged, its kind must be one of the list (never a silent default)."""
        if self.log_visit.data and field.data not in {kind.value for kind in VisitKind}:
            raise ValidationError(_l("Choose the kind of visit."))


class DismissForm(_ActionForm):
    pass


class SnoozeForm(_ActionForm):
    # The buttons send days=1, 3 or 7; the date field with its own button sends `until`.
    days = IntegerField(validators=[Optional(), AnyOf(SNOOZE_DAYS)])
    until = DateField(_l("Until"), validators=[Optional()])


class RescheduleForm(_ActionForm):
    due_on = DateField(_l("Day"), validators=[InputRequired()])
    due_time = TimeField(_l("Time (optional)"), validators=[Optional()])
