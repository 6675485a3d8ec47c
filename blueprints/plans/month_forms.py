"""Forms of the monthly plan page: the goals and free text, and a key customer to add."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from blueprints.forms_base import CrmForm
from blueprints.plans.forms import ManySelect
from crm.labels import choices
from crm.services.plans import month as month_plan
from models import KeyCustomerAim


class GoalsForm(CrmForm):
    """The month's goals (empty: no goal) and free text; the service checks them again."""

    visits = IntegerField(
        _l("Visits"),
        validators=[Optional(), NumberRange(min=0, max=month_plan.MAX_VISITS)],
    )
    new_opportunities = IntegerField(
        _l("New opportunities"),
        validators=[Optional(), NumberRange(min=0, max=month_plan.MAX_NEW_OPPORTUNITIES)],
    )
    # The service refuses more than two decimals rather than rounding what was typed.
    won_amount = DecimalField(
        _l("Won amount (yuan)"),
        validators=[Optional(), NumberRange(min=0, max=month_plan.MAX_WON_AMOUNT)],
    )
    focus = TextAreaField(
        _l("Free text"),
        validators=[Optional(), Length(max=month_plan.TEXT_LIMIT)],
        description=_l("What this month is about: priorities, events, support you need."),
    )
    version = HiddenField()


class KeyCustomerForm(CrmForm):
    """A customer of the manager's portfolio to advance or develop, and what should happen."""

    # The service checks that the customer is in the manager's portfolio, with a message.
    customer_id = SelectField(
        _l("Customer"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired()],
        widget=ManySelect(),
    )
    aim_kind = RadioField(
        _l("Aim"), default=KeyCustomerAim.ADVANCE.value, validators=[InputRequired()]
    )
    aim = TextAreaField(
        _l("What should happen"),
        validators=[Optional(), Length(max=month_plan.AIM_LIMIT)],
        description=_l("E.g. meet the decision maker; proposal accepted; first order."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = []  # blueprints/plans/forms.py offer_own_customers
        self.aim_kind.choices = choices(KeyCustomerAim)
