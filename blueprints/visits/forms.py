"""Forms for logging and editing visits, and for the visit cadences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.forms_base import CrmForm
from crm.labels import choices, label, options
from crm.services.activity.cadence import MAX_DAYS, MIN_DAYS
from models import Contact, Opportunity, Tier, VisitKind

TEXT = [Optional(), Length(max=5000)]

# Display names of the audited fields, for the "current values" of a stale edit.
FIELD_LABELS = {
    "occurred_at": _l("Date and time"),
    "kind": _l("Kind"),
    "opportunity_id": _l("Opportunity"),
    "contact_ids": _l("Contacts met"),
    "purpose": _l("Purpose"),
    "outcome": _l("Outcome"),
    "next_step": _l("Next step"),
    "follow_up_on": _l("Next follow-up"),
}


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes (easier to tap than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VisitForm(CrmForm):
    occurred_on = DateField(_l("Date"), validators=[InputRequired()])
    occurred_time = TimeField(_l("Time"), validators=[InputRequired()])
    kind = RadioField(FIELD_LABELS["kind"], validators=[InputRequired()])
    # The service checks that contacts and opportunity are the customer's, with a clear message.
    contact_ids = CheckboxesField(FIELD_LABELS["contact_ids"], coerce=int, validate_choice=False)
    opportunity_id = SelectField(FIELD_LABELS["opportunity_id"], coerce=int, validate_choice=False)
    purpose = TextAreaField(FIELD_LABELS["purpose"], validators=TEXT)
    outcome = TextAreaField(FIELD_LABELS["outcome"], validators=TEXT)
    next_step = TextAreaField(FIELD_LABELS["next_step"], validators=TEXT)
    follow_up_on = DateField(
        FIELD_LABELS["follow_up_on"],
        validators=[Optional()],
        description=_l("A follow-up reminder for the customer's owner on that day."),
    )
    version = HiddenField()

    def __init__(
        self,
        *args,
        contacts: Iterable[Contact] = (),
        opportunities: Iterable[Opportunity] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(VisitKind)
        self.contact_ids.choices = options(
            (c.id, " · ".join(filter(None, (c.name, c.title, label(c.role))))) for c in contacts
        )
        self.opportunity_id.choices = options(
            [(0, _l("— none —"))] + [(o.id, o.title) for o in opportunities]
        )

    def occurred_at(self, zone: ZoneInfo) -> datetime:
        """The entered local date and time as an aware datetime in the user's zone."""
        return datetime.combine(self.occurred_on.data, self.occurred_time.data, tzinfo=zone)

    def visit_fields(self, zone: ZoneInfo) -> dict:
        """The submitted values as keyword arguments for the visits service."""
        return {
            "occurred_at": self.occurred_at(zone),
            "kind": self.kind.data,
            "opportunity": self.opportunity_id.data or None,
            "contacts": self.contact_ids.data or [],
            "purpose": self.purpose.data,
            "outcome": self.outcome.data,
            "next_step": self.next_step.data,
            "follow_up_on": self.follow_up_on.data,
        }


class NewVisitForm(VisitForm):
    """Logging a visit: the fields of a visit, and the check-in the browser may fill in.

    The check-in fields are hidden: static/js/check-in.js fills them from the browser's
    location when the manager taps "Check in here". The service validates them.
    """

    check_in_lat = HiddenField()
    check_in_lng = HiddenField()
    check_in_accuracy_m = HiddenField()
    confirm_site = BooleanField(
        _l("This is the customer's site"),
        description=_l("The customer has no site yet: this check-in becomes its site."),
    )

    def check_in_fields(self) -> dict:
        return {
            "check_in_lat": self.check_in_lat.data,
            "check_in_lng": self.check_in_lng.data,
            "check_in_accuracy_m": self.check_in_accuracy_m.data,
            "confirm_site": self.confirm_site.data,
        }


class SiteForm(CrmForm):
    """An administrator's setting of a customer's site (both empty clears it)."""

    site_lat = StringField(_l("Latitude"), validators=[Optional(), Length(max=30)])
    site_lng = StringField(_l("Longitude"), validators=[Optional(), Length(max=30)])


def _cadence_field(tier: Tier) -> IntegerField:
    return IntegerField(
        _l("Tier %(tier)s", tier=tier.value),
        validators=[InputRequired(), NumberRange(min=MIN_DAYS, max=MAX_DAYS)],
    )


class CadenceForm(CrmForm):
    """Days between visits per tier."""

    tier_a_plus = _cadence_field(Tier.A_PLUS)
    tier_a = _cadence_field(Tier.A)
    tier_b = _cadence_field(Tier.B)
    tier_c = _cadence_field(Tier.C)

    @staticmethod
    def field_name(tier: Tier) -> str:
        return f"tier_{tier.name.lower()}"

    def days(self) -> dict[Tier, int]:
        return {tier: self[self.field_name(tier)].data for tier in Tier}


def local_parts(value: datetime, zone: ZoneInfo) -> tuple[date, time]:
    """The local date and minute-precision time of a UTC instant."""
    local = value.astimezone(zone)
    return local.date(), local.time().replace(second=0, microsecond=0)
