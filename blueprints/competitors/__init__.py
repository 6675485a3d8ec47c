from flask import Blueprint

bp = Blueprint("competitors", __name__)

from blueprints.competitors import routes  # noqa: E402,F401  (registers the views)
