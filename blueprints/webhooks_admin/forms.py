"""The subscription form; crm/services/webhooks/subscriptions.py checks every field again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Length

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from blueprints.visits.forms import CheckboxesField
from crm.i18n import LANGUAGE_NAMES
from crm.labels import options
from crm.services.webhooks.addresses import URL_LENGTH
from crm.services.webhooks.catalog import EVENT_LABELS, FORMAT_LABELS
from crm.services.webhooks.subscriptions import NAME_LENGTH


class SubscriptionForm(CrmForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=NAME_LENGTH)],
        description=_l("For you: which system or group this is, e.g. Sales group robot."),
    )
    url = URLField(
        _l("Receiver URL"),
        validators=[DataRequired(), Length(max=URL_LENGTH)],
        description=_l(
            "Where each event is POSTed: http:// or https://. For a group robot, its webhook "
            "address as the robot's settings show it."
        ),
    )
    events = CheckboxesField(
        _l("Events"), validators=[DataRequired(message=_l("Choose at least one event."))]
    )
    payload_format = SelectField(_l("Body"))
    language = SelectField(
        _l("Language of a robot's text"), choices=options(LANGUAGE_NAMES.items())
    )
    active = BooleanField(_l("On: send the events"), default=True)
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = options((event.value, text) for event, text in EVENT_LABELS.items())
        self.payload_format.choices = options(
            (fmt.value, text) for fmt, text in FORMAT_LABELS.items()
        )
