"""In-app notices: the bell in the top bar and the list of what happened."""

from flask import Blueprint

bp = Blueprint("notices", __name__)

from blueprints.notices import routes  # noqa: E402,F401  (registers the views)
