"""Forms of the handover pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from blueprints.pickers import picker_attrs
from crm.labels import options
from crm.services.pickers import Shortlist


class HandoverForm(CrmForm):
    """The new owner, what moves along, and the note; the selection travels as sel_* inputs."""

    # A picker (crm/services/pickers.py): a short list on the page; the handover service
    # checks whatever id arrives (crm/services/handover/transfer.py check_target).
    to_owner = SelectField(_l("New owner"), coerce=int, validate_choice=False)
    open_opportunities = BooleanField(_l("Move open opportunities"), default=True)
    pending_reminders = BooleanField(_l("Move pending follow-ups"), default=True)
    closed_opportunities = BooleanField(
        _l("Move closed opportunities too (normally they keep their historical owner)"),
        default=False,
    )
    note = TextAreaField(
        _l("Handover note"),
        validators=[Optional(), Length(max=5000)],
        description=_l(
            "What the new manager must know: relationships, promises made, open issues."
        ),
    )
    reason = TextAreaField(
        _l("Reason for a less senior owner"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Required when a customer's tier needs a more senior manager."),
    )
    token = HiddenField()
    fingerprint = HiddenField()
    request_id = HiddenField()
    preview = SubmitField(_l("Preview"))
    commit = SubmitField(_l("Hand over"))

    def offer_owners(self, owners: Shortlist, url: str) -> None:
        """The new owner picker's short list; `url`: where its type-ahead searches."""
        self.to_owner.choices = options([(0, "—"), *owners.options])
        self.to_owner.render_kw = picker_attrs(url, owners)


class RequestForm(CrmForm):
    to_owner = SelectField(_l("Suggested new owner"), coerce=int)
    note = TextAreaField(
        _l("Why should this customer be handed over?"),
        validators=[DataRequired(), Length(max=2000)],
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.to_owner.choices = options(
            [(0, _l("Let my supervisor choose"))] + [(u.id, u.display_name) for u in owners]
        )


class DeclineForm(CrmForm):
    note = TextAreaField(_l("Why not?"), validators=[Optional(), Length(max=2000)])
