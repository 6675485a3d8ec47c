"""Work plans: the manager's week and month (周计划 · 月计划) and the supervisor's review."""

from flask import Blueprint

bp = Blueprint("plans", __name__)

from blueprints.plans import month, reviews, routes  # noqa: E402,F401  (registers the views)
