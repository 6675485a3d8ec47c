"""Forms of the service ticket pages: a new ticket and each change of one."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from blueprints.forms_base import CrmForm
from crm.labels import choices, options
from crm.services.tickets.lifecycle import NOTE_LENGTH, SATISFACTION, TEXT_LENGTH, TITLE_LENGTH
from models import Contact, TicketCategory, TicketKind, TicketSeverity, User

NONE = 0  # the "— not recorded —" and "— nobody yet —" choices


def _choose(enum_cls) -> list:
    """An enum's choices after "— choose —": a preset would be saved unread."""
    return options([("", _l("— choose —"))]) + choices(enum_cls)


def _one_of(enum_cls, message):
    def check(form, field) -> None:
        if field.data not in {member.value for member in enum_cls}:
            raise ValidationError(message)

    return check


class TicketForm(CrmForm):
    kind = SelectField(
        _l("Complaint or request"),
        validate_choice=False,
        validators=[_one_of(TicketKind, _l("Choose complaint or service request."))],
    )
    category = SelectField(
        _l("Category"),
        validate_choice=False,
        validators=[_one_of(TicketCategory, _l("Choose a category."))],
    )
    severity = SelectField(
        _l("Severity"),
        validate_choice=False,
        validators=[_one_of(TicketSeverity, _l("Choose the severity: it sets the due time."))],
    )
    title = StringField(_l("Subject"), validators=[Optional(), Length(max=TITLE_LENGTH)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_LENGTH)])
    raised_by_id = SelectField(_l("Raised by"), coerce=int, validate_choice=False)
    handler_id = SelectField(_l("Handler"), coerce=int, validate_choice=False)

    def __init__(
        self, *args, contacts: Iterable[Contact] = (), handlers: Iterable[User] = (), **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choose(TicketKind)
        self.category.choices = _choose(TicketCategory)
        self.severity.choices = _choose(TicketSeverity)
        self.raised_by_id.choices = options(
            [(NONE, _l("— not recorded —"))] + [(c.id, c.name) for c in contacts]
        )
        self.handler_id.choices = options(
            [(NONE, _l("— nobody yet —"))] + [(u.id, u.display_name) for u in handlers]
        )


def _a_version(form, field) -> None:
    """The version the form was opened at: a number, or the form is not ours."""
    if not (field.data or "").isdigit():
        raise ValidationError(_l("This form is out of date: open the ticket again."))


class _ChangeForm(CrmForm):
    """What every change of a ticket carries: the version of the ticket it was made from."""

    version = HiddenField(validators=[_a_version])


class StartForm(_ChangeForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=NOTE_LENGTH)])


class ResolveForm(_ChangeForm):
    resolution = TextAreaField(_l("Resolution"), validators=[Optional(), Length(max=TEXT_LENGTH)])


class CloseForm(_ChangeForm):
    satisfaction = SelectField(_l("Customer's satisfaction"), validate_choice=False)
    comment = TextAreaField(
        _l("Customer's comment"), validators=[Optional(), Length(max=NOTE_LENGTH)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.satisfaction.choices = options(
            [
                ("", _l("— choose —")),
                ("5", _l("5 · very satisfied")),
                ("4", _l("4 · satisfied")),
                ("3", _l("3 · neutral")),
                ("2", _l("2 · dissatisfied")),
                ("1", _l("1 · very dissatisfied")),
            ]
        )

    def validate_satisfaction(self, field) -> None:
        if field.data and not (field.data.isdigit() and int(field.data) in SATISFACTION):
            raise ValidationError(_l("Choose from 1 to 5."))

    @property
    def score(self) -> int | None:
        return int(self.satisfaction.data) if self.satisfaction.data else None


class ReopenForm(_ChangeForm):
    note = TextAreaField(
        _l("Why it is reopened (optional)"), validators=[Optional(), Length(max=NOTE_LENGTH)]
    )


class HandlerForm(_ChangeForm):
    handler_id = SelectField(_l("Handler"), coerce=int, validate_choice=False)

    def __init__(self, *args, handlers: Iterable[User] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.handler_id.choices = options(
            [(NONE, _l("— choose —"))] + [(u.id, u.display_name) for u in handlers]
        )
