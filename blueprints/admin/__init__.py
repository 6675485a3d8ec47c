from flask import Blueprint

bp = Blueprint("admin", __name__)

from blueprints.admin import routes, settings  # noqa: E402,F401  (registers the views)
