"""Forms of the document pages: upload, new version, rename, and the admin's kinds."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import (
    FileField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueprints.common import ConfirmForm  # noqa: F401  (used by this blueprint's views)
from blueprints.forms_base import CrmForm
from crm.labels import options
from crm.services.documents import library


def kind_options(locale: str, current: int | None = None) -> list:
    """The active kinds (and a document's current one, even if retired), by position."""
    kinds = library.active_kinds()
    if current is not None and current not in {k.id for k in kinds}:
        kinds.append(library.kind_for_any(current))
    return options((kind.id, kind.name_for(locale)) for kind in kinds)


class UploadForm(CrmForm):
    """Several files at once; the kind and title apply to each (a title only to one file)."""

    files = MultipleFileField(_l("Files"))
    kind_id = SelectField(lazy_pgettext("document", "Kind"), coerce=int, validate_choice=False)
    title = StringField(
        lazy_pgettext("document", "Title"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to use each file's name."),
    )

    def __init__(self, *args, locale: str, kind_code: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_id.choices = kind_options(locale)
        if kind_code and not self.is_submitted():
            chosen = library.kind_by_code(kind_code)
            if chosen is not None:
                self.kind_id.data = chosen.id


class VersionForm(CrmForm):
    file = FileField(_l("File"))


class DocumentForm(CrmForm):
    title = StringField(
        lazy_pgettext("document", "Title"), validators=[DataRequired(), Length(max=200)]
    )
    kind_id = SelectField(lazy_pgettext("document", "Kind"), coerce=int, validate_choice=False)
    version = HiddenField()

    def __init__(self, *args, locale: str, current: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_id.choices = kind_options(locale, current)


class KindForm(CrmForm):
    code = StringField(
        _l("Code"),
        validators=[Optional(), Length(max=30)],
        description=_l("Lower-case letters, digits and _; fixed once the kind exists."),
    )
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=50)])
    position = IntegerField(
        _l("Position in lists"),
        validators=[Optional(), NumberRange(min=0, max=9999)],
        description=_l("Lower numbers come first; leave empty to add at the end."),
    )
