"""Demo assessment: two years of business figures, targets, temporary tasks, published
months and quarters, and last month and last quarter left for the supervisors to publish.

Business figures: the figures part of issue 14 writes the demo's recent figures (its own
module, when present); this one fills in every month of the last 24 finished months a
customer has none for, so the sheet has a year of history to compare and the level
review two quarters at least. Each customer follows its own seeded course: a tier's size
of revenue, a drift, a little noise; customers at risk slide for the last half year, lost
ones fade out. A few surprises make the rankings move: a big solution deal landed in
manager2's portfolio last month; manager5's largest customer has been losing lines for half
a year (the level review lists a senior below the threshold twice), a block of them last month;
and manager7 (junior) keeps outgrowing the other juniors (the level review lists them).

Published: the finished months of the last year but the last (both teams), the quarters
before the last (the last has one task still to score); one month of team two was
published again with its reason. A stored weight version (seniors' quarters weigh the
solution share more) shows versioning.
Skipped when any scorecard exists. Set-based inserts for the figures.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from crm.extensions import db
from crm.services.assessment import catalog, periods, store, tasks, weights
from crm.services.assessment.catalog import SetSpec
from crm.services.assessment.periods import AssessmentPeriod
from crm.services.assessment.targets import TargetValue, save_targets
from models import (
    Customer,
    CustomerStatus,
    Level,
    MonthlyFigure,
    Opportunity,
    OpportunityStatus,
    PeriodKind,
    Role,
    Scorecard,
    Team,
    Tier,
    User,
    Visit,
)
from models.base import utcnow

MONTHS = 24
REVENUE = {Tier.A_PLUS: (300_000, 800_000), Tier.A: (80_000, 250_000),
           Tier.B: (20_000, 60_000), Tier.C: (3_000, 15_000)}  # fmt: skip
ARPU = {Tier.A_PLUS: 180, Tier.A: 150, Tier.B: 120, Tier.C: 90}
KEY_INDUSTRIES = ("政府", "金融", "医疗", "教育", "交通")  # key-industry solutions sell there
TASKS = (
    ("配合省公司开展重点客户走访月活动", "完成走访并提交纪要，客户反馈积极"),
    ("组织5G专网方案宣讲会", "宣讲会如期举办，到会客户8家"),
    ("完成辖区集团客户信息普查", "普查表按时提交，个别字段待补充"),
    ("协助处理重大投诉并回访", "处理及时，客户撤回投诉"),
    ("年底欠费清理专项", "回收大部分欠费，尚余两户跟进中"),
)
STAR = "manager7"  # a junior whose sheet stands out quarter after quarter
WEAK = "manager5"  # a senior whose last two quarters fell short
WAITING = "manager1"  # a task of the last quarter still to be scored
REPUBLISH_REASON = "补录计费系统更正后的收入数据，重新发布"


def ensure_assessment(now: datetime | None = None) -> int:
    """Targets, tasks, publications and drafts (after every other demo step: the sheets
    count tickets, visits and plans); returns the scorecards stored."""
    if db.session.scalar(select(func.count()).select_from(Scorecard)):
        return 0
    now = now or utcnow()
    managers = store.assessed_managers()
    if not managers:
        return 0
    last_month = periods.current(PeriodKind.MONTH, now).previous()
    last_quarter = periods.current(PeriodKind.QUARTER, now).previous()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    teams = list(db.session.scalars(select(Team).order_by(Team.id)))
    _weight_version(last_quarter, admin)
    months = [last_month]
    for _step in range(11):
        months.append(months[-1].previous())
    quarters = [last_quarter]
    for _step in range(3):
        quarters.append(quarters[-1].previous())
    _targets(managers, months + quarters)
    _tasks(managers, last_quarter)
    month = last_month.previous()
    for _step in range(11):
        for team in teams:
            _publish(month, team, admin)
        month = month.previous()
    quarter = last_quarter.previous()
    for _step in range(3):
        for team in teams:
            _publish(quarter, team, admin)
        quarter = quarter.previous()
    _republish(last_month.previous().previous(), teams[-1], admin)
    store.refresh_open_periods(now)
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(Scorecard))


# Business figures ------------------------------------------------------------------------


def ensure_figures(now: datetime | None = None) -> None:
    """Every finished month of the last 24 a customer (not a prospect) has no figures for.

    Before the service tickets and the health pass: health reads the figures."""
    now = now or utcnow()
    last = periods.current(PeriodKind.MONTH, now).previous().first
    months = [periods.add_months(last, -step) for step in reversed(range(MONTHS))]
    have = set(
        db.session.execute(
            select(MonthlyFigure.customer_id, MonthlyFigure.month).where(
                MonthlyFigure.month >= months[0]
            )
        ).all()
    )
    customers = db.session.scalars(
        select(Customer).where(Customer.status != CustomerStatus.PROSPECT).order_by(Customer.id)
    ).all()
    owners = {u.id: u.username for u in db.session.scalars(select(User))}
    rows = []
    for customer in customers:
        course = _course(customer, owners.get(customer.owner_id, ""), months)
        for month, values in zip(months, course, strict=True):
            if (customer.id, month) not in have:
                rows.append({"customer_id": customer.id, "month": month, **values})
    if rows:
        db.session.execute(insert(MonthlyFigure), rows)


def _course(customer: Customer, owner: str, months: list) -> list[dict]:
    """A customer's 24 months: revenue, ARPU and lines, solution revenue, arrears, churn."""
    rng = random.Random(f"demo-figures:{customer.name}")
    low, high = REVENUE[customer.tier]
    revenue = Decimal(rng.randint(low, high))
    drift = Decimal(rng.uniform(-0.004, 0.012))
    arpu = Decimal(ARPU[customer.tier] + rng.randint(-20, 20))
    industry = customer.industry.name_zh if customer.industry else ""
    solution_share = rng.uniform(0.15, 0.4) if industry in KEY_INDUSTRIES else rng.uniform(0, 0.08)
    sliding = customer.status in (CustomerStatus.AT_RISK, CustomerStatus.LOST)
    recovery = 0.9 if owner == STAR else 0.45
    out = []
    for index, _month in enumerate(months):
        left = len(months) - index  # 1: the last month
        change = drift + Decimal(rng.uniform(-0.035, 0.035))
        if sliding and left <= 6:
            change -= Decimal(rng.uniform(0.03, 0.07))
        if customer.status is CustomerStatus.LOST and left <= 2:
            change -= Decimal("0.45")
        if owner == STAR:
            change += Decimal("0.012")  # the junior who keeps growing
        revenue = max(Decimal(500), revenue * (1 + change))
        solution = Decimal(solution_share)
        lost = max(0, int(rng.gauss(0.004, 0.003) * float(revenue / arpu)))
        if owner == STAR:
            lost //= 2
        if sliding and left <= 6:
            lost *= 3
        if left == 1 and owner == "manager2" and customer.tier in (Tier.A_PLUS, Tier.A):
            revenue *= Decimal("1.35")  # the big solution deal
            solution = Decimal("0.55")
        if owner == "manager5" and customer.tier is Tier.A_PLUS and left <= 7:
            lost += int(revenue / arpu * Decimal("0.012"))  # losing lines for half a year
        if left == 1 and owner == "manager5" and customer.tier is Tier.A_PLUS:
            lost += int(revenue / arpu * Decimal("0.08"))  # and a block of them last month
            revenue *= Decimal("0.9")
        arrears = revenue * Decimal(rng.uniform(0, 0.08))
        month_arpu = arpu * (1 + Decimal(rng.uniform(-0.03, 0.03)))
        out.append(
            {
                "revenue": _money(revenue),
                "arpu": _money(month_arpu),
                "active_lines": max(1, int(revenue / month_arpu)),
                "key_solution_revenue": _money(revenue * solution),
                "arrears": _money(arrears),
                "arrears_recovered": _money(arrears * Decimal(rng.uniform(recovery, 1))),
                "lines_lost": lost,
                "source": "demo-billing.csv",
            }
        )
    return out


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# Weights, targets, tasks --------------------------------------------------------------------


def _weight_version(last_quarter: AssessmentPeriod, admin: User) -> None:
    """Seniors' quarters weigh the key-industry solution share more, from four quarters ago."""
    start = last_quarter.previous().previous().previous()
    spec = catalog.BUILT_IN[(Level.SENIOR, PeriodKind.QUARTER)]
    lines = dict(spec.lines)
    lines["01"] = replace(lines["01"], weight=Decimal(12))
    lines["04"] = replace(lines["04"], weight=Decimal(12))
    weights.save_version(
        Level.SENIOR,
        PeriodKind.QUARTER,
        start.first,
        SetSpec(spec.task_weight, lines),
        note="加大重点行业解决方案收入占比的考核",
        actor=admin,
    )


def _targets(managers: list[User], chosen: list[AssessmentPeriod]) -> None:
    """Personal targets, as a supervisor sets them from the period before: visits a tenth
    above its pace, the business count split into lines in use (70 %) and deals won (30 %)."""
    for period in chosen:
        before = period.previous()
        lines = _lines_at(before)
        visits = _visits_in(before)
        won = _won_in(before)
        for manager in managers:
            supervisor = _supervisor(manager)
            if supervisor is None:
                continue
            base = lines.get(manager.id, 0)
            # The star junior's supervisor weighs lines kept over new deals (80 / 20).
            share = Decimal(80) if manager.username == STAR else Decimal(70)
            save_targets(
                manager,
                period,
                {
                    ("C1", ""): TargetValue(
                        Decimal(max(5, round(visits.get(manager.id, 0) * 1.1)))
                    ),
                    ("03", "lines"): TargetValue(Decimal(round(base * 1.02) or 10), share),
                    ("03", "deals"): TargetValue(
                        Decimal(max(1, won.get(manager.id, 0))), Decimal(100) - share
                    ),
                },
                actor=supervisor,
            )


def _visits_in(period: AssessmentPeriod) -> dict[int, int]:
    days = period.days()
    return dict(
        db.session.execute(
            select(Visit.user_id, func.count())
            .where(days.contains(Visit.occurred_at))
            .group_by(Visit.user_id)
        ).all()
    )


def _won_in(period: AssessmentPeriod) -> dict[int, int]:
    days = period.days()
    return dict(
        db.session.execute(
            select(Opportunity.owner_id, func.count())
            .where(
                Opportunity.status == OpportunityStatus.WON, days.contains(Opportunity.closed_at)
            )
            .group_by(Opportunity.owner_id)
        ).all()
    )


def _lines_at(period: AssessmentPeriod) -> dict[int, int]:
    return {
        owner: int(lines or 0)
        for owner, lines in db.session.execute(
            select(Customer.owner_id, func.sum(MonthlyFigure.active_lines))
            .join(Customer, Customer.id == MonthlyFigure.customer_id)
            .where(MonthlyFigure.month == period.last_month)
            .group_by(Customer.owner_id)
        )
    }


def _supervisor(manager: User) -> User | None:
    team = db.session.get(Team, manager.team_id) if manager.team_id else None
    return team.supervisor if team else None


def _tasks(managers: list[User], last_quarter: AssessmentPeriod) -> None:
    """One or two scored tasks a finished quarter (the last four), one open this quarter."""
    quarter = last_quarter
    for _step in range(4):
        for manager in managers:
            supervisor = _supervisor(manager)
            if supervisor is None:
                continue
            rng = random.Random(f"demo-tasks:{manager.username}:{quarter.key}")
            for title, comment in rng.sample(TASKS, rng.randint(1, 2)):
                task = tasks.add_task(
                    manager, quarter, title=title, description=None, weight=1, actor=supervisor
                )
                strong = manager.username == STAR
                low, high = (
                    (92, 99) if strong else (48, 62) if manager.username == WEAK else (55, 85)
                )
                score = Decimal(rng.randint(low, high))
                tasks.score_task(
                    task, score=score, comment=comment, version=task.version, actor=supervisor
                )
        quarter = quarter.previous()
    # One task of the last quarter still waits for its score: the quarter cannot be
    # published before the supervisor gives it.
    waiting = next((m for m in managers if m.username == WAITING), None)
    if waiting is not None and _supervisor(waiting) is not None:
        tasks.add_task(
            waiting,
            last_quarter,
            title="配合省公司年度审计资料准备",
            description="整理重点客户合同、收入和欠费资料，按审计清单提交",
            weight=1,
            actor=_supervisor(waiting),
        )
    this_quarter = last_quarter.following()
    for manager in managers:
        supervisor = _supervisor(manager)
        if supervisor is not None:
            tasks.add_task(
                manager,
                this_quarter,
                title="季度重点项目攻坚",
                description="推进一个重点项目进入商务谈判阶段",
                weight=2,
                actor=supervisor,
            )


# Publishing ---------------------------------------------------------------------------


def _published_at(period: AssessmentPeriod) -> datetime:
    """The third day after the period, mid-morning in Shanghai: when supervisors publish."""
    day = period.after + timedelta(days=3)
    return datetime.combine(day, time(2, 30), tzinfo=UTC)


def _publish(period: AssessmentPeriod, team: Team, admin: User) -> None:
    actor = team.supervisor or admin
    store.publish(period, team, reason=None, actor=actor, now=_published_at(period))


def _republish(period: AssessmentPeriod, team: Team, admin: User) -> None:
    """The billing system corrected a month: its figures changed, published again, with why."""
    row = db.session.scalar(
        select(MonthlyFigure)
        .join(Customer, Customer.id == MonthlyFigure.customer_id)
        .join(User, User.id == Customer.owner_id)
        .where(User.team_id == team.id, MonthlyFigure.month == period.first)
        .order_by(MonthlyFigure.revenue.desc())
        .limit(1)
    )
    if row is None:
        return
    row.revenue = _money(row.revenue * Decimal("1.04"))
    db.session.flush()
    store.publish(
        period,
        team,
        reason=REPUBLISH_REASON,
        actor=team.supervisor or admin,
        now=_published_at(period) + timedelta(days=5),
    )
