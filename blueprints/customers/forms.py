"""Forms of the customer pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
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
    StopValidation,
)
from wtforms.widgets import HiddenInput

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from blueprints.pickers import picker_attrs
from crm.labels import choices, options
from crm.services.archive.identity import normalise_credit_code
from crm.services.pickers import Shortlist
from models import Customer, CustomerStatus, Industry, LossReason, Strategy, Tier

MONEY_MAX = Decimal("99999999999999")
CENT = Decimal("0.01")


def finite_amount(form, field) -> None:
    """Decimal() accepts "NaN" and "Infinity"; an amount must be a plain number."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter an amount in yuan, e.g. 1200000."))


def _money_field(label) -> DecimalField:
    return DecimalField(
        label,
        places=2,
        validators=[Optional(), finite_amount, NumberRange(min=0, max=MONEY_MAX)],
    )


class CustomerForm(CrmForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(
        _l("Unified social credit code"),
        # Typed in lower case, with spaces or full-width: read as the code it means.
        filters=[normalise_credit_code],
        validators=[Optional(), Length(max=30)],
        description=_l("18 characters."),
    )
    # Pickers (crm/services/pickers.py): the page holds a short list, the server takes any
    # id in scope (the customer service checks it) whatever the page showed.
    parent_id = SelectField(_l("Parent customer (group)"), coerce=int, validate_choice=False)
    industry_id = SelectField(_l("Industry"), coerce=int)
    region = StringField(_l("Region / city"), validators=[Optional(), Length(max=50)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    employees = IntegerField(
        _l("Employees"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    annual_revenue = _money_field(_l("Annual revenue (CNY)"))
    annual_spend = _money_field(_l("Estimated annual telecom/banking spend (CNY)"))
    tier = SelectField(_l("Value tier"))
    strategy = SelectField(_l("Strategy class"))
    status = SelectField(_l("Status"))
    products_in_use = TextAreaField(
        _l("Products and services in use"), validators=[Optional(), Length(max=2000)]
    )
    contract_expiry = DateField(_l("Main contract expiry"), validators=[Optional()])
    owner_id = SelectField(_l("Owner (account manager)"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    confirm_duplicate = BooleanField(_l("This is a different customer: save it anyway."))

    def __init__(
        self,
        *args: Any,
        industries: list[Industry] = (),
        locale: str = "zh_CN",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.industry_id.choices = options(
            [(0, "—")] + [(i.id, i.name_for(locale)) for i in industries]
        )
        self.tier.choices = choices(Tier)
        self.strategy.choices = options([("", "—")]) + choices(Strategy)
        self.status.choices = choices(CustomerStatus)

    def offer(self, *, parents: Shortlist, owners: Shortlist, urls: dict[str, str]) -> None:
        """The pickers' short lists; `urls`: where each field's type-ahead searches."""
        self.parent_id.choices = options([(0, "—"), *parents.options])
        self.parent_id.render_kw = picker_attrs(urls["parent_id"], parents)
        if len(owners.options) > 1 or owners.more:
            self.owner_id.choices = options(owners.options)
            self.owner_id.render_kw = picker_attrs(urls["owner_id"], owners)
        else:
            del self.owner_id  # a manager owns what they create: nothing to choose

    def show_customer(self, customer: Customer) -> None:
        """Fill the fields the select boxes cannot take from the record as they are."""
        self.tier.data = customer.tier.value
        self.strategy.data = customer.strategy.value if customer.strategy else ""
        self.status.data = customer.status.value
        self.parent_id.data = customer.parent_id or 0
        self.industry_id.data = customer.industry_id or 0
        if "owner_id" in self:
            self.owner_id.data = customer.owner_id

    def profile_values(self) -> dict[str, Any]:
        """The fields as the customer service takes them (empty choices become None)."""
        values = {
            "name": self.name.data,
            "credit_code": self.credit_code.data,
            "parent_id": self.parent_id.data or None,
            "industry_id": self.industry_id.data or None,
            "region": self.region.data,
            "address": self.address.data,
            "employees": self.employees.data,
            "annual_revenue": _cents(self.annual_revenue.data),
            "annual_spend": _cents(self.annual_spend.data),
            "tier": Tier(self.tier.data),
            "strategy": Strategy(self.strategy.data) if self.strategy.data else None,
            "status": CustomerStatus(self.status.data),
            "products_in_use": self.products_in_use.data,
            "contract_expiry": self.contract_expiry.data,
            "notes": self.notes.data,
        }
        if "owner_id" in self:
            values["owner_id"] = self.owner_id.data
        return values


class CustomerEditForm(CustomerForm):
    # The version the user started from: a save from an older one is refused.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _cents(amount: Decimal | None) -> Decimal | None:
    return amount.quantize(CENT) if amount is not None else None


class LostCustomerForm(CrmForm):
    """Why the customer left and to whom: what the supervisor's "lost this quarter" reads."""

    reason = SelectField(_l("Why was the customer lost?"), validators=[DataRequired()])
    competitor_id = SelectField(
        _l("Went to competitor"),
        coerce=int,
        default=0,
        description=_l("Required when the reason is a competitor."),
    )
    note = TextAreaField(
        _l("What happened"),
        validators=[Optional(), Length(max=2000)],
        description=_l("What the customer said, and what could have kept them."),
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def __init__(self, *args: Any, competitors: list = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = options([("", "—")]) + choices(LossReason)
        self.competitor_id.choices = options([(0, "—")] + [(c.id, c.name) for c in competitors])
