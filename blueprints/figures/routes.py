"""A customer's monthly business figures: a 13-month chart and the table, and the summary
on the customer page."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.figures import bp
from crm.permissions import get_customer_or_404
from crm.services.figures import panels
from models import Customer


@bp.route("/customers/<int:customer_id>/figures")
@login_required
def show(customer_id: int):
    customer = get_customer_or_404(customer_id, current_user)
    figures = panels.customer_figures(customer, viewer=current_user)
    return render_template(
        "figures/show.html",
        customer=customer,
        figures=figures,
        chart=_chart(figures),
    )


def _chart(figures: panels.CustomerFigures) -> dict:
    """The chart static/js/charts.js draws: revenue as bars, key-industry solutions a line."""

    def amounts(name: str) -> list[float | None]:
        values = [getattr(line.figures, name) if line.figures else None for line in figures.months]
        return [float(value) if value is not None else None for value in values]

    return {
        "type": "bar",
        "labels": [f"{line.month:%Y-%m}" for line in figures.months],
        "datasets": [
            {"label": _("Revenue"), "data": amounts("revenue")},
            {
                "label": _("Key-industry solution revenue"),
                "type": "line",
                "data": amounts("key_solution_revenue"),
            },
        ],
    }


@bp.app_context_processor
def figures_summary_helper() -> dict:
    """templates/customers/_figures_panel.html asks for the customer page's summary line."""

    def figures_summary(customer: Customer) -> panels.FigureSummary | None:
        return panels.customer_summary(customer)

    return {"figures_summary": figures_summary}
