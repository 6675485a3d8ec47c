from flask import Blueprint

bp = Blueprint("service", __name__)

from blueprints.service import routes  # noqa: E402,F401  (registers the views)
