"""Admin-editable reference data: industries and the competitor registry. (Being built.)"""

from blueprints.reference import bp
from crm.permissions import admin_required


@bp.route("/industries")
@admin_required
def industries():
    return "", 204
