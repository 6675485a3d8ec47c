from flask import Blueprint

bp = Blueprint("stages", __name__)

from blueprints.stages import routes  # noqa: E402,F401  (registers the views)
