from flask import Blueprint

bp = Blueprint("documents", __name__)
# The document kinds page lives under /admin, in the Settings menu beside the reference data.
kinds_bp = Blueprint("document_kinds", __name__)

from blueprints.documents import kinds, routes  # noqa: E402,F401  (registers the views)
