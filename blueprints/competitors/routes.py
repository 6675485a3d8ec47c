"""Competitors across the user's scope. (Being built.)"""

from flask_login import login_required

from blueprints.competitors import bp


@bp.route("/competitors/")
@login_required
def index():
    return "", 204
