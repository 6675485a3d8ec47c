"""Performance assessment (绩效考核): weights, targets, temporary tasks and scorecards.

The indicators and their formulas are code (crm/services/assessment/catalog.py); what an
administrator sets is stored here: a weight set per level (初级 / 中级 / 高级) and period
kind (month, quarter), versioned by the first day it applies to, so a period is always
scored with the set in force for it. Supervisors set targets and temporary tasks
(临时任务) per manager and period, and score the tasks with a comment.

A scorecard is one manager's sheet for one period as it was computed: a draft (no
publication) is recomputed by the scheduler and after every change a supervisor makes; a
published one belongs to a publication of the manager's team and never changes again.
Publishing a team's period again adds a publication with its reason; the older one and
its scorecards stay as the history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from models.base import TimestampMixin, UTCDateTime, str_enum, utcnow
from models.user import Level

if TYPE_CHECKING:
    from models.user import Team, User


class PeriodKind(enum.StrEnum):
    MONTH = "month"  # key 2026-03
    QUARTER = "quarter"  # key 2026-Q1


class Marking(enum.StrEnum):
    """How a level's sheet treats an indicator (重点 / 一般 / 不考核)."""

    KEY = "key"
    SECONDARY = "secondary"
    NOT_ASSESSED = "not_assessed"


class ScoringMethod(enum.StrEnum):
    """Churn (离网率) is scored against a target, or by ranking among peers (比高法)."""

    TARGET = "target"
    RANKING = "ranking"


class AssessmentWeightSet(db.Model):
    """One version of a level's weights for one period kind, in force from `starts_on`.

    Versions are never edited: a change is a new version. The one in force for a period
    is the latest that starts on or before the period's first day.
    """

    __tablename__ = "assessment_weight_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[Level] = mapped_column(str_enum(Level))
    period_kind: Mapped[PeriodKind] = mapped_column(str_enum(PeriodKind, 10))
    starts_on: Mapped[date] = mapped_column(Date)  # the first day of a month or a quarter
    # Points of the temporary tasks (KPIs carry the rest of 100).
    task_weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User | None] = relationship()
    weights: Mapped[list[AssessmentWeight]] = relationship(
        back_populates="weight_set",
        cascade="all, delete-orphan",
        order_by="AssessmentWeight.indicator",
    )

    __table_args__ = (UniqueConstraint("level", "period_kind", "starts_on"),)


class AssessmentWeight(db.Model):
    """One indicator's line in a weight set: weight, marking, cap and floor, defaults."""

    __tablename__ = "assessment_weights"

    id: Mapped[int] = mapped_column(primary_key=True)
    weight_set_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_weight_sets.id", ondelete="CASCADE")
    )
    indicator: Mapped[str] = mapped_column(String(4))  # the catalog's code: 01 … 07, C1 …
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    marking: Mapped[Marking] = mapped_column(str_enum(Marking))
    method: Mapped[ScoringMethod] = mapped_column(
        str_enum(ScoringMethod, 10), default=ScoringMethod.TARGET
    )
    # Points are kept between floor and cap, in percent of the weight (120 = 1.2 × weight;
    # a negative floor lets an indicator take points away).
    cap: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    floor: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    # The level's target when the supervisor set none for the manager.
    default_target: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # Points one unit costs where the formula counts units (satisfaction: per complaint).
    per_unit: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))

    weight_set: Mapped[AssessmentWeightSet] = relationship(back_populates="weights")

    __table_args__ = (UniqueConstraint("weight_set_id", "indicator"),)


class AssessmentTarget(TimestampMixin, db.Model):
    """A manager's target for one indicator in one period, set by the supervisor.

    The business count (03) is split into parts (到达数, net new lines, deals won), each
    with its target and its share of the weight; other indicators have one target, part "".
    """

    __tablename__ = "assessment_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(7))  # 2026-03 or 2026-Q1
    indicator: Mapped[str] = mapped_column(String(4))
    part: Mapped[str] = mapped_column(String(20), default="")
    target: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent of the weight
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("user_id", "period", "indicator", "part"),
        # A period's targets for every manager at once (the scorecard computation).
        Index("ix_assessment_targets_period", "period"),
    )


class TemporaryTask(TimestampMixin, db.Model):
    """A temporary task (临时任务) the supervisor set for a manager, scored 0–100 with a comment."""

    __tablename__ = "assessment_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(7))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Relative weight among the period's tasks of the manager (a bigger task counts more).
    weight: Mapped[int] = mapped_column(default=1)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # 0–100; None until scored
    comment: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])
    scored_by: Mapped[User | None] = relationship(foreign_keys=[scored_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_assessment_tasks_period_user_id", "period", "user_id"),)


class AssessmentPublication(db.Model):
    """A team's period published: who, when, and why when it replaced an earlier one."""

    __tablename__ = "assessment_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    number: Mapped[int]  # 1 for the first publication of the team's period, then 2, 3 …
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)  # required from the second one on

    team: Mapped[Team] = relationship()
    published_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("period", "team_id", "number"),)


class Scorecard(db.Model):
    """One manager's sheet for one period: each indicator's actual, target and points.

    `sheet` holds the lines as computed ({"lines": [...], "tasks": [...], ...}): what the
    page shows and the export writes, so a published card never depends on later data.
    """

    __tablename__ = "assessment_scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(7))
    # None: a draft, recomputed until the team's period is published.
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_publications.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    level: Mapped[Level] = mapped_column(str_enum(Level))
    weight_set_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_weight_sets.id"))
    kpi_points: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    task_points: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    sheet: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    publication: Mapped[AssessmentPublication | None] = relationship()

    __table_args__ = (
        # A period's drafts, of everyone or of a team's managers (replaced, read).
        Index(
            "ix_assessment_scorecards_period_publication_id_user_id",
            "period",
            "publication_id",
            "user_id",
        ),
        # A publication's cards (the published team sheet).
        Index("ix_assessment_scorecards_publication_id", "publication_id"),
        # One manager's cards over the periods (the scorecard page, the level review).
        Index("ix_assessment_scorecards_user_id_period", "user_id", "period"),
    )
