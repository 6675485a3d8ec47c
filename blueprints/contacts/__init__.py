from flask import Blueprint

bp = Blueprint("contacts", __name__)

from blueprints.contacts import routes  # noqa: E402,F401  (registers the views)
