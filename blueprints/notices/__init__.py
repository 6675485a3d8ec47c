"""In-app notices: the bell in the top bar and the list of what happened."""

from flask import Blueprint
from flask_login import current_user

from crm.services.notices import inbox

bp = Blueprint("notices", __name__)


@bp.app_template_global("unread_notices")
def unread_notices() -> int:
    """The bell's count: loaded with the signed-in user, so no statement of its own."""
    if not current_user.is_authenticated:
        return 0
    return inbox.unread_count(current_user)


from blueprints.notices import routes  # noqa: E402,F401  (registers the views)
