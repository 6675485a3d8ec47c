from flask import Blueprint

bp = Blueprint("opportunities", __name__)

from blueprints.opportunities import actions, routes  # noqa: E402,F401  (registers the views)
