"""Opportunities through pre-sale, in-sale and after-sale, with their append-only history.

Rules (docs/domain.md, "The sales lifecycle"):
- An open opportunity moves among the active pre-sale stages; it is won only at
  the contract stage, with a contract date and an amount; it is lost only in
  pre-sale, with a reason (and the competitor, for "competitor").
- A won opportunity moves on into the in-sale and after-sale stages; an open one
  cannot skip past the contract stage; a lost one must be reopened first.
- Probability: a move sets the new stage's default; an override made with
  update_opportunity holds while the opportunity stays in its stage (it is a
  judgment about that stage, and carrying it along would freeze the weighted
  pipeline). Won opportunities stay at 100 %, lost ones are 0 %.
- Next step: an open or won opportunity with a next-step date has ONE pending
  follow-up reminder for its owner (source "opportunity"); changing the date or
  note moves it, clearing the date or losing the opportunity dismisses it (done
  ones stay as they are). A won one keeps it: delivery in in-sale still has steps.
- A stage's document rule (admin toggle) may require a document of a kind before a
  move into it (pipeline/document_rules.py).
- Every change of stage, amount, probability, expected close or status appends
  an OpportunityHistory row (the state after it, {field: [old, new]}, who, when)
  in the same flush; history rows are never updated or deleted.

Services take `at=` (a UTC datetime) so that imports and demo data can record
when a change really happened; it defaults to now.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db
from crm.permissions import owner_scope
from crm.services import audit
from crm.services.archive.lock import lock_customer_for_write
from crm.services.errors import DomainError, StaleEdit, check_version
from crm.services.followups import outbox
from crm.services.followups import reminders as reminder_service
from crm.services.people.picker import people_shortlist
from crm.services.pickers import Shortlist
from crm.services.pipeline.document_rules import require_documents
from crm.services.pipeline.stages import first_pre_sale_stage
from crm.services.webhooks import events as webhooks
from models import (
    AuditAction,
    Competitor,
    Customer,
    LostReason,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Phase,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Stage,
    User,
)
from models.base import utcnow

# The fields whose every change is recorded in the opportunity's history.
TRACKED = ("stage_id", "status", "amount", "probability", "expected_close")
EDITABLE = {
    "title",
    "solution",
    "amount",
    "expected_close",
    "probability",
    "owner",
    "next_step",
    "next_step_on",
}
MAX_AMOUNT = Decimal("99999999999999.99")  # Numeric(16, 2)


# Rules shared by the services --------------------------------------------------


def require_customer_in_scope(customer_id: int, actor: User) -> Customer:
    """Lock the customer (as a handover does) and refuse it unless in the actor's portfolio."""
    return lock_customer_for_write(customer_id, actor=actor)


OWNER_REFUSAL = _l("Choose an active owner from your team.")


def _check_owner(owner: User, actor: User) -> None:
    in_scope = db.session.scalar(
        select(User.id).where(
            User.id == owner.id, User.active.is_(True), owner_scope(actor, User.id)
        )
    )
    if in_scope is None:
        raise DomainError(OWNER_REFUSAL, field="owner_id")


def _amount(value: Any, field: str = "amount") -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("Enter the amount as a number."), field=field)
    if amount < 0 or amount > MAX_AMOUNT:
        raise DomainError(_l("Enter an amount from 0 up."), field=field)
    return amount


def _probability(value: Any) -> int:
    try:
        probability = int(value)
    except (TypeError, ValueError):
        raise DomainError(_l("The probability is a percentage from 0 to 100."), field="probability")
    if not 0 <= probability <= 100:
        raise DomainError(_l("The probability is a percentage from 0 to 100."), field="probability")
    return probability


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def _stale(opportunity: Opportunity) -> StaleEdit:
    return StaleEdit(
        _l(
            "Someone else saved this opportunity while you were editing it. "
            "Their version is shown below; your changes were not saved."
        ),
        current=opportunity,
    )


def _check_version(opportunity: Opportunity, version: Any) -> None:
    try:
        check_version(opportunity, version)
    except StaleEdit:
        raise _stale(opportunity)


def _flush(opportunity: Opportunity) -> None:
    """Flush; a save that raced another one (version moved under us) becomes a StaleEdit."""
    try:
        db.session.flush()
    except StaleDataError:
        raise _stale(opportunity)


def _state(opportunity: Opportunity) -> dict[str, Any]:
    return audit.snapshot(opportunity, TRACKED)


def _append_history(
    opportunity: Opportunity, before: dict[str, Any] | None, actor: User | None, at: datetime
) -> OpportunityHistory | None:
    """Append the state after a change (no row when nothing tracked changed)."""
    changes = {} if before is None else audit.diff(before, _state(opportunity))
    if before is not None and not changes:
        return None
    row = OpportunityHistory(
        opportunity=opportunity,
        at=at,
        actor_id=actor.id if actor is not None else None,
        stage_id=opportunity.stage.id if opportunity.stage else opportunity.stage_id,
        status=opportunity.status,
        amount=opportunity.amount,
        probability=opportunity.probability,
        expected_close=opportunity.expected_close,
        changes=changes,
    )
    db.session.add(row)
    return row


def _touch(opportunity: Opportunity, at: datetime | None) -> datetime:
    moment = at or utcnow()
    if at is not None:
        opportunity.updated_at = at
    return moment


# The next step's follow-up reminder ---------------------------------------------


def next_step_reminder(opportunity: Opportunity) -> Reminder | None:
    """The pending follow-up the opportunity's next step scheduled, if any."""
    return db.session.scalar(
        select(Reminder)
        .where(
            Reminder.opportunity_id == opportunity.id,
            Reminder.source == ReminderSource.OPPORTUNITY,
            Reminder.status == ReminderStatus.PENDING,
        )
        .order_by(Reminder.id)
        .limit(1)
    )


def _next_step_note(opportunity: Opportunity) -> str:
    return opportunity.next_step or opportunity.title


def _sync_next_step(opportunity: Opportunity, *, actor: User) -> None:
    """Keep exactly one pending reminder for the owner while a next-step date is set."""
    pending = next_step_reminder(opportunity)
    wanted = (
        opportunity.next_step_on is not None and opportunity.status is not OpportunityStatus.LOST
    )
    if pending is not None and (not wanted or pending.owner_id != opportunity.owner_id):
        # A new owner gets a reminder of their own (and any email queued for the old one goes).
        reminder_service.cancel_follow_up(pending, actor=actor)
        pending = None
    if not wanted:
        return
    if pending is not None:
        reminder_service.move_follow_up(
            pending, on=opportunity.next_step_on, note=_next_step_note(opportunity), actor=actor
        )
        return
    reminder = reminder_service.schedule_follow_up(
        opportunity.customer,
        on=opportunity.next_step_on,
        note=_next_step_note(opportunity),
        source=ReminderSource.OPPORTUNITY,
        actor=actor,
        opportunity=opportunity,
    )
    # schedule_follow_up gives it to the customer's owner; the opportunity's may differ.
    if reminder.owner_id != opportunity.owner_id:
        reminder.owner = opportunity.owner
        reminder.due_at = reminder_service.due_instant(opportunity.owner, reminder.due_on)
        db.session.flush()


def _dismiss_next_step(opportunity: Opportunity, moment: datetime) -> None:
    """A lost opportunity's pending next step is dismissed (kept, so the timeline shows it)."""
    pending = next_step_reminder(opportunity)
    if pending is None:
        return
    pending.status = ReminderStatus.DISMISSED
    pending.completed_at = moment
    outbox.cancel_reminder_messages(pending.id)  # no email about a step that will not happen
    db.session.flush()


# Creating and editing -----------------------------------------------------------


def create_opportunity(
    customer: Customer,
    *,
    actor: User,
    title: str,
    solution: str | None = None,
    amount: Decimal | str | None = None,
    expected_close: date | None = None,
    stage: Stage | None = None,
    probability: int | None = None,
    owner: User | None = None,
    next_step: str | None = None,
    next_step_on: date | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Open an opportunity at a pre-sale stage (the first one by default), owned by the
    customer's owner unless another owner in the actor's scope is given."""
    customer = require_customer_in_scope(customer.id, actor)
    title = " ".join((title or "").split())
    if not title:
        raise DomainError(_l("Give the opportunity a title."), field="title")
    stage = stage or first_pre_sale_stage()
    if stage is None:
        raise DomainError(_l("No active pre-sale stage exists: ask an administrator."))
    if not stage.active or stage.phase is not Phase.PRE_SALE:
        raise DomainError(_l("A new opportunity starts at an active pre-sale stage."), "stage_id")
    owner = owner or customer.owner
    _check_owner(owner, actor)
    next_step = _text(next_step)
    moment = at or utcnow()
    opportunity = Opportunity(
        customer=customer,
        title=title[:200],
        solution=_text(solution),
        amount=_amount(amount),
        expected_close=expected_close,
        stage=stage,
        probability=stage.probability if probability is None else _probability(probability),
        owner=owner,
        status=OpportunityStatus.OPEN,
        next_step=next_step[:300] if next_step else None,
        next_step_on=next_step_on,
        created_by_id=actor.id,
        created_at=moment,
        updated_at=moment,
        stage_entered_at=moment,
    )
    db.session.add(opportunity)
    _append_history(opportunity, None, actor, moment)
    db.session.flush()
    audit.record(AuditAction.CREATE, opportunity, actor=actor, customer_id=customer.id, label=title)
    if opportunity.next_step_on is not None:
        _sync_next_step(opportunity, actor=actor)
    return opportunity


def update_opportunity(
    opportunity: Opportunity,
    *,
    actor: User,
    version: int | str | None,
    at: datetime | None = None,
    **fields: Any,
) -> Opportunity:
    """Change the opportunity's details (not its stage or status) saved from `version`."""
    require_customer_in_scope(opportunity.customer_id, actor)
    _check_version(opportunity, version)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"not opportunity fields: {sorted(unknown)}")
    values = dict(fields)
    if "title" in values:
        values["title"] = " ".join((values["title"] or "").split())[:200]
        if not values["title"]:
            raise DomainError(_l("Give the opportunity a title."), field="title")
    if "amount" in values:
        values["amount"] = _amount(values["amount"])
    if "probability" in values:
        values["probability"] = _probability(values["probability"])
        if opportunity.status is not OpportunityStatus.OPEN and (
            values["probability"] != opportunity.probability
        ):
            raise DomainError(
                _l("Only an open opportunity's probability can be changed."), field="probability"
            )
    for name in ("solution", "next_step"):
        if name in values:
            values[name] = _text(values[name])
    if values.get("next_step"):
        values["next_step"] = values["next_step"][:300]
    if "owner" in values:
        owner = values["owner"] or opportunity.owner
        if owner.id != opportunity.owner_id:
            _check_owner(owner, actor)
        values["owner"] = owner
    before = _state(opportunity)
    for name, value in values.items():
        setattr(opportunity, name, value)
    moment = _touch(opportunity, at)
    _append_history(opportunity, before, actor, moment)
    _flush(opportunity)
    if {"next_step", "next_step_on", "owner", "title"} & set(values):
        _sync_next_step(opportunity, actor=actor)
    return opportunity


# Moving through the lifecycle ---------------------------------------------------


def stage_problem(status: OpportunityStatus, stage: Stage) -> str | None:
    """Why an opportunity of this status may not move to `stage` (a message), or None."""
    if not stage.active:
        return _l("This stage is retired: choose another one.")
    if status is OpportunityStatus.LOST:
        return _l("This opportunity is lost: reopen it before moving it.")
    if status is OpportunityStatus.OPEN and stage.phase is not Phase.PRE_SALE:
        return _l(
            "An open opportunity stays in pre-sale: mark it won at the contract stage "
            "before it moves into in-sale."
        )
    if status is OpportunityStatus.WON and stage.phase is Phase.PRE_SALE:
        return _l("A won opportunity moves on into in-sale and after-sale, not back.")
    return None


def stages_open_to(status: OpportunityStatus, stages: list[Stage]) -> list[Stage]:
    """The stages (of `stages`) an opportunity of this status may move to."""
    return [stage for stage in stages if stage_problem(status, stage) is None]


def target_stages(opportunity: Opportunity, stages: list[Stage]) -> list[Stage]:
    """The stages (of `stages`) this opportunity may move to now, its own excluded."""
    return [s for s in stages_open_to(opportunity.status, stages) if s.id != opportunity.stage_id]


def move_to_stage(
    opportunity: Opportunity,
    stage: Stage,
    *,
    actor: User,
    version: int | str | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Move to another stage (rules in the module docstring); `version` is checked if given."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if version is not None:
        _check_version(opportunity, version)
    if stage.id == opportunity.stage_id:
        return opportunity
    problem = stage_problem(opportunity.status, stage)
    if problem is not None:
        raise DomainError(problem, field="stage_id")
    # The stage's document rule (document_rules.py): a REQUIRE rule's document first.
    require_documents(opportunity, stage)
    before = _state(opportunity)
    # Both: the relationship for readers now, the column for the history snapshot.
    opportunity.stage, opportunity.stage_id = stage, stage.id
    if opportunity.status is OpportunityStatus.OPEN:
        opportunity.probability = stage.probability
    moment = _touch(opportunity, at)
    opportunity.stage_entered_at = moment
    _append_history(opportunity, before, actor, moment)
    _flush(opportunity)
    webhooks.opportunity_stage_changed(opportunity, before["stage_id"], actor=actor, at=moment)
    return opportunity


def mark_won(
    opportunity: Opportunity,
    *,
    actor: User,
    contract_date: date | None,
    amount: Decimal | str | None,
    version: int | str | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Win an open opportunity at the contract stage, with the contract's date and amount."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if version is not None:
        _check_version(opportunity, version)
    if opportunity.status is not OpportunityStatus.OPEN:
        raise DomainError(_l("Only an open opportunity can be won."))
    if not opportunity.stage.is_contract:
        raise DomainError(
            _l("An opportunity is won at the contract stage: move it there first."),
            field="stage_id",
        )
    if contract_date is None:
        raise DomainError(_l("Enter the date the contract was signed."), field="contract_date")
    won_amount = _amount(amount)
    if won_amount is None or won_amount <= 0:
        raise DomainError(_l("Enter the contract amount (more than zero)."), field="amount")
    before = _state(opportunity)
    moment = _touch(opportunity, at)
    opportunity.status = OpportunityStatus.WON
    opportunity.contract_date = contract_date
    opportunity.amount = won_amount
    opportunity.probability = 100
    opportunity.closed_at = moment
    _append_history(opportunity, before, actor, moment)
    _flush(opportunity)
    webhooks.opportunity_won(opportunity, actor=actor, at=moment)
    return opportunity


def mark_lost(
    opportunity: Opportunity,
    *,
    actor: User,
    reason: LostReason | str | None,
    competitor: Competitor | None = None,
    note: str | None = None,
    version: int | str | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Lose an open pre-sale opportunity, with the reason and, for "competitor", to whom."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if version is not None:
        _check_version(opportunity, version)
    if opportunity.status is not OpportunityStatus.OPEN:
        raise DomainError(_l("Only an open opportunity can be lost."))
    if opportunity.stage.phase is not Phase.PRE_SALE:
        raise DomainError(_l("An opportunity can be lost only in pre-sale."))
    try:
        reason = LostReason(reason) if reason else None
    except ValueError:
        reason = None
    if reason is None:
        raise DomainError(_l("Choose why the opportunity was lost."), field="reason")
    if reason is LostReason.COMPETITOR and competitor is None:
        raise DomainError(_l("Choose the competitor it was lost to."), field="competitor_id")
    before = _state(opportunity)
    moment = _touch(opportunity, at)
    opportunity.status = OpportunityStatus.LOST
    opportunity.lost_reason = reason
    opportunity.lost_to = competitor
    opportunity.lost_note = _text(note)
    opportunity.probability = 0
    opportunity.closed_at = moment
    _append_history(opportunity, before, actor, moment)
    _flush(opportunity)
    _dismiss_next_step(opportunity, moment)
    webhooks.opportunity_lost(opportunity, actor=actor, at=moment)
    return opportunity


def reopen(
    opportunity: Opportunity,
    *,
    actor: User,
    version: int | str | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """Reopen a lost opportunity in the stage it was lost at, at that stage's probability."""
    require_customer_in_scope(opportunity.customer_id, actor)
    if version is not None:
        _check_version(opportunity, version)
    if opportunity.status is not OpportunityStatus.LOST:
        raise DomainError(_l("Only a lost opportunity can be reopened."))
    before = _state(opportunity)
    moment = _touch(opportunity, at)
    opportunity.status = OpportunityStatus.OPEN
    opportunity.lost_reason = None
    opportunity.lost_to = None
    opportunity.lost_note = None
    opportunity.closed_at = None
    opportunity.probability = opportunity.stage.probability
    opportunity.stage_entered_at = moment
    _append_history(opportunity, before, actor, moment)
    _flush(opportunity)
    _sync_next_step(opportunity, actor=actor)
    return opportunity


def assignable_owner_choices(
    *, viewer: User, keep: User | None = None, chosen: int | None = None
) -> Shortlist:
    """Whom the viewer may make an opportunity's owner, as the form's picker shows them (the
    first by name and `chosen`), plus `keep` (its current owner)."""
    owners = people_shortlist(viewer, chosen=chosen)
    return owners.keeping(keep.id, keep.display_name) if keep is not None else owners
