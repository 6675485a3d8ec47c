"""The plans report: per manager and per week (or month) of a period, whether the plan was
submitted on time, late or not at all, how much of it was carried out, and the ratings
the supervisors gave (优 / 良 / 中 / 差) per month.

The figures are the plan pages' own: the deadline and "on time" come from
`plans.periods`, completion (planned visits done, unplanned visits) from
`plans.matching`; this module only lays them out, with a fixed number of statements
however many managers and weeks are in view.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import load_only
from sqlalchemy.orm.attributes import set_committed_value

from crm.extensions import db
from crm.i18n import Zoned
from crm.labels import label
from crm.services.plans import matching, month_actuals, periods
from crm.services.reporting import metrics
from crm.services.reporting.reports import InView, Line, Lines, line_heading
from models import PlanKind, PlanReview, PlanTask, Rating, User, Verdict, WorkPlan

RATINGS = tuple(Rating)


class Submission(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"  # the deadline passed and the plan was never submitted
    NOT_DUE = "not_due"  # not submitted yet, and still time


def submission_labels() -> dict[Submission, str]:
    """The words for each state, translated once per page (a page shows hundreds)."""
    return {
        Submission.ON_TIME: _("On time"),
        Submission.LATE: _("Late"),
        Submission.MISSING: _("Missing"),
        Submission.NOT_DUE: _("Not due yet"),
    }


def plan_starts(kind: PlanKind, period: metrics.Period) -> list[date]:
    """The weeks (Mondays) or months (1sts) that begin in the period; when none does (a
    week asked for its month), the one holding the period's first day."""
    day = periods.starts_on_for(kind, period.first)
    if day < period.first and periods.following(kind, day) <= period.last:
        day = periods.following(kind, day)
    starts = [day]
    while (day := periods.following(kind, day)) <= period.last:
        starts.append(day)
    return starts


@dataclass
class PlanCell:
    """One manager's plan for one week or month, with what became of it."""

    starts_on: date
    submission: Submission
    plan: WorkPlan | None = None
    planned: int = 0
    done: int = 0
    unplanned: int = 0
    tasks: int = 0
    tasks_done: int = 0
    # A monthly plan's goals beside the month's actual figures.
    goals: list[month_actuals.GoalLine] = field(default_factory=list)

    @property
    def completion(self) -> int | None:
        return _share(self.done, self.planned)


@dataclass
class PlanRow:
    manager: User
    cells: list[PlanCell]

    def count(self, submission: Submission) -> int:
        return sum(1 for cell in self.cells if cell.submission is submission)

    @property
    def planned(self) -> int:
        return sum(cell.planned for cell in self.cells)

    @property
    def done(self) -> int:
        return sum(cell.done for cell in self.cells)

    @property
    def unplanned(self) -> int:
        return sum(cell.unplanned for cell in self.cells)

    @property
    def tasks(self) -> int:
        return sum(cell.tasks for cell in self.cells)

    @property
    def tasks_done(self) -> int:
        return sum(cell.tasks_done for cell in self.cells)

    @property
    def completion(self) -> int | None:
        return _share(self.done, self.planned)

    def goal_total(self, name: str) -> tuple:
        """(goal, actual) of one monthly goal summed over the months that set it."""
        lines = [g for cell in self.cells for g in cell.goals if g.name == name and g.goal]
        return sum(g.goal for g in lines), sum(g.actual for g in lines)


@dataclass
class PlanReport:
    kind: PlanKind
    starts: list[date]
    rows: list[PlanRow]

    def key(self, starts_on: date) -> str:
        if self.kind is PlanKind.WEEK:
            return periods.week_key(starts_on)
        return periods.month_key(starts_on)


def _share(part: int, whole: int) -> int | None:
    """A whole percentage, rounded as the plan page rounds its completion."""
    return round(part * 100 / whole) if whole else None


def _plans_of(owner_ids: list[int], kind: PlanKind, starts: list[date]) -> list[WorkPlan]:
    """The owners' plans of `kind` beginning on those days (what the report reads of them)."""
    return list(
        db.session.scalars(
            select(WorkPlan)
            .options(
                load_only(
                    WorkPlan.owner_id,
                    WorkPlan.kind,
                    WorkPlan.starts_on,
                    WorkPlan.status,
                    WorkPlan.first_submitted_at,
                    WorkPlan.goal_visits,
                    WorkPlan.goal_new_opportunities,
                    WorkPlan.goal_won_amount,
                )
            )
            .where(
                metrics.among_owners(WorkPlan.owner_id, owner_ids),
                WorkPlan.kind == kind,
                WorkPlan.starts_on.in_(starts),
            )
        )
    )


def _deadlines(kind: PlanKind) -> Callable[[date, Zoned], datetime]:
    """deadline(starts_on, owner), worked out once per day and time zone: a thousand
    managers share a few zones."""
    known: dict[tuple[date, str], datetime] = {}

    def deadline(starts_on: date, owner: Zoned) -> datetime:
        key = (starts_on, owner.timezone)
        if key not in known:
            known[key] = periods.deadline(kind, starts_on, owner)
        return known[key]

    return deadline


def _submission(first_submitted_at: datetime | None, due: datetime, now: datetime) -> Submission:
    """A plan (None: none) against its deadline."""
    on_time = periods.submitted_by(first_submitted_at, due)
    if on_time is None:
        return Submission.MISSING if now > due else Submission.NOT_DUE
    return Submission.ON_TIME if on_time else Submission.LATE


def plan_report(
    managers: Sequence[InView], period: metrics.Period, kind: PlanKind, now: datetime | None = None
) -> PlanReport:
    """Each manager's plans of `kind` that begin in the period (three statements, plus
    what matching needs to count completion)."""
    now = now or datetime.now(UTC)
    starts = plan_starts(kind, period)
    ids = [m.id for m in managers]
    # The plans' owners as rows, with the zone the deadlines read: one statement for all.
    owners = (
        {
            user.id: user
            for user in db.session.scalars(
                select(User)
                .options(load_only(User.display_name, User.team_id, User.timezone))
                .where(User.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    managers = [owners[m.id] for m in managers]
    in_view = {m.id: m for m in managers}
    plans = [p for p in _plans_of(ids, kind, starts) if p.owner_id in in_view]
    by_slot = {(p.owner_id, p.starts_on): p for p in plans}
    for plan in plans:
        # Its owner is loaded already: deadlines and periods read the owner's zone.
        set_committed_value(plan, "owner", in_view[plan.owner_id])
    # Weekly plans: planned visits, done, unplanned and tasks, as the plan page counts them.
    completion = matching.completion_for(plans)
    tasks = _task_counts([p.id for p in plans if p.id not in completion])
    # Monthly plans: their goals against the month's figures, as the plan page counts them.
    actuals = month_actuals.actuals_for(plans)
    deadline = _deadlines(kind)
    rows = []
    for manager in managers:
        cells = []
        for starts_on in starts:
            plan = by_slot.get((manager.id, starts_on))
            submitted = plan.first_submitted_at if plan is not None else None
            state = _submission(submitted, deadline(starts_on, manager), now)
            cell = PlanCell(starts_on, state, plan)
            if plan is not None and plan.id in completion:
                figures = completion[plan.id]
                cell.planned, cell.done, cell.unplanned = (
                    figures.planned,
                    figures.done,
                    figures.unplanned,
                )
                cell.tasks, cell.tasks_done = figures.tasks, figures.tasks_done
            elif plan is not None:
                cell.tasks, cell.tasks_done = tasks.get(plan.id, (0, 0))
            if plan is not None and plan.id in actuals:
                cell.goals = month_actuals.goal_lines(plan, actuals[plan.id])
            cells.append(cell)
        rows.append(PlanRow(manager, cells))
    return PlanReport(kind, starts, rows)


@dataclass
class TeamPlanRow:
    """A team's plans per week (or month): how many were on time, late, missing, not due."""

    line: Line
    cells: list[Counter]  # per start: Submission -> the team's managers

    def count(self, submission: Submission) -> int:
        return sum(cell[submission] for cell in self.cells)


@dataclass
class TeamPlanReport:
    kind: PlanKind
    starts: list[date]
    rows: list[TeamPlanRow]

    key = PlanReport.key


def team_submissions(
    lines: Lines,
    managers: Sequence[InView],
    period: metrics.Period,
    kind: PlanKind,
    now: datetime | None = None,
) -> TeamPlanReport:
    """An admin's every team: each team's managers' plans counted by how they were
    submitted, per week or month (one statement; the managers' zones come loaded).

    Completion is left to a team's own report: it matches every plan to the week's
    visits, which over every team cost the page most of a second at province.
    """
    now = now or datetime.now(UTC)
    starts = plan_starts(kind, period)
    submitted = {
        (owner_id, starts_on): first_submitted_at
        for owner_id, starts_on, first_submitted_at in db.session.execute(
            select(WorkPlan.owner_id, WorkPlan.starts_on, WorkPlan.first_submitted_at).where(
                metrics.among_owners(WorkPlan.owner_id, lines.manager_ids),
                WorkPlan.kind == kind,
                WorkPlan.starts_on.in_(starts),
            )
        )
    }
    rows = {line: TeamPlanRow(line, [Counter() for _ in starts]) for line in lines.lines}
    deadline = _deadlines(kind)
    for manager in managers:
        row = rows[lines.of_manager[manager.id]]
        for cell, starts_on in zip(row.cells, starts, strict=True):
            at = submitted.get((manager.id, starts_on))
            cell[_submission(at, deadline(starts_on, manager), now)] += 1
    return TeamPlanReport(kind, starts, list(rows.values()))


def _task_counts(plan_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not plan_ids:
        return {}
    return {
        row.plan_id: (row.tasks, int(row.done))
        for row in db.session.execute(
            select(
                PlanTask.plan_id,
                func.count().label("tasks"),
                metrics.count_where(PlanTask.done.is_(True)).label("done"),
            )
            .where(PlanTask.plan_id.in_(plan_ids))
            .group_by(PlanTask.plan_id)
        )
    }


# Ratings over time ------------------------------------------------------------------


@dataclass
class RatingRow:
    line: Line
    months: list[Counter] = field(default_factory=list)

    def total(self, rating: Rating) -> int:
        return sum(month[rating] for month in self.months)


@dataclass
class RatingReport:
    months: list[date]
    rows: list[RatingRow]


def rating_months(period: metrics.Period) -> list[date]:
    """The months the period touches (a week's month, a quarter's three)."""
    first = period.first.replace(day=1)
    months = [first]
    while (first := periods.following(PlanKind.MONTH, first)) <= period.last:
        months.append(first)
    return months


def ratings_over_time(lines: Lines, period: metrics.Period) -> RatingReport:
    """优 / 良 / 中 / 差 given to each line's plans (weekly and monthly), by the month the
    plan is for: one grouped statement."""
    months = rating_months(period)
    after = periods.following(PlanKind.MONTH, months[-1])
    slot = case(
        *(
            (WorkPlan.starts_on < periods.following(PlanKind.MONTH, m), i)
            for i, m in enumerate(months)
        ),
        else_=len(months),
    )
    rows = {line: RatingRow(line, [Counter() for _ in months]) for line in lines.lines}
    if rows:
        for found in db.session.execute(
            select(
                WorkPlan.owner_id,
                slot.label("month"),
                PlanReview.rating,
                func.count().label("reviews"),
            )
            .join(PlanReview.plan)
            .where(
                metrics.among_owners(WorkPlan.owner_id, lines.manager_ids),
                WorkPlan.starts_on >= months[0],
                WorkPlan.starts_on < after,
                PlanReview.verdict == Verdict.REVIEWED,
                PlanReview.rating.is_not(None),
            )
            .group_by(WorkPlan.owner_id, slot, PlanReview.rating)
        ):
            row = rows.get(lines.of_manager.get(found.owner_id))
            if row is not None:  # an owner outside the view (see among_owners)
                row.months[found.month][found.rating] += found.reviews
    return RatingReport(months, list(rows.values()))


# CSV rows ------------------------------------------------------------------------


def _blank(value) -> object:
    return "" if value is None else value


GOALS = ("visits", "new_opportunities", "won_amount")


def goal_names() -> dict[str, tuple[str, str]]:
    """Each monthly goal's column names: the goal, and what happened."""
    return {
        "visits": (_("Goal: visits"), _("Visits")),
        "new_opportunities": (_("Goal: new opportunities"), _("New opportunities")),
        "won_amount": (_("Goal: won amount"), _("Won amount")),
    }


def plan_rows(report: PlanReport) -> list[list]:
    """One line per manager and week (or month), with the figures the page shows."""
    weekly = report.kind is PlanKind.WEEK
    head = [
        _("Manager"),
        _("Week") if weekly else _("Month"),
        _("Plan status"),
        _("Submitted"),
    ]
    if weekly:
        head += [
            _("Planned visits"),
            _("Planned visits done"),
            _("Completion (%)"),
            _("Unplanned visits"),
            _("Tasks"),
            _("Tasks done"),
        ]
    else:
        head += [name for name in GOALS for name in goal_names()[name]]
    words = submission_labels()
    body = []
    for row in report.rows:
        for cell in row.cells:
            line = [
                row.manager.display_name,
                report.key(cell.starts_on),
                label(cell.plan.status) if cell.plan is not None else "",
                words[cell.submission],
            ]
            if weekly:
                line += [
                    cell.planned,
                    cell.done,
                    _blank(cell.completion),
                    cell.unplanned,
                    cell.tasks,
                    cell.tasks_done,
                ]
            else:
                goals = {g.name: g for g in cell.goals}
                for name in GOALS:
                    goal = goals.get(name)
                    line += ["", ""] if goal is None else [_blank(goal.goal), goal.actual]
            body.append(line)
    return [head, *body]


def team_plan_rows(report: TeamPlanReport) -> list[list]:
    """One line per team and week (or month): its plans by how they were submitted."""
    words = submission_labels()
    head = [_("Team"), _("Week") if report.kind is PlanKind.WEEK else _("Month")]
    head += [words[s] for s in Submission]
    body = [
        [row.line.name, report.key(starts_on), *[cell[s] for s in Submission]]
        for row in report.rows
        for starts_on, cell in zip(report.starts, row.cells, strict=True)
    ]
    return [head, *body]


def rating_rows(report: RatingReport) -> list[list]:
    """One line per manager (or team) and month: how many plans got each rating."""
    head = [
        line_heading([row.line for row in report.rows]),
        _("Month"),
        *[label(r) for r in RATINGS],
        _("Total"),
    ]
    body = [
        [
            row.line.name,
            periods.month_key(month),
            *[counts[r] for r in RATINGS],
            sum(counts.values()),
        ]
        for row in report.rows
        for month, counts in zip(report.months, row.months, strict=True)
    ]
    return [head, *body]
