"""Building a weekly plan (周计划): planned visits, other tasks and the week's focus.

Every change goes the same way: `lifecycle.ensure_editable` (only the plan's manager,
never once reviewed), the change itself, `lifecycle.note_change` with old → new in words
a reviewer reads ("12-08 某某银行: 方案交流"), and `lifecycle.touch`. After the plan was
submitted it still changes (the reviewer sees what moved); ticking a task is such a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, or_, select, union_all

from crm.extensions import db
from crm.permissions import MAX_RECORD_ID, scoped
from crm.services.errors import DomainError, NotFound
from crm.services.plans import lifecycle
from crm.services.scope import check_customer_in_scope
from models import (
    Contact,
    Customer,
    Opportunity,
    OpportunityStatus,
    PlanKind,
    PlannedVisit,
    PlanTask,
    User,
    WorkPlan,
)

PURPOSE_LIMIT = 500
TASK_LIMIT = 500
FOCUS_LIMIT = 1000

# `PlanChange.what` of the changes made here, and what a reviewer reads for each.
CHANGE_VISIT = "planned visit"
CHANGE_TASK = "task"
CHANGE_FOCUS = "focus"
CHANGE_MATCH = "visit match"  # written by crm/services/plans/matching.py
CHANGE_LABELS = {
    CHANGE_VISIT: _l("Planned visit"),
    CHANGE_TASK: _l("Task"),
    CHANGE_FOCUS: _l("Focus of the week"),
    CHANGE_MATCH: _l("Visit carried out"),
}


def days_of(monday: date) -> list[date]:
    """Monday to Sunday of the week starting on `monday`."""
    return [monday + timedelta(days=n) for n in range(7)]


def week_days(plan: WorkPlan) -> list[date]:
    return days_of(plan.starts_on)


# Readable old → new text -------------------------------------------------------------


def visit_text(planned: PlannedVisit) -> str:
    text = f"{planned.day:%m-%d} {planned.customer.name}"
    return f"{text}: {planned.purpose}" if planned.purpose else text


def task_text(task: PlanTask) -> str:
    mark = "☑" if task.done else "☐"
    return f"{mark} {task.day:%m-%d} {task.text}" if task.day else f"{mark} {task.text}"


# Checks ------------------------------------------------------------------------------


def may_edit(plan: WorkPlan, user: User) -> bool:
    """Whether the user sees the plan's edit controls: its manager, until it is reviewed."""
    return user.id == plan.owner_id and not plan.locked


def _editable_week(plan: WorkPlan, actor: User) -> None:
    lifecycle.ensure_editable(plan, actor)
    if plan.kind is not PlanKind.WEEK:
        raise DomainError(_l("This is not a weekly plan."))


def _day(plan: WorkPlan, day: date | None, *, required: bool) -> date | None:
    if day is None:
        if required:
            raise DomainError(_l("Choose a day of the plan's week."), field="day")
        return None
    if day not in week_days(plan):
        raise DomainError(_l("Choose a day of the plan's week."), field="day")
    return day


def _text(value: str | None, limit: int, field: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_l("This field is required."), field=field)
    if len(text) > limit:
        raise DomainError(_l("At most %(limit)s characters.", limit=limit), field=field)
    return text or None


def _customer(customer: Customer | int | None, actor: User) -> Customer:
    if customer is not None and not isinstance(customer, Customer):
        number = int(customer)
        customer = db.session.get(Customer, number) if 0 < number <= MAX_RECORD_ID else None
    if customer is None:
        raise NotFound(_l("This customer is not in your portfolio."))
    check_customer_in_scope(customer, actor=actor)
    return customer


def _contacts(customer: Customer, contacts: Iterable[Contact | int]) -> list[Contact]:
    """The contacts to meet, which must all be this customer's."""
    ids = {c.id if isinstance(c, Contact) else int(c) for c in contacts}
    if not ids:
        return []
    found = list(db.session.scalars(select(Contact).where(Contact.id.in_(ids))))
    if len(found) != len(ids) or any(c.customer_id != customer.id for c in found):
        raise DomainError(
            _l("The contacts to meet must be contacts of this customer."), field="contact_ids"
        )
    return sorted(found, key=lambda c: c.name)


def _opportunity(customer: Customer, opportunity: Opportunity | int | None) -> Opportunity | None:
    if opportunity is None or opportunity == 0:
        return None
    if not isinstance(opportunity, Opportunity):
        opportunity = db.session.get(Opportunity, int(opportunity))
    if opportunity is None or opportunity.customer_id != customer.id:
        # Never name the other customer's opportunity: it may be out of scope.
        raise DomainError(
            _l("The opportunity must be one of this customer's."), field="opportunity_id"
        )
    return opportunity


def _ensure_not_planned(plan: WorkPlan, customer: Customer, day: date, but: int | None) -> None:
    for other in plan.visits:
        if other.id != but and other.customer_id == customer.id and other.day == day:
            raise DomainError(
                _l("%(name)s is planned on that day already.", name=customer.name), field="day"
            )


def _done(plan: WorkPlan, actor: User, what: str, old: str | None, new: str | None) -> None:
    lifecycle.note_change(plan, actor, what, old, new)
    lifecycle.touch(plan)
    db.session.flush()


# Planned visits ----------------------------------------------------------------------


def add_planned_visit(
    plan: WorkPlan,
    *,
    actor: User,
    customer: Customer | int | None,
    day: date | None,
    purpose: str | None = None,
    contacts: Iterable[Contact | int] = (),
    opportunity: Opportunity | int | None = None,
) -> PlannedVisit:
    """Plan a visit to a customer of the actor's on a day of the week."""
    _editable_week(plan, actor)
    customer = _customer(customer, actor)
    day = _day(plan, day, required=True)
    _ensure_not_planned(plan, customer, day, None)
    planned = PlannedVisit(
        plan=plan,
        customer=customer,
        day=day,
        purpose=_text(purpose, PURPOSE_LIMIT, "purpose"),
        contacts=_contacts(customer, contacts),
        opportunity=_opportunity(customer, opportunity),
    )
    db.session.add(planned)
    _done(plan, actor, CHANGE_VISIT, None, visit_text(planned))
    return planned


def update_planned_visit(
    planned: PlannedVisit,
    *,
    actor: User,
    day: date | None,
    purpose: str | None = None,
    contacts: Iterable[Contact | int] = (),
    opportunity: Opportunity | int | None = None,
) -> PlannedVisit:
    """Change the day, purpose, contacts or opportunity of a planned visit."""
    plan = planned.plan
    _editable_week(plan, actor)
    customer = planned.customer
    check_customer_in_scope(customer, actor=actor)
    day = _day(plan, day, required=True)
    _ensure_not_planned(plan, customer, day, planned.id)
    old = visit_text(planned)
    planned.day = day
    planned.purpose = _text(purpose, PURPOSE_LIMIT, "purpose")
    planned.contacts = _contacts(customer, contacts)
    planned.opportunity = _opportunity(customer, opportunity)
    _done(plan, actor, CHANGE_VISIT, old, visit_text(planned))
    return planned


def remove_planned_visit(planned: PlannedVisit, *, actor: User) -> None:
    plan = planned.plan
    _editable_week(plan, actor)
    old = visit_text(planned)
    plan.visits.remove(planned)
    db.session.delete(planned)
    _done(plan, actor, CHANGE_VISIT, old, None)


# Tasks -------------------------------------------------------------------------------


def add_task(plan: WorkPlan, *, actor: User, text: str | None, day: date | None = None) -> PlanTask:
    """Another planned piece of work: free text, optionally on a day of the week."""
    _editable_week(plan, actor)
    task = PlanTask(
        plan=plan,
        text=_text(text, TASK_LIMIT, "text", required=True),
        day=_day(plan, day, required=False),
    )
    db.session.add(task)
    _done(plan, actor, CHANGE_TASK, None, task_text(task))
    return task


def set_task_done(task: PlanTask, *, actor: User, done: bool) -> PlanTask:
    """Tick a task (or untick it); also after submission, never after the review."""
    plan = task.plan
    _editable_week(plan, actor)
    old = task_text(task)
    task.done = done
    _done(plan, actor, CHANGE_TASK, old, task_text(task))
    return task


def remove_task(task: PlanTask, *, actor: User) -> None:
    plan = task.plan
    _editable_week(plan, actor)
    old = task_text(task)
    plan.tasks.remove(task)
    db.session.delete(task)
    _done(plan, actor, CHANGE_TASK, old, None)


# Focus -------------------------------------------------------------------------------


def set_focus(plan: WorkPlan, *, actor: User, focus: str | None) -> WorkPlan:
    """The week's focus statement: what matters most this week, in a sentence or two."""
    _editable_week(plan, actor)
    old = plan.focus
    plan.focus = _text(focus, FOCUS_LIMIT, "focus")
    _done(plan, actor, CHANGE_FOCUS, old, plan.focus)
    return plan


# Choices of the page's forms ---------------------------------------------------------


class ContactChoice(NamedTuple):
    id: int
    name: str


class OpportunityChoice(NamedTuple):
    id: int
    title: str


def edit_choices(
    plan: WorkPlan,
) -> dict[int, tuple[list[ContactChoice], list[OpportunityChoice]]]:
    """{customer id: (contacts, opportunities)} the planned visits' forms offer, in one
    statement: each customer's active contacts and open opportunities, plus those already
    chosen on a planned visit (a page held to the bench's statement ceiling)."""
    customer_ids = {p.customer_id for p in plan.visits}
    if not customer_ids:
        return {}
    chosen_contacts = [c.id for p in plan.visits for c in p.contacts]
    chosen_opportunities = [p.opportunity_id for p in plan.visits if p.opportunity_id]
    contacts = select(
        literal("contact").label("kind"),
        Contact.id,
        Contact.customer_id,
        Contact.name.label("label"),
    ).where(
        Contact.customer_id.in_(customer_ids),
        or_(Contact.active, Contact.id.in_(chosen_contacts)),
    )
    opportunities = select(
        literal("opportunity").label("kind"),
        Opportunity.id,
        Opportunity.customer_id,
        Opportunity.title.label("label"),
    ).where(
        Opportunity.customer_id.in_(customer_ids),
        or_(
            Opportunity.status == OpportunityStatus.OPEN,
            Opportunity.id.in_(chosen_opportunities),
        ),
    )
    both = union_all(contacts, opportunities).subquery()
    rows = db.session.execute(select(both).order_by(both.c.kind, both.c.label, both.c.id))
    found: dict[int, tuple[list[ContactChoice], list[OpportunityChoice]]] = {
        customer_id: ([], []) for customer_id in customer_ids
    }
    for row in rows:
        if row.kind == "contact":
            found[row.customer_id][0].append(ContactChoice(row.id, row.label))
        else:
            found[row.customer_id][1].append(OpportunityChoice(row.id, row.label))
    return found


def reachable_customers(customer_ids: Iterable[int], viewer: User) -> set[int]:
    """Which of these customers the viewer may open: a planned visit to a customer handed
    to another team since is still named in the plan, but not linked (one query)."""
    ids = set(customer_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            scoped(Customer, viewer).with_only_columns(Customer.id).where(Customer.id.in_(ids))
        )
    )
