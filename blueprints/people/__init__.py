from flask import Blueprint

from blueprints.pickers import picker_attrs

bp = Blueprint("people", __name__)

# For the pickers a template writes by hand (the lists' owner filters): templates/_picker.html.
bp.add_app_template_global(picker_attrs)

from blueprints.people import routes  # noqa: E402,F401  (registers the views)
