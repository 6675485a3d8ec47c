"""Customer health: the at-risk list, a customer's health history, the customer page panel."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from blueprints.health import bp
from blueprints.paging import paginate_up_to_a_bound
from crm.permissions import get_in_scope_or_404
from crm.services.archive import search as customer_search
from crm.services.health import at_risk, explain, history, signals
from models import Customer, CustomerHealth, HealthBand


@dataclass(frozen=True)
class ShownReason:
    reason: explain.Reason
    url: str | None  # the records behind it, when that page exists


def evidence_url(reason: explain.Reason) -> str | None:
    if reason.evidence is None:
        return None
    endpoint, values = reason.evidence
    try:
        return url_for(endpoint, **values)
    except BuildError:  # a page of a part this installation does not have
        return None


def shown_reasons(health: CustomerHealth) -> list[ShownReason]:
    return [
        ShownReason(reason, evidence_url(reason))
        for reason in explain.reasons(health.factors, health.customer_id)
    ]


@bp.app_template_global()
def health_panel(customer: Customer) -> dict:
    """What the customer page's health panel shows (one statement: the stored health)."""
    health = history.current_health(customer, viewer=current_user)
    return {
        "health": health,
        "reasons": shown_reasons(health) if health is not None else [],
    }


@bp.route("/customers/at-risk")
@login_required
def at_risk_list():
    filters = at_risk.AtRiskFilters.from_args(request.args)
    # An admin's list holds every customer at risk in the province: counted up to a bound.
    page = paginate_up_to_a_bound(at_risk.at_risk_list(current_user, filters))
    sees_owners = not current_user.is_manager
    return render_template(
        "health/at_risk.html",
        page=page,
        filters=filters,
        # The list names the reasons; the customer's page explains them.
        signal_labels={signal.code: str(signal.label) for signal in signals.SIGNALS},
        signals=signals.SIGNALS,
        bands=at_risk.BANDS,
        owners=(
            customer_search.owner_filter_choices(viewer=current_user, chosen=filters.owner)
            if sees_owners
            else None
        ),
        at_risk_band=HealthBand.AT_RISK,
    )


@bp.route("/customers/<int:customer_id>/health")
@login_required
def customer_history(customer_id: int):
    customer = get_in_scope_or_404(Customer, customer_id, current_user)
    health = history.current_health(customer, viewer=current_user)
    return render_template(
        "health/history.html",
        customer=customer,
        health=health,
        reasons=shown_reasons(health) if health is not None else [],
        changes=history.customer_history(customer, viewer=current_user),
        signal_labels={signal.code: str(signal.label) for signal in signals.SIGNALS},
    )
