"""Forms for importing a CSV file and for merging two customers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

from blueprints.forms_base import CrmForm
from blueprints.imports.uploads import MAX_UPLOAD_BYTES, TOKEN_PATTERN
from crm.labels import options


class ImportUploadForm(CrmForm):
    kind = SelectField(_l("The file holds"))
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("Choose a .csv file (in Excel: Save as, CSV).")),
            FileSize(MAX_UPLOAD_BYTES, message=_l("The file is larger than 20 MB.")),
        ],
    )
    encoding = SelectField(
        _l("Encoding"),
        description=_l(
            "Automatic reads UTF-8 (with or without BOM), and otherwise GB18030 or Big5, "
            "which Excel uses on a Chinese Windows; when it cannot tell, it asks."
        ),
    )

    def errors_on_file(self, message: str) -> None:
        """Show why the file cannot be read under the file field."""
        self.file.errors = [*self.file.errors, message]

    def __init__(self, *args, figures: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [("customers", _l("Customers")), ("contacts", _l("Contacts"))]
        if figures:  # from the billing system: administrators import them
            kinds.append(("figures", _l("Monthly business figures")))
        self.kind.choices = options(kinds)
        self.encoding.choices = options(
            [
                ("auto", _l("Automatic")),
                ("utf-8", "UTF-8"),
                ("gb18030", "GB18030 (GBK)"),
                ("big5", _l("Big5 (traditional Chinese)")),
            ]
        )


class ImportCommitForm(CrmForm):
    token = HiddenField(validators=[DataRequired(), Regexp(TOKEN_PATTERN)])


class ImportEncodingForm(CrmForm):
    """Read a kept upload again in the encoding the user picked from the previews."""

    token = HiddenField(validators=[DataRequired(), Regexp(TOKEN_PATTERN)])
    encoding = SelectField(_l("Encoding"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.encoding.choices = options([("gb18030", "GB18030"), ("big5", "Big5")])


class MergeChoiceForm(CrmForm):
    """The GET form that picks the two customers (nothing changes: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Find customers"), validators=[Optional()])
    survivor = IntegerField(
        _l("Survivor (id of the customer that stays)"),
        validators=[Optional(), NumberRange(min=1)],
    )
    duplicate = IntegerField(
        _l("Duplicate (id of the customer merged into it and deleted)"),
        validators=[Optional(), NumberRange(min=1)],
    )


class MergeForm(CrmForm):
    survivor_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    duplicate_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
