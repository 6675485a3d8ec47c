from flask import Blueprint

bp = Blueprint("handovers", __name__)

from blueprints.handovers import requests, routes  # noqa: E402,F401  (registers the views)
