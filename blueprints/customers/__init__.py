from flask import Blueprint

bp = Blueprint("customers", __name__)

from blueprints.customers import lost, picker, routes, site  # noqa: E402,F401  (the views)
