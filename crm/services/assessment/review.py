"""The level review (after each quarter): who the scores suggest for another level.

Information for the supervisor, never a change: a manager is listed when they were in
the top share of their level's managers (default 20 %) two quarters running and are not
senior yet, or when their total stayed below a threshold (default 50) two quarters
running. Totals are the stored quarter cards (the published ones where published); the
top share is counted among every manager of the level in the organisation, so a team
of three does not make its best "top 20 %" by itself.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import owner_scope
from crm.services import settings
from crm.services.assessment import store
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.store import StoredTotal
from models import Level, PeriodKind, Role, User

TOP_SHARE = settings.declare(
    settings.Setting(
        "assessment.review_top_percent",
        _l("Level review: the top share of a level's managers (percent)"),
        20,
        settings.whole_number(1, 50),
        help=_l("Two quarters running in this top share suggests the next level."),
        area=_l("Assessment"),
    )
)
FLOOR = settings.declare(
    settings.Setting(
        "assessment.review_floor",
        _l("Level review: total below which a manager is listed"),
        50,
        settings.whole_number(0, 100),
        help=_l("Two quarters running below it lists the manager for a talk about their level."),
        area=_l("Assessment"),
    )
)


def top_share() -> int:
    return settings.value(TOP_SHARE.key)


def floor() -> int:
    return settings.value(FLOOR.key)


class Suggestion(enum.StrEnum):
    UP = "up"  # top share two quarters running: the next level?
    BELOW = "below"  # below the threshold two quarters running


@dataclass
class ReviewLine:
    manager: User
    suggestion: Suggestion
    totals: tuple[Decimal, Decimal]  # the quarter before, this quarter
    places: tuple[tuple[int, int], tuple[int, int]]  # (place, managers of the level), both


def _places(totals: dict[int, StoredTotal]) -> dict[int, tuple[int, int]]:
    """Each manager's place among the managers of their level (then) by total."""
    by_level: dict[Level, list[tuple[Decimal, int]]] = {}
    for user_id, stored in totals.items():
        by_level.setdefault(stored.level, []).append((stored.total, user_id))
    places = {}
    for entries in by_level.values():
        entries.sort(reverse=True)
        previous, place = None, 0
        for position, (total, user_id) in enumerate(entries, start=1):
            if total != previous:
                place, previous = position, total
            places[user_id] = (place, len(entries))
    return places


def _in_top(place: tuple[int, int], share: int) -> bool:
    number, of = place
    return number <= max(1, math.ceil(of * share / 100))


def level_review(quarter: AssessmentPeriod, viewer: User) -> list[ReviewLine]:
    """The managers in the viewer's scope the quarter and the one before suggest for review."""
    if quarter.kind is not PeriodKind.QUARTER:
        return []
    before = quarter.previous()
    now_totals = store.stored_totals(quarter, points=False)
    before_totals = store.stored_totals(before, points=False)
    now_places, before_places = _places(now_totals), _places(before_totals)
    share, threshold = top_share(), Decimal(floor())
    managers = db.session.scalars(
        select(User)
        .where(
            User.role == Role.MANAGER,
            User.active.is_(True),
            User.id.in_([i for i in now_totals if i in before_totals]),
            owner_scope(viewer, User.id),
        )
        .order_by(User.display_name)
    ).all()
    lines = []
    for manager in managers:
        now, then = now_totals[manager.id], before_totals[manager.id]
        places = (before_places[manager.id], now_places[manager.id])
        totals = (then.total, now.total)
        if manager.level is not Level.SENIOR and all(_in_top(p, share) for p in places):
            lines.append(ReviewLine(manager, Suggestion.UP, totals, places))
        elif now.total < threshold and then.total < threshold:
            lines.append(ReviewLine(manager, Suggestion.BELOW, totals, places))
    return lines
