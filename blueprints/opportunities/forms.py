"""Forms of the opportunity pages: new/edit, moving, winning and losing, people on it."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from blueprints.pickers import picker_attrs
from crm.labels import choices, options
from crm.services.pickers import Shortlist
from models import BuyingRole, Competitor, Contact, LostReason, Stage

# Display names of the fields, shared by the forms and the history table.
FIELD_LABELS = {
    "title": lazy_pgettext("opportunity", "Title"),  # not a contact's job title
    "solution": _l("Products / solution"),
    "amount": _l("Estimated amount (CNY)"),
    "expected_close": _l("Expected close"),
    "stage_id": _l("Stage"),
    "probability": _l("Probability (%)"),
    "owner_id": _l("Owner"),
    "next_step": _l("Next step"),
    "next_step_on": _l("Next step on"),
    "status": _l("Status"),
}
# Names of the fields a history row records.
HISTORY_LABELS = {
    "stage_id": _l("Stage"),
    "status": _l("Status"),
    "amount": _l("Amount"),
    "probability": _l("Probability"),
    "expected_close": _l("Expected close"),
}
AMOUNT_RANGE = NumberRange(min=0, max=99999999999999)


def stage_options(stages: Iterable[Stage]) -> list:
    locale = str(get_locale())
    return options((s.id, s.name_for(locale)) for s in stages)


class _DetailFields(CrmForm):
    title = StringField(FIELD_LABELS["title"], validators=[DataRequired(), Length(max=200)])
    solution = TextAreaField(FIELD_LABELS["solution"], validators=[Optional(), Length(max=5000)])
    amount = DecimalField(FIELD_LABELS["amount"], places=2, validators=[Optional(), AMOUNT_RANGE])
    expected_close = DateField(FIELD_LABELS["expected_close"], validators=[Optional()])
    # A picker (crm/services/pickers.py): the page holds a short list, the service checks
    # whatever id arrives.
    owner_id = SelectField(FIELD_LABELS["owner_id"], coerce=int, validate_choice=False)
    next_step = StringField(FIELD_LABELS["next_step"], validators=[Optional(), Length(max=300)])
    next_step_on = DateField(FIELD_LABELS["next_step_on"], validators=[Optional()])

    def offer_owners(self, owners: Shortlist, url: str) -> None:
        """The owner picker's short list; `url`: where its type-ahead searches."""
        self.owner_id.choices = options(owners.options)
        self.owner_id.render_kw = picker_attrs(url, owners)

    def detail_fields(self) -> dict:
        return {
            "title": self.title.data,
            "solution": self.solution.data,
            "amount": self.amount.data,
            "expected_close": self.expected_close.data,
            "next_step": self.next_step.data,
            "next_step_on": self.next_step_on.data,
        }


class NewOpportunityForm(_DetailFields):
    stage_id = SelectField(FIELD_LABELS["stage_id"], coerce=int)
    probability = IntegerField(
        FIELD_LABELS["probability"],
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("Leave empty for the stage's default."),
    )

    def __init__(self, *args, stages: Iterable[Stage] = (), **kw):
        super().__init__(*args, **kw)
        self.stage_id.choices = stage_options(stages)


class EditOpportunityForm(_DetailFields):
    probability = IntegerField(
        FIELD_LABELS["probability"], validators=[InputRequired(), NumberRange(min=0, max=100)]
    )
    version = HiddenField()


class MoveForm(CrmForm):
    stage_id = SelectField(_l("Move to stage"), coerce=int)
    version = HiddenField()
    next = HiddenField()

    def __init__(self, *args, stages: Iterable[Stage] = (), **kw):
        super().__init__(*args, **kw)
        self.stage_id.choices = stage_options(stages)


class WonForm(CrmForm):
    contract_date = DateField(_l("Contract date"), validators=[DataRequired()])
    amount = DecimalField(
        _l("Contract amount (CNY)"), places=2, validators=[DataRequired(), AMOUNT_RANGE]
    )
    version = HiddenField()


class LostForm(CrmForm):
    reason = SelectField(_l("Reason"), validators=[DataRequired()])
    competitor_id = SelectField(_l("Lost to competitor"), coerce=int, default=0)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()

    def __init__(self, *args, competitors: Iterable[Competitor] = (), **kw):
        super().__init__(*args, **kw)
        self.reason.choices = options([("", "—")]) + choices(LostReason)
        self.competitor_id.choices = options([(0, "—")] + [(c.id, c.name) for c in competitors])


class AddContactForm(CrmForm):
    contact_id = SelectField(_l("Contact"), coerce=int)
    role = SelectField(_l("Role on this opportunity"))
    is_primary = BooleanField(_l("Primary contact"))

    def __init__(self, *args, contacts: Iterable[Contact] = (), **kw):
        super().__init__(*args, **kw)
        # Starts on "choose", like the competitor below: the first contact was added unread.
        self.contact_id.choices = options(
            [(0, _l("— choose —"))]
            + [(c.id, f"{c.name} · {c.title}" if c.title else c.name) for c in contacts]
        )
        self.role.choices = options([("", _l("Their role at the customer"))]) + choices(BuyingRole)

    def validate_contact_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a contact."))


class AddCompetitorForm(CrmForm):
    competitor_id = SelectField(_l("Competitor"), coerce=int)
    offer = TextAreaField(_l("Their offer"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, competitors: Iterable[Competitor] = (), **kw):
        super().__init__(*args, **kw)
        # Starts on "choose": the first competitor of the list was recorded unread.
        self.competitor_id.choices = options(
            [(0, _l("— choose —"))] + [(c.id, c.name) for c in competitors]
        )

    def validate_competitor_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a competitor."))


class RemoveContactForm(CrmForm):
    contact_id = IntegerField(validators=[DataRequired()])


class RemoveCompetitorForm(CrmForm):
    competitor_id = IntegerField(validators=[DataRequired()])
