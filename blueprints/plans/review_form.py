"""The supervisor's verdict on a plan: a rating, a comment (or the reason for returning)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from blueprints.forms_base import CrmForm
from crm.labels import choices
from crm.services.plans.lifecycle import COMMENT_LIMIT
from models import Rating


class ReviewForm(CrmForm):
    # No default: a rating is chosen, never assumed. The service asks for it when the
    # plan is reviewed, and ignores it when the plan is returned.
    rating = RadioField(lazy_pgettext("review", "Rating"), validate_choice=False)
    comment = TextAreaField(
        _l("Comment, or the reason for returning it"),
        validators=[Optional(), Length(max=COMMENT_LIMIT)],
    )
    # The plan's version when the page was opened: a verdict on a plan the manager has
    # changed since is refused.
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating.choices = choices(Rating)

    def chosen_rating(self) -> Rating | None:
        return Rating(self.rating.data) if self.rating.data in set(Rating) else None
