from flask import Blueprint

bp = Blueprint("reports", __name__)

from blueprints.reports import routes  # noqa: E402,F401  (registers the views)
