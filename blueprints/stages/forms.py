"""Forms of the stage administration."""

from collections.abc import Iterable

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from crm.labels import choices, options
from models import DocumentKind, DocumentRule, Phase


class StageForm(CrmForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=50)])
    phase = SelectField(_l("Phase"))
    probability = IntegerField(
        _l("Default probability (%)"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("Opportunities moved into this stage take this probability."),
    )
    is_contract = BooleanField(
        _l("Contract stage"),
        description=_l("Opportunities are won here; exactly one pre-sale stage is it."),
    )

    # The stage document rule (off by default): see crm/services/pipeline/document_rules.py.
    # Not sent (the new-stage form has none): the rule stays as it is. The service checks it.
    document_rule = SelectField(
        _l("Document rule"),
        default=None,
        validate_choice=False,
        description=_l(
            "Require: a move into this stage is refused until the opportunity has a document "
            "of the kind. Suggest: the move goes through and the page asks to attach one."
        ),
    )
    document_kind = SelectField(_l("Document kind"), validate_choice=False)

    def __init__(self, *args, kinds: Iterable[DocumentKind] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.phase.choices = choices(Phase)
        self.document_rule.choices = choices(DocumentRule)
        locale = str(get_locale())
        self.document_kind.choices = options(
            [("", _l("— none —"))] + [(kind.code, kind.name_for(locale)) for kind in kinds]
        )
