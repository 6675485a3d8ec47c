"""The monthly plan (月计划): goals for the month, key customers, free text.

Goals are whole numbers of visits and new opportunities, and a won amount in yuan with
at most two decimals; an empty goal is no goal. Key customers are customers of the
manager's portfolio, each once per plan: a key customer to advance, or a customer to
develop, with what should happen. Only the plan's manager changes it, until it is
reviewed; once submitted every change is recorded (`lifecycle.note_change`) with the
`what` keys of `CHANGE_LABELS`, so the review panel can name them in either language.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from crm.extensions import db
from crm.permissions import MAX_RECORD_ID, scope_path
from crm.services.errors import DomainError, NotFound, check_version
from crm.services.plans import lifecycle
from crm.services.scope import check_customer_in_scope
from models import Customer, KeyCustomerAim, PlanKeyCustomer, PlanKind, User, WorkPlan

MAX_VISITS = 1000  # a month of visits: fifty a working day is already beyond any portfolio
MAX_NEW_OPPORTUNITIES = 1000
MAX_WON_AMOUNT = Decimal("9999999999999.99")  # within Numeric(16, 2), as targets allow
TEXT_LIMIT = 5000
AIM_LIMIT = 1000
MAX_KEY_CUSTOMERS = 100

# `PlanChange.what` of the monthly plan's changes, and how the reviewer reads them.
CHANGE_LABELS = {
    "visits goal": _l("Goal: visits"),
    "new opportunities goal": _l("Goal: new opportunities"),
    "won amount goal": _l("Goal: won amount"),
    "free text": _l("Free text"),
    "key customer": _l("Key customer to advance"),
    "customer to develop": _l("Customer to develop"),
}
AIM_CHANGE = {KeyCustomerAim.ADVANCE: "key customer", KeyCustomerAim.DEVELOP: "customer to develop"}


def may_edit(plan: WorkPlan, user: User) -> bool:
    """Whether the user may change the plan now (its manager, until it is reviewed)."""
    try:
        lifecycle.ensure_editable(plan, user)
    except DomainError:
        return False
    return True


def _ensure_month(plan: WorkPlan) -> None:
    if plan.kind is not PlanKind.MONTH:
        raise DomainError(_l("Goals and key customers belong to a monthly plan."))


def _whole_number(value: Any, *, field: str, high: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DomainError(_l("Enter a whole number."), field=field)
    if not 0 <= number <= high:
        raise DomainError(_l("From 0 to %(high)d.", high=high), field=field)
    return number


def _amount(value: Any, *, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(_l("Enter the amount as a number."), field=field)
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_l("Enter the amount in yuan, with at most two decimals."), field=field)
    if not Decimal(0) <= amount <= MAX_WON_AMOUNT:
        raise DomainError(_l("Enter an amount from 0 up to 9,999,999,999,999.99."), field=field)
    return amount.quantize(Decimal("0.01"))


def _text(value: Any, *, field: str, limit: int) -> str | None:
    text = (str(value).strip() or None) if value is not None else None
    if text is not None and len(text) > limit:
        raise DomainError(_l("At most %(limit)s characters.", limit=limit), field=field)
    return text


def _check_version(plan: WorkPlan, version: Any) -> None:
    try:
        submitted = int(version)
    except (TypeError, ValueError):
        submitted = None
    check_version(plan, submitted)


def _shown(value: object | None) -> str | None:
    return None if value is None else str(value)


def set_goals(
    plan: WorkPlan,
    *,
    actor: User,
    visits: Any,
    new_opportunities: Any,
    won_amount: Any,
    focus: Any,
    version: Any = None,
) -> WorkPlan:
    """Set the month's goals and free text at once (empty: no goal); refuse all on bad input.

    With `version` (the form's), a plan saved since the form was opened is refused.
    """
    _ensure_month(plan)
    lifecycle.ensure_editable(plan, actor)
    if version is not None:
        _check_version(plan, version)
    wanted = {
        "goal_visits": _whole_number(visits, field="visits", high=MAX_VISITS),
        "goal_new_opportunities": _whole_number(
            new_opportunities, field="new_opportunities", high=MAX_NEW_OPPORTUNITIES
        ),
        "goal_won_amount": _amount(won_amount, field="won_amount"),
        "focus": _text(focus, field="focus", limit=TEXT_LIMIT),
    }
    what = {
        "goal_visits": "visits goal",
        "goal_new_opportunities": "new opportunities goal",
        "goal_won_amount": "won amount goal",
        "focus": "free text",
    }
    changed = False
    for name, value in wanted.items():
        old = getattr(plan, name)
        if old == value:
            continue
        lifecycle.note_change(plan, actor, what[name], _shown(old), _shown(value))
        setattr(plan, name, value)
        changed = True
    if changed:
        lifecycle.touch(plan)
    db.session.flush()
    return plan


def _described(customer: Customer, aim: str | None) -> str:
    """A key customer as the change record shows it: the name, and the aim if any."""
    return f"{customer.name}: {aim}" if aim else customer.name


def _customer(customer_id: Any) -> Customer:
    try:
        number = int(customer_id)
    except (TypeError, ValueError):
        number = 0
    customer = db.session.get(Customer, number) if 0 < number <= MAX_RECORD_ID else None
    if customer is None:
        raise NotFound(_l("This customer is not in your portfolio."), field="customer_id")
    return customer


def add_key_customer(
    plan: WorkPlan,
    *,
    actor: User,
    customer_id: Any,
    aim_kind: Any,
    aim: Any,
) -> PlanKeyCustomer:
    """Add a customer of the actor's portfolio to the plan, once, with what should happen."""
    _ensure_month(plan)
    lifecycle.ensure_editable(plan, actor)
    customer = _customer(customer_id)
    check_customer_in_scope(customer, actor=actor)
    try:
        kind = KeyCustomerAim(aim_kind)
    except ValueError:
        raise DomainError(_l("Choose advance or develop."), field="aim_kind")
    text = _text(aim, field="aim", limit=AIM_LIMIT)
    if any(kc.customer_id == customer.id for kc in plan.key_customers):
        raise DomainError(_l("This customer is in the plan already."), field="customer_id")
    if len(plan.key_customers) >= MAX_KEY_CUSTOMERS:
        raise DomainError(
            _l("At most %(limit)s customers in one plan.", limit=MAX_KEY_CUSTOMERS),
            field="customer_id",
        )
    row = PlanKeyCustomer(customer_id=customer.id, customer=customer, aim_kind=kind, aim=text)
    plan.key_customers.append(row)
    lifecycle.note_change(plan, actor, AIM_CHANGE[kind], None, _described(customer, text))
    lifecycle.touch(plan)
    db.session.flush()
    return row


def remove_key_customer(plan: WorkPlan, *, actor: User, key_customer_id: Any) -> Customer:
    """Take a key customer off the plan (any customer once added, even one handed over since)."""
    _ensure_month(plan)
    lifecycle.ensure_editable(plan, actor)
    row = next((kc for kc in plan.key_customers if str(kc.id) == str(key_customer_id)), None)
    if row is None:
        raise NotFound(_l("This customer is not in the plan."))
    customer = row.customer
    lifecycle.note_change(
        plan, actor, AIM_CHANGE[row.aim_kind], _described(customer, row.aim), None
    )
    plan.key_customers.remove(row)
    lifecycle.touch(plan)
    db.session.flush()
    return customer


def key_customers_in_view(plan: WorkPlan, viewer: User) -> set[int]:
    """Load the plan's key customers with their customers, and return the ids of those the
    viewer may open (one handed to another team since is still named in the plan, but
    not linked): one statement."""
    reach = case((scope_path(Customer).condition(viewer), 1), else_=0).label("reach")
    rows = db.session.execute(
        select(PlanKeyCustomer, reach)
        .join(PlanKeyCustomer.customer)
        .options(contains_eager(PlanKeyCustomer.customer))
        .where(PlanKeyCustomer.plan_id == plan.id)
        .order_by(PlanKeyCustomer.id)
    ).all()
    set_committed_value(plan, "key_customers", [row.PlanKeyCustomer for row in rows])
    return {row.PlanKeyCustomer.customer_id for row in rows if row.reach}
