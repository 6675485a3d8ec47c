from flask import Blueprint

# Its routes carry full paths: the at-risk list and a customer's health history live
# under /customers/ beside the customer pages.
bp = Blueprint("health", __name__)

from blueprints.health import routes  # noqa: E402,F401  (registers the views)
