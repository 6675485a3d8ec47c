from flask import Blueprint

bp = Blueprint("reference", __name__)

from blueprints.reference import routes  # noqa: E402,F401  (registers the views)
