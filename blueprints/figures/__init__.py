from flask import Blueprint

# A customer's monthly business figures (/customers/<id>/figures) and their summary on the
# customer page; the import itself is the import blueprint's (kind "figures").
bp = Blueprint("figures", __name__)

from blueprints.figures import routes  # noqa: E402,F401  (registers the views)
