"""Reading an opportunity's append-only history: time per stage and what each row changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, joinedload

from crm.extensions import db
from models import Opportunity, OpportunityHistory, OpportunityStatus, Stage
from models.base import utcnow


@dataclass
class StageTime:
    """How long an opportunity has spent in one stage (summed over every stay)."""

    stage: Stage
    duration: timedelta
    stays: int
    current: bool

    @property
    def days(self) -> float:
        return round(self.duration.total_seconds() / 86400, 1)


def _ordered(opportunity: Opportunity) -> list[OpportunityHistory]:
    return sorted(opportunity.history, key=lambda row: (row.at, row.id or 0))


def days_in_stages(opportunity: Opportunity, now: datetime | None = None) -> list[StageTime]:
    """Time spent in each stage, from the history, in the order the stages were entered.

    A stay runs from the row that entered the stage to the row that left it (or
    to `now` while the opportunity is still there). Time while the opportunity
    was lost does not count; reopening starts a new stay.
    """
    now = now or utcnow()
    times: dict[int, StageTime] = {}
    current: OpportunityHistory | None = None  # the row that began the running stay

    def close(until: datetime) -> None:
        times[current.stage_id].duration += max(until - current.at, timedelta(0))

    for row in _ordered(opportunity):
        counting = row.status is not OpportunityStatus.LOST
        if current is not None and (row.stage_id != current.stage_id or not counting):
            close(row.at)
            current = None
        if current is None and counting:
            current = row
            entry = times.setdefault(row.stage_id, StageTime(row.stage, timedelta(0), 0, False))
            entry.stays += 1
    if current is not None:
        close(now)
        times[current.stage_id].current = True
    return list(times.values())


# What a history row changed ------------------------------------------------------


def _value(field: str, raw: Any, stages: dict[int, Stage] | None) -> Any:
    """A history value as the thing it stands for (Stage, status, Decimal, date); without
    `stages` a stage stays its id, for the caller to name."""
    if raw is None:
        return None
    if field == "stage_id":
        return raw if stages is None else stages.get(raw)
    if field == "status":
        return OpportunityStatus(raw)
    if field == "amount":
        return Decimal(str(raw))
    if field == "expected_close":
        return date.fromisoformat(raw)
    return raw


def history_changes(
    row: OpportunityHistory, stages: dict[int, Stage] | None
) -> list[tuple[str, Any, Any]]:
    """[(field, old, new)] of one history row, values typed for display (stages: see _value)."""
    return [
        (field, _value(field, old, stages), _value(field, new, stages))
        for field, (old, new) in (row.changes or {}).items()
    ]


def customer_stage_history(customer_id: int) -> Select:
    """SELECT of the history rows of a customer's opportunities, newest first (timeline)."""
    return (
        select(OpportunityHistory)
        .join(OpportunityHistory.opportunity)
        .where(Opportunity.customer_id == customer_id)
        .options(
            contains_eager(OpportunityHistory.opportunity),
            joinedload(OpportunityHistory.stage),
            joinedload(OpportunityHistory.actor),
        )
        .order_by(OpportunityHistory.at.desc(), OpportunityHistory.id.desc())
    )


def history_rows(opportunity: Opportunity) -> Select:
    """SELECT of the opportunity's history rows (the API pages them, newest first)."""
    return select(OpportunityHistory).where(OpportunityHistory.opportunity_id == opportunity.id)


def history_with_actors(opportunity: Opportunity) -> list[OpportunityHistory]:
    """The opportunity's history rows, oldest first, each with its actor (one query)."""
    return list(
        db.session.scalars(
            select(OpportunityHistory)
            .where(OpportunityHistory.opportunity_id == opportunity.id)
            .options(joinedload(OpportunityHistory.actor))
            .order_by(OpportunityHistory.id)  # as Opportunity.history is ordered
        )
    )
