"""The people picker's type-ahead: the people a user's lists narrow to and whose records
they may assign (crm/services/people/picker.py), by name, as JSON."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.people import bp
from blueprints.pickers import picker_answer, picker_query, refuse_query
from crm.services.people import picker as people_picker
from models import Role


def _roles() -> list[Role]:
    """?role= (repeatable): manager, supervisor or admin; anything else is refused."""
    wanted = request.args.getlist("role")
    known = {role.value: role for role in Role}
    if any(value not in known for value in wanted):
        refuse_query(_("Unknown role: choose manager, supervisor or admin."))
    return [known[value] for value in wanted]


@bp.route("/pick.json")
@login_required
def pick():
    """GET ?q=&limit=&role=: {results: [{id, label, detail}], more}; only people in scope."""
    query = picker_query()
    found = people_picker.people_named(
        query.term, viewer=current_user, roles=_roles(), limit=query.limit
    )
    return picker_answer(found, query.limit)
