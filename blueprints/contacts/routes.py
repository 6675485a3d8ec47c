"""Contacts: the people at each customer. (Being built.)"""

from flask_login import login_required

from blueprints.contacts import bp


@bp.route("/contacts/")
@login_required
def index():
    return "", 204
