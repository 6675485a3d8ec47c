from flask import Blueprint

bp = Blueprint("reminders", __name__)
# The calendar feed and its link on the account page live outside /reminders.
calendar_bp = Blueprint("calendar", __name__)

from blueprints.reminders import calendar, routes  # noqa: E402,F401  (registers the views)
