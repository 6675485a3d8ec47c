"""The customer picker's type-ahead: customers in the user's scope by name, as JSON."""

from __future__ import annotations

from flask_login import current_user, login_required

from blueprints.customers import bp
from blueprints.pickers import picker_answer, picker_query
from crm.services.archive import picker as customer_picker


@bp.route("/pick.json")
@login_required
def pick():
    """GET ?q=&limit=: {results: [{id, label, detail}], more}; another team's never listed."""
    query = picker_query()
    found = customer_picker.customers_named(query.term, viewer=current_user, limit=query.limit)
    return picker_answer(found, query.limit)
