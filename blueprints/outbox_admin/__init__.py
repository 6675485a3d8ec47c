from flask import Blueprint

bp = Blueprint("outbox_admin", __name__)

from blueprints.outbox_admin import routes  # noqa: E402,F401  (registers the views)
