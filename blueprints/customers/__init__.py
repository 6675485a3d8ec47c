from flask import Blueprint

bp = Blueprint("customers", __name__)

from blueprints.customers import routes  # noqa: E402,F401  (registers the views)
