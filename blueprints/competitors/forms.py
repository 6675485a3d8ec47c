"""Forms of competitor profiles and of the /competitors/ filters."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from crm.labels import choices, label, options
from models import InfoSource, ThreatLevel

TEXT_LIMIT = 2000


class ProfileForm(CrmForm):
    """What one competitor does at one customer (the edit form leaves out the competitor)."""

    competitor_id = SelectField(
        _l("Competitor"),
        coerce=int,
        # The service refuses unknown, retired and already profiled competitors with a clear
        # message (and a link to the existing profile), so WTForms' generic choice check is off.
        validate_choice=False,
    )
    threat = SelectField(
        _l("Threat level"), validators=[DataRequired(message=_l("Choose the threat level."))]
    )
    products = TextAreaField(
        _l("Products and services the customer buys from them"),
        validators=[Optional(), Length(max=TEXT_LIMIT)],
    )
    offer = TextAreaField(_l("Their offer"), validators=[Optional(), Length(max=TEXT_LIMIT)])
    discount_percent = DecimalField(
        _l("Their discount (percent off the list price)"),
        places=2,
        validators=[Optional()],
        description=_l("For example 15 for 15 percent off; 0 to 100."),
    )
    contract_expiry = DateField(_l("Their contract expires on"), validators=[Optional()])
    strengths = TextAreaField(_l("Strengths"), validators=[Optional(), Length(max=TEXT_LIMIT)])
    weaknesses = TextAreaField(_l("Weaknesses"), validators=[Optional(), Length(max=TEXT_LIMIT)])
    source = SelectField(_l("Where the information came from"), validators=[Optional()])
    confirmed_on = DateField(_l("Last confirmed on"), validators=[InputRequired()])
    version = HiddenField()

    def __init__(self, *args, competitors=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Competitor and threat start on "choose": a preset one was saved unread.
        self.threat.choices = options([("", _l("— choose —"))]) + choices(ThreatLevel)
        self.source.choices = options(
            [("", "—")] + [(member.value, label(member)) for member in InfoSource]
        )
        if competitors is None:
            del self.competitor_id
        else:
            self.competitor_id.choices = options(
                [(0, _l("— choose —"))] + [(c.id, c.name) for c in competitors]
            )

    def validate_competitor_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a competitor."))

    def values(self) -> dict:
        """The profile's fields as the service takes them."""
        return {
            "products": self.products.data,
            "offer": self.offer.data,
            "discount_percent": self.discount_percent.data,
            "contract_expiry": self.contract_expiry.data,
            "strengths": self.strengths.data,
            "weaknesses": self.weaknesses.data,
            "threat": self.threat.data,
            "source": self.source.data or None,
            "confirmed_on": self.confirmed_on.data,
        }
