"""Weight sets: per level and period kind, versioned by the day they start.

A period is scored with the set in force for it: the latest stored version of its level
and kind that starts on or before the period's first day, else the built-in example set
(catalog.BUILT_IN). Versions are not edited once a period they cover is published: a
change is a new version from a later period on, so a published sheet and its weights
stay together (the published scorecards keep their lines as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.services.assessment import catalog, periods
from crm.services.assessment.catalog import LineSpec, SetSpec
from crm.services.errors import DomainError, NotAllowed
from models import (
    AssessmentPublication,
    AssessmentWeight,
    AssessmentWeightSet,
    Level,
    Marking,
    PeriodKind,
    ScoringMethod,
    User,
)

HUNDRED = Decimal(100)
MAX_CAP = Decimal(500)
MIN_FLOOR = Decimal(-100)
MAX_TARGET = Decimal("9999999999999")


@dataclass(frozen=True)
class InForce:
    """The set that scores a level's period: stored (with its id and start) or built in."""

    spec: SetSpec
    set_id: int | None = None
    starts_on: date | None = None


def spec_of(weight_set: AssessmentWeightSet) -> SetSpec:
    lines = {
        w.indicator: LineSpec(
            weight=w.weight,
            marking=w.marking,
            method=w.method,
            cap=w.cap,
            floor=w.floor,
            default_target=w.default_target,
            per_unit=w.per_unit,
        )
        for w in weight_set.weights
    }
    # An indicator added to the catalog after the set was saved is not assessed by it.
    for code in catalog.CODES:
        lines.setdefault(code, LineSpec(Decimal(0), Marking.NOT_ASSESSED))
    return SetSpec(weight_set.task_weight, lines)


def in_force(kind: PeriodKind, first: date) -> dict[Level, InForce]:
    """Each level's set for a period of `kind` starting on `first` (one statement)."""
    stored = db.session.scalars(
        select(AssessmentWeightSet)
        .options(selectinload(AssessmentWeightSet.weights))
        .where(AssessmentWeightSet.period_kind == kind, AssessmentWeightSet.starts_on <= first)
        .order_by(AssessmentWeightSet.starts_on)
    ).all()
    found = {level: InForce(catalog.BUILT_IN[(level, kind)]) for level in Level}
    for weight_set in stored:  # ordered by start: the latest wins
        found[weight_set.level] = InForce(spec_of(weight_set), weight_set.id, weight_set.starts_on)
    return found


def versions(level: Level, kind: PeriodKind) -> list[AssessmentWeightSet]:
    """The stored versions of a level's set, newest start first."""
    return list(
        db.session.scalars(
            select(AssessmentWeightSet)
            .options(selectinload(AssessmentWeightSet.weights))
            .where(AssessmentWeightSet.level == level, AssessmentWeightSet.period_kind == kind)
            .order_by(AssessmentWeightSet.starts_on.desc())
        )
    )


def version(set_id: int) -> AssessmentWeightSet | None:
    return db.session.get(
        AssessmentWeightSet, set_id, options=[selectinload(AssessmentWeightSet.weights)]
    )


def all_versions() -> list[AssessmentWeightSet]:
    return list(
        db.session.scalars(
            select(AssessmentWeightSet).order_by(
                AssessmentWeightSet.period_kind,
                AssessmentWeightSet.level,
                AssessmentWeightSet.starts_on.desc(),
            )
        )
    )


def latest_published(kind: PeriodKind) -> periods.AssessmentPeriod | None:
    """The latest period of the kind any team has published."""
    keys = db.session.scalars(select(AssessmentPublication.period).distinct()).all()
    found = [p for p in map(periods.parse, keys) if p is not None and p.kind is kind]
    return max(found, default=None)


def save_version(
    level: Level,
    kind: PeriodKind,
    starts_on: date,
    spec: SetSpec,
    *,
    note: str | None,
    actor: User,
) -> AssessmentWeightSet:
    """Store a level's weights from `starts_on` on (a new version, or the one that starts
    then if no period it covers is published yet)."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator changes the weights."))
    first = periods.period_for(starts_on, kind).first
    if first != starts_on:
        raise DomainError(_l("A set starts on the first day of a period."), field="starts_on")
    published = latest_published(kind)
    if published is not None and published.first >= starts_on:
        raise DomainError(
            _l(
                "%(period)s is published with the weights in force then: start the new "
                "weights with a later period.",
                period=published.key,
            ),
            field="starts_on",
        )
    check(spec)
    weight_set = db.session.scalar(
        select(AssessmentWeightSet).where(
            AssessmentWeightSet.level == level,
            AssessmentWeightSet.period_kind == kind,
            AssessmentWeightSet.starts_on == starts_on,
        )
    )
    if weight_set is None:
        weight_set = AssessmentWeightSet(level=level, period_kind=kind, starts_on=starts_on)
        db.session.add(weight_set)
    weight_set.task_weight = spec.task_weight
    weight_set.note = note or None
    weight_set.created_by_id = actor.id
    weight_set.weights.clear()
    db.session.flush()
    for code in catalog.CODES:
        line = spec.lines[code]
        weight_set.weights.append(
            AssessmentWeight(
                indicator=code,
                weight=line.weight if line.assessed else Decimal(0),
                marking=line.marking,
                method=line.method,
                cap=line.cap,
                floor=line.floor,
                default_target=line.default_target,
                per_unit=line.per_unit,
            )
        )
    db.session.flush()
    return weight_set


def check(spec: SetSpec) -> None:
    """The rules of a set: weights that add up to 100, caps above floors, sane targets."""
    if not Decimal(0) <= spec.task_weight <= HUNDRED:
        raise DomainError(_l("A weight is from 0 to 100."), field="task_weight")
    for code in catalog.CODES:
        line = spec.lines.get(code)
        if line is None:
            raise DomainError(_l("Every indicator needs a line."))
        field = f"w{code}_weight"
        if not Decimal(0) <= line.weight <= HUNDRED:
            raise DomainError(_l("A weight is from 0 to 100."), field=field)
        if line.assessed and line.weight == 0:
            raise DomainError(
                _l("An assessed indicator needs a weight; mark it not assessed instead."),
                field=field,
            )
        if not (MIN_FLOOR <= line.floor <= line.cap <= MAX_CAP):
            raise DomainError(
                _l("Floor from −100 up to the cap, cap at most 500 (percent of the weight)."),
                field=f"w{code}_cap",
            )
        if line.method is ScoringMethod.RANKING and code != catalog.CHURN:
            raise DomainError(_l("Only churn can be scored by ranking."), field=f"w{code}_method")
        if line.default_target is not None and not Decimal(0) <= line.default_target <= MAX_TARGET:
            raise DomainError(_l("A target cannot be negative."), field=f"w{code}_default_target")
        if line.per_unit is not None and not Decimal(0) <= line.per_unit <= HUNDRED:
            raise DomainError(_l("From 0 to 100 points."), field=f"w{code}_per_unit")
    total = spec.kpi_weight + spec.task_weight
    if total != HUNDRED:
        written = f"{total.normalize():f}"
        raise DomainError(
            _l(
                "The weights add up to %(total)s: the indicators and the temporary tasks "
                "together must make 100.",
                total=written,
            )
        )
