"""The admin-editable stages of the sales lifecycle and their order.

Stages are kept in one global order: pre-sale stages first, then in-sale, then
after-sale, numbered 1..n without gaps. Within pre-sale the contract stage comes
last: an opportunity is won there and moves on into in-sale. Exactly one active
stage is the contract stage. A stage that any opportunity or history row names
can only be retired, never deleted, so the history keeps its meaning.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.request_cache import per_request
from crm.services.errors import DomainError, NotAllowed
from crm.services.pipeline import totals
from crm.services.pipeline.document_rules import clean_rule
from models import (
    DocumentRule,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Phase,
    Stage,
    User,
)

PHASE_ORDER = {phase: index for index, phase in enumerate(Phase)}
# The seeded English name of the stage after which a decision maker is expected.
NEEDS_DISCOVERY_NAME = "needs discovery"


# Reading ---------------------------------------------------------------------


def all_stages() -> list[Stage]:
    """Every stage, retired ones included, in lifecycle order (read once per page view)."""
    return list(
        per_request(
            "stages",
            lambda: list(db.session.scalars(select(Stage).order_by(Stage.position, Stage.id))),
        )
    )


def active_stages() -> list[Stage]:
    """The stages offered for new moves, in lifecycle order."""
    return [stage for stage in all_stages() if stage.active]


def first_pre_sale_stage() -> Stage | None:
    """Where a new opportunity starts by default."""
    return db.session.scalar(
        select(Stage)
        .where(Stage.active.is_(True), Stage.phase == Phase.PRE_SALE)
        .order_by(Stage.position)
        .limit(1)
    )


def contract_stage() -> Stage | None:
    return db.session.scalar(select(Stage).where(Stage.is_contract.is_(True)).limit(1))


def stage_usage() -> dict[int, int]:
    """{stage id: opportunities now in it}; a stage only named by history rows counts 0.

    From the totals the database keeps per stage and status (crm/services/pipeline/totals):
    about fifty rows, where counting the opportunities read all 150,000 of a province.
    """
    return {
        stage_id: count
        for stage_id, (count, _amount, _weighted) in totals.stage_totals(OpportunityStatus).items()
    }


def stages_in_use() -> set[int]:
    """Ids of the stages any opportunity or history row refers to: two index probes a
    stage (each table's index starts with the stage), not a pass over every row."""
    stmt = select(Stage.id).where(
        or_(
            exists().where(Opportunity.stage_id == Stage.id),
            exists().where(OpportunityHistory.stage_id == Stage.id),
        )
    )
    return set(db.session.scalars(stmt))


def needs_discovery_position() -> ColumnElement[int]:
    """SQL for the position of the needs-discovery stage, read from the stage table.

    It is the stage seeded as "Needs discovery" (found by its English name, so
    admins may reorder and rename it in Chinese); if that name was changed, the
    second pre-sale stage in order stands in for it.
    """
    # Aliases: this is embedded in queries that join stages themselves, and must not
    # be correlated to their rows.
    named, ordered = aliased(Stage), aliased(Stage)
    by_name = (
        select(func.min(named.position))
        .where(func.lower(named.name_en) == NEEDS_DISCOVERY_NAME, named.phase == Phase.PRE_SALE)
        .scalar_subquery()
    )
    second_pre_sale = (
        select(ordered.position)
        .where(ordered.phase == Phase.PRE_SALE)
        .order_by(ordered.position)
        .limit(1)
        .offset(1)
        .scalar_subquery()
    )
    return func.coalesce(by_name, second_pre_sale)


def needs_discovery_stage_id() -> int | None:
    """The id of the needs-discovery stage (for the admin page's marker)."""
    return db.session.scalar(select(Stage.id).where(Stage.position == needs_discovery_position()))


# Changing --------------------------------------------------------------------


def require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may change the stages."))


def _names(name_zh: str | None, name_en: str | None) -> tuple[str, str]:
    name_zh = " ".join((name_zh or "").split())
    name_en = " ".join((name_en or "").split())
    if not name_zh:
        raise DomainError(_l("Enter the Chinese name."), field="name_zh")
    if not name_en:
        raise DomainError(_l("Enter the English name."), field="name_en")
    return name_zh, name_en


def _check_probability(probability: int | None) -> int:
    if probability is None or not 0 <= int(probability) <= 100:
        raise DomainError(_l("The probability is a percentage from 0 to 100."), field="probability")
    return int(probability)


def _check_unique(name_zh: str, name_en: str, stage: Stage | None) -> None:
    others = select(Stage.id).where(
        (Stage.name_zh == name_zh) | (func.lower(Stage.name_en) == name_en.lower())
    )
    if stage is not None:
        others = others.where(Stage.id != stage.id)
    if db.session.scalar(others.limit(1)) is not None:
        raise DomainError(_l("Another stage already has this name."), field="name_zh")


def _sort_key(stage: Stage) -> tuple[int, bool, int, int]:
    # Within pre-sale the contract stage sorts last (False < True).
    return (PHASE_ORDER[stage.phase], stage.is_contract, stage.position, stage.id or 0)


def _renumber() -> None:
    """Number the stages 1..n in phase order, keeping their order within each phase."""
    db.session.flush()
    for position, stage in enumerate(sorted(all_stages(), key=_sort_key), start=1):
        stage.position = position
    db.session.flush()


def create_stage(
    *, actor: User, name_zh: str, name_en: str, phase: Phase, probability: int
) -> Stage:
    """Add a stage at the end of its phase (before the contract stage in pre-sale)."""
    require_admin(actor)
    name_zh, name_en = _names(name_zh, name_en)
    _check_unique(name_zh, name_en, None)
    stage = Stage(
        name_zh=name_zh,
        name_en=name_en,
        phase=Phase(phase),
        probability=_check_probability(probability),
        position=10**6,
        is_contract=False,
        active=True,
    )
    db.session.add(stage)
    _renumber()
    return stage


def update_stage(
    stage: Stage,
    *,
    actor: User,
    name_zh: str,
    name_en: str,
    phase: Phase,
    probability: int,
    is_contract: bool,
    document_rule: DocumentRule | str | None = None,
    document_kind: str | None = None,
) -> Stage:
    """Rename a stage, change its phase or default probability, or make it the contract stage.

    A stage moved into a later phase becomes that phase's first stage, into an
    earlier one its last. The probabilities of opportunities already in the stage
    are left as they are: a new default applies from the next move on. With
    `document_rule` the stage's document rule changes too (off, require or suggest a
    document of `document_kind`); it applies to moves from then on.
    """
    require_admin(actor)
    name_zh, name_en = _names(name_zh, name_en)
    _check_unique(name_zh, name_en, stage)
    if document_rule is not None:
        stage.document_rule, stage.document_kind = clean_rule(document_rule, document_kind)
    phase = Phase(phase)
    probability = _check_probability(probability)
    if stage.is_contract and not is_contract:
        raise DomainError(
            _l("One stage must be the contract stage: mark another stage as the contract stage."),
            field="is_contract",
        )
    if is_contract and phase is not Phase.PRE_SALE:
        raise DomainError(
            _l("The contract stage ends the pre-sale phase: it must be a pre-sale stage."),
            field="phase",
        )
    if is_contract and not stage.active:
        raise DomainError(_l("A retired stage cannot be the contract stage."), field="is_contract")
    if phase is not stage.phase and _has_opportunities(stage):
        # Won and open opportunities are told apart by phase: moving a stage in use
        # across phases would leave open ones in in-sale or won ones in pre-sale.
        raise DomainError(
            _l("Opportunities are in this stage: it cannot change phase."), field="phase"
        )
    if is_contract and not stage.is_contract:
        previous = contract_stage()
        if previous is not None:
            previous.is_contract = False
    stage.name_zh, stage.name_en = name_zh, name_en
    stage.phase, stage.probability, stage.is_contract = phase, probability, is_contract
    _renumber()
    return stage


def _has_opportunities(stage: Stage) -> bool:
    return (
        db.session.scalar(select(Opportunity.id).where(Opportunity.stage_id == stage.id).limit(1))
        is not None
    )


def move_stage(stage: Stage, *, actor: User, up: bool) -> None:
    """Swap a stage with its neighbour in the same phase (the contract stage stays last)."""
    require_admin(actor)
    siblings = [s for s in sorted(all_stages(), key=_sort_key) if s.phase is stage.phase]
    index = siblings.index(stage)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(siblings):
        raise DomainError(
            _l("This stage is already the first of its phase.")
            if up
            else _l("This stage is already the last of its phase.")
        )
    other = siblings[other_index]
    if stage.is_contract or other.is_contract:
        raise DomainError(_l("The contract stage stays the last pre-sale stage."))
    stage.position, other.position = other.position, stage.position
    _renumber()


def set_stage_active(stage: Stage, *, actor: User, active: bool) -> None:
    """Retire a stage (opportunities in it stay; no new moves into it) or offer it again."""
    require_admin(actor)
    if not active and stage.is_contract:
        raise DomainError(
            _l("The contract stage cannot be retired: mark another stage as the contract stage.")
        )
    stage.active = active
    db.session.flush()


def delete_stage(stage: Stage, *, actor: User) -> None:
    """Delete a stage nothing refers to; a stage in use can only be retired."""
    require_admin(actor)
    if stage.is_contract:
        raise DomainError(_l("The contract stage cannot be deleted."))
    if stage.id in stages_in_use():
        raise DomainError(
            _l(
                "Opportunities or their history refer to this stage: "
                "it cannot be deleted, only retired."
            )
        )
    db.session.delete(stage)
    _renumber()


def stage_by_id(stage_id: int | None) -> Stage | None:
    """The stage a form or filter chose, or None without an id."""
    return db.session.get(Stage, stage_id) if stage_id else None
