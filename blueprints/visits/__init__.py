from flask import Blueprint

bp = Blueprint("visits", __name__)
# The visit cadences page lives under /admin, beside the other reference data.
cadences_bp = Blueprint("cadences", __name__)

from blueprints.visits import admin_routes, comments, routes  # noqa: E402,F401  (the views)
