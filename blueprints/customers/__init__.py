from flask import Blueprint

bp = Blueprint("customers", __name__)

from blueprints.customers import lost, routes, site  # noqa: E402,F401  (registers the views)
