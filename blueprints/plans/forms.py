"""Forms of the weekly plan page: a planned visit, a task, the focus, a visit to link."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import url_for
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, Select

from blueprints.forms_base import CrmForm
from blueprints.pickers import picker_attrs
from crm.labels import options
from crm.request_cache import per_request
from crm.services.archive import picker as customer_picker
from crm.services.plans import week as week_plan
from models import Contact, Opportunity, User


def iso_day(value) -> date | None:
    """A day sent as 2026-12-08 (the day choices' values); empty means none."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


def day_names(days: Iterable[date]) -> dict[date, str]:
    """{day: "Tue 12/8"} in the user's language: worked out once per page view, which
    shows the week's days in several forms and headings."""
    days = tuple(days)
    return per_request(  # the locale too: force_locale may change it within a request
        f"plan day names {get_locale()} {days}",
        lambda: {d: format_date(d, "EEE M/d") for d in days},
    )


def day_options(days: Iterable[date], *, empty: bool) -> list:
    """The week's days as choices ("Tue 12/8"), built per request in the user's language."""
    pairs = [("", _l("— no day —"))] if empty else []
    return options(pairs + [(d.isoformat(), name) for d, name in day_names(days).items()])


class ManySelect(Select):
    """A select of many options (the customer pickers: a portfolio of hundreds) rendered
    as WTForms' Select renders it, each plain option by one format instead of its
    attribute builder (which sorts, escapes and formats each attribute apart)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return f'<option {selected}value="{escape(value)}">{label}</option>'


def offer_own_customers(form: CrmForm, *, viewer: User) -> None:
    """A plan form's customer picker: the manager's own customers as a short list holding the
    one submitted (crm/services/pickers.py), after the form's own first choice if it has one;
    the type-ahead finds the rest, and the plan service judges whatever id arrives."""
    customers = customer_picker.own_shortlist(viewer=viewer, chosen=form.customer_id.data or None)
    form.customer_id.choices = [*(form.customer_id.choices or []), *options(customers.options)]
    form.customer_id.render_kw = picker_attrs(url_for("customers.pick"), customers)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlannedVisitForm(CrmForm):
    """A visit to plan; the service checks customer, day, contacts and opportunity again."""

    customer_id = SelectField(
        _l("Customer"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired()],
        widget=ManySelect(),
    )
    day = SelectField(
        _l("Day"), coerce=iso_day, validate_choice=False, validators=[InputRequired()]
    )
    purpose = TextAreaField(
        _l("Purpose"), validators=[Optional(), Length(max=week_plan.PURPOSE_LIMIT)]
    )
    opportunity_id = SelectField(
        _l("Opportunity"), coerce=int, validate_choice=False, validators=[Optional()]
    )

    def __init__(self, *args, days: Iterable[date] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_id.choices = options([(0, _l("— choose a customer —"))])
        self.day.choices = day_options(days, empty=False)
        self.opportunity_id.choices = options([(0, _l("— none —"))])


class PlannedVisitEditForm(CrmForm):
    """Day, purpose, contacts to meet and opportunity of a planned visit."""

    day = SelectField(
        _l("Day"), coerce=iso_day, validate_choice=False, validators=[InputRequired()]
    )
    purpose = TextAreaField(
        _l("Purpose"), validators=[Optional(), Length(max=week_plan.PURPOSE_LIMIT)]
    )
    contact_ids = CheckboxesField(_l("Contacts to meet"), coerce=int, validate_choice=False)
    opportunity_id = SelectField(
        _l("Opportunity"), coerce=int, validate_choice=False, validators=[Optional()]
    )

    def __init__(
        self,
        *args,
        days: Iterable[date] = (),
        contacts: Iterable[Contact | week_plan.ContactChoice] = (),
        opportunities: Iterable[Opportunity | week_plan.OpportunityChoice] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.day.choices = day_options(days, empty=False)
        self.contact_ids.choices = options((c.id, c.name) for c in contacts)
        self.opportunity_id.choices = options(
            [(0, _l("— none —"))] + [(o.id, o.title) for o in opportunities]
        )


class TaskForm(CrmForm):
    text = StringField(_l("Task"), validators=[InputRequired(), Length(max=week_plan.TASK_LIMIT)])
    day = SelectField(_l("Day"), coerce=iso_day, validate_choice=False, validators=[Optional()])

    def __init__(self, *args, days: Iterable[date] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.day.choices = day_options(days, empty=True)


class FocusForm(CrmForm):
    focus = TextAreaField(
        _l("Focus of the week"),
        validators=[Optional(), Length(max=week_plan.FOCUS_LIMIT)],
        description=_l("What matters most this week, in a sentence or two."),
    )


class LinkVisitForm(CrmForm):
    """Which logged visit carried out a planned visit (0: let the app find it)."""

    visit_id = SelectField(_l("Carried out by"), coerce=int, validate_choice=False)

    def __init__(self, *args, visits: Iterable[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.visit_id.choices = options([(0, _l("— find it automatically —")), *visits])
