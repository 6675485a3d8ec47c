from flask import Blueprint

bp = Blueprint("reminders", __name__)

from blueprints.reminders import routes  # noqa: E402,F401  (registers the views)
