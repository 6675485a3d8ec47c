from flask import Blueprint

bp = Blueprint("webhooks_admin", __name__)

from blueprints.webhooks_admin import routes  # noqa: E402,F401  (registers the views)
