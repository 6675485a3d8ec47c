"""Targets per manager and period: set by the supervisor, in bulk or from a CSV file.

The target a line is scored against is, in this order: the one the supervisor set for
the manager and the period; for visits and won amount, the manager's standing targets
(crm/services/reporting/targets.py: visits a week, won amount a quarter), scaled to the
period; the level's default in the weight set. The business count (03) has no default:
its weight is split into the parts the supervisor sets, with their shares.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.services.assessment import catalog
from crm.services.assessment.catalog import LineSpec
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.errors import DomainError, NotAllowed
from crm.services.reporting.targets import may_set_targets, targets_of
from models import AssessmentTarget, PeriodKind, Target, Team, User

HUNDRED = Decimal(100)
MAX_TARGET = Decimal("9999999999999")
CSV_COLUMNS = ("username", "indicator", "part", "target", "share")
MAX_CSV_ERRORS = 10

Key = tuple[str, str]  # (indicator, part)


@dataclass(frozen=True)
class Resolved:
    """The target a line is scored against, and where it comes from."""

    value: Decimal | None
    source: str  # "set", "standing", "level" or "none"


def targets_for(
    period: AssessmentPeriod, user_ids: list[int]
) -> dict[int, dict[Key, AssessmentTarget]]:
    """The targets set for the period, per manager (one statement)."""
    found: dict[int, dict[Key, AssessmentTarget]] = defaultdict(dict)
    if not user_ids:
        return found
    for row in db.session.scalars(
        select(AssessmentTarget).where(
            AssessmentTarget.period == period.key, AssessmentTarget.user_id.in_(user_ids)
        )
    ):
        found[row.user_id][(row.indicator, row.part)] = row
    return found


def all_targets_for(period: AssessmentPeriod) -> dict[int, dict[Key, AssessmentTarget]]:
    """Every manager's targets for the period (the scheduler's computation of everyone)."""
    found: dict[int, dict[Key, AssessmentTarget]] = defaultdict(dict)
    for row in db.session.scalars(
        select(AssessmentTarget).where(AssessmentTarget.period == period.key)
    ):
        found[row.user_id][(row.indicator, row.part)] = row
    return found


def standing(target: Target | None, code: str, period: AssessmentPeriod) -> Decimal | None:
    """A manager's standing target scaled to the period (visits a week, won a quarter)."""
    if target is None:
        return None
    if code == "C1" and target.weekly_visits:
        days = (period.last - period.first).days + 1
        return (Decimal(target.weekly_visits) * days / 7).quantize(Decimal(1))
    if code == "C4" and target.quarterly_won:
        if period.kind is PeriodKind.QUARTER:
            return target.quarterly_won
        return (target.quarterly_won / 3).quantize(Decimal("0.01"))
    return None


def resolve(
    code: str,
    line: LineSpec,
    set_targets: dict[Key, AssessmentTarget],
    standing_target: Target | None,
    period: AssessmentPeriod,
) -> Resolved:
    explicit = set_targets.get((code, ""))
    if explicit is not None:
        return Resolved(explicit.target, "set")
    scaled = standing(standing_target, code, period)
    if scaled is not None:
        return Resolved(scaled, "standing")
    if line.default_target is not None:
        return Resolved(line.default_target, "level")
    return Resolved(None, "none")


def parts_of(set_targets: dict[Key, AssessmentTarget]) -> list[AssessmentTarget]:
    """The business count's parts set for the manager, in the catalog's order."""
    order = list(catalog.PARTS)
    parts = [
        t for (code, part), t in set_targets.items() if code == catalog.BUSINESS_COUNT and part
    ]
    return sorted(parts, key=lambda t: order.index(t.part) if t.part in order else len(order))


def standing_targets(user_ids: list[int]) -> dict[int, Target]:
    return targets_of(user_ids)


# Changes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetValue:
    """What the supervisor typed for one indicator (or part): None clears it."""

    target: Decimal | None
    share: Decimal | None = None


def target_keys() -> list[Key]:
    """Every (indicator, part) a target can be set for, in the sheet's order."""
    keys: list[Key] = []
    for code, indicator in catalog.INDICATORS.items():
        if indicator.target_unit is None:
            continue
        if code == catalog.BUSINESS_COUNT:
            keys += [(code, part) for part in catalog.PARTS]
        else:
            keys.append((code, ""))
    return keys


def save_targets(
    manager: User, period: AssessmentPeriod, values: dict[Key, TargetValue], *, actor: User
) -> int:
    """Set (or clear) the manager's targets for the period; returns how many are set."""
    if not may_set_targets(actor, manager):
        raise NotAllowed(_l("You may set targets only for the members of your team."))
    _check(values, manager)
    existing = targets_for(period, [manager.id]).get(manager.id, {})
    for key, value in values.items():
        row = existing.get(key)
        if value.target is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = AssessmentTarget(
                user_id=manager.id, period=period.key, indicator=key[0], part=key[1]
            )
            db.session.add(row)
        row.target = value.target
        row.share = value.share if key[1] else None
        row.set_by_id = actor.id
    db.session.flush()
    return sum(1 for value in values.values() if value.target is not None)


def _check(values: dict[Key, TargetValue], manager: User) -> None:
    allowed = set(target_keys())
    shares = Decimal(0)
    for key, value in values.items():
        if key not in allowed:
            raise DomainError(_l("No target is set for that indicator."))
        if value.target is None:
            continue
        name = manager.display_name
        if not Decimal(0) <= value.target <= MAX_TARGET:
            raise DomainError(_l("%(name)s: a target cannot be negative.", name=name))
        unit = catalog.INDICATORS[key[0]].target_unit
        if unit == "percent" and value.target > HUNDRED:
            raise DomainError(_l("%(name)s: a percentage is at most 100.", name=name))
        if key[1]:
            if value.share is None or not Decimal(0) < value.share <= HUNDRED:
                raise DomainError(
                    _l(
                        "%(name)s: each business count target needs its share (1–100 %%).",
                        name=name,
                    )
                )
            shares += value.share
    if shares and shares != HUNDRED:
        total = f"{shares.normalize():f}"
        raise DomainError(
            _l(
                "%(name)s: the business count's shares add up to %(total)s %%, not 100 %%.",
                name=manager.display_name,
                total=total,
            )
        )


# CSV import ------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else GB18030 (Excel on Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise DomainError(_l("The file is neither UTF-8 nor GB18030 text.")) from None


def import_csv(period: AssessmentPeriod, team: Team, data: bytes, *, actor: User) -> int:
    """Targets from a file (username, indicator, part, target, share), all or nothing.

    Each manager named gets exactly the targets the file lists for them: what the file
    leaves out is cleared, so a file is the whole of a manager's targets.
    """
    text = decode(data)
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header[: len(CSV_COLUMNS)] != list(CSV_COLUMNS):
        raise DomainError(
            _l("The first line must name the columns: %(columns)s.", columns=", ".join(CSV_COLUMNS))
        )
    members = {m.username: m for m in team.members if m.active and m.is_manager}
    wanted: dict[str, dict[Key, TargetValue]] = defaultdict(dict)
    errors: list[str] = []
    allowed = set(target_keys())
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row] + [""] * len(CSV_COLUMNS)
        username, code, part, target, share = cells[:5]
        if username.lower() not in members:
            errors.append(
                str(_l("line %(line)d: %(name)s is not in the team.", line=line, name=username))
            )
            continue
        if (code, part) not in allowed:
            errors.append(
                str(
                    _l(
                        "line %(line)d: no target for %(code)s %(part)s.",
                        line=line,
                        code=code,
                        part=part,
                    )
                )
            )
            continue
        try:
            value = TargetValue(Decimal(target), Decimal(share) if share else None)
        except InvalidOperation:
            errors.append(
                str(_l("line %(line)d: the target and the share are numbers.", line=line))
            )
            continue
        wanted[username.lower()][(code, part)] = value
        if len(errors) >= MAX_CSV_ERRORS:
            break
    if errors:
        raise DomainError("; ".join(errors))
    if not wanted:
        raise DomainError(_l("The file lists no target."))
    count = 0
    for username, values in wanted.items():
        full = {key: values.get(key, TargetValue(None)) for key in target_keys()}
        count += save_targets(members[username], period, full, actor=actor)
    return count
