"""Customer list and customer page, always within the user's scope."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from blueprints.customers import bp
from crm.extensions import db
from crm.permissions import get_customer_or_404, visible_customers
from models import Customer


@bp.route("/")
@login_required
def index():
    stmt = (
        visible_customers(current_user)
        .options(joinedload(Customer.owner))
        .order_by(Customer.name, Customer.id)
    )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("customers/index.html", page=page, q=request.args.get("q", ""))


@bp.route("/<int:customer_id>")
@login_required
def show(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    return render_template("customers/show.html", customer=customer)
