"""Performance assessment (绩效考核): periods, team sheets, scorecards; the weights (admins)."""

from flask import Blueprint

bp = Blueprint("assessment", __name__)
# The catalog and the weight sets: an admin page under /admin, in the Settings menu.
admin_bp = Blueprint("assessment_admin", __name__)

from blueprints.assessment import admin, manager, routes  # noqa: E402,F401  (registers the views)
