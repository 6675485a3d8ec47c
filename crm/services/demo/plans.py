"""A year of demo work plans: weekly and monthly plans, reviews, returns, visit comments.

Built on the demo's logged visits, so plan and work log agree the way they do in real
use: most planned visits are visits the manager then logged in that week (same customer,
same week, on or near the logged day), a few planned ones were missed, a few logged ones
were never planned. Plans are mostly submitted before the deadline and reviewed by the
team's supervisor the week after, mostly 良 or 优; a few went back for revision with a
reason and came again with the focus changed. Monthly goals sit near the month's actual
figures (counted by `month_actuals.actuals_for`, as the plan page counts them). The
current week's plan is a draft or submitted; next week is left for the manager to plan.

Rows go in with set-based inserts (a statement per table, not per row). Seeded
randomness over the same visits gives the same plans; skipped when plans exist.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.demo.pipeline import PURPOSES
from crm.services.plans import month_actuals, periods
from models import (
    Contact,
    Customer,
    CustomerStatus,
    KeyCustomerAim,
    Level,
    Notice,
    NoticeKind,
    PlanChange,
    PlanKeyCustomer,
    PlanKind,
    PlannedVisit,
    PlanReview,
    PlanStatus,
    PlanTask,
    Rating,
    Role,
    Tier,
    User,
    Verdict,
    Visit,
    VisitComment,
    VisitMatch,
    WorkPlan,
)
from models.base import utcnow
from models.plan import plan_visit_contacts

WEEKS = 52
MONTHS = 12
FOCUS = (
    "重点推进{customer}的方案交流，争取本周确定报价口径",
    "本周以走访重点客户为主，{customer}需约到分管领导",
    "跟进{customer}专线扩容需求，配合技术做现场勘察",
    "月底冲刺：{customer}合同条款确认，其余客户例行回访",
    "处理{customer}投诉后的回访，巩固关系；整理下月储备项目",
    "拓展{customer}新业务，摸清信息化预算",
    "陪同技术专家走访{customer}，完成需求调研报告",
)
REVISED = "（已按主管意见补充）本周优先{customer}：明确决策人和时间节点"
TASKS = (
    "整理本周拜访纪要并更新客户档案",
    "提交投标资格预审材料",
    "申请价格优惠审批",
    "参加部门周例会，汇报重点项目进展",
    "核对上月欠费清单并催缴",
    "更新商机阶段和预计签约日期",
    "准备季度客户满意度回访名单",
    "协调装维处理客户故障单",
    "完成新产品线上培训",
)
MONTH_TEXT = (
    "本月目标：巩固存量客户，重点推进两个在谈项目签约；新开拓客户不少于一家。",
    "本月以专线扩容和云业务为主线，A类客户全部走访一遍，配合年度招标。",
    "节后开局：梳理全年储备项目，约见重点客户决策人，确定上半年签约节奏。",
    "本月重点是回款和续约，到期合同提前一个月沟通，防止被竞争对手抢走。",
    "季度末冲刺：锁定待签合同，推动试用客户转正式商用。",
)
ADVANCE_AIMS = (
    "本月完成方案汇报，推动进入商务谈判",
    "约见决策人，确认预算和采购方式",
    "完成合同签订并启动工单",
    "续约谈判，锁定三年期合同",
)
DEVELOP_AIMS = ("摸清信息化需求，建立首次联系", "引荐技术交流会，争取试点项目")
COMMENTS = {
    Rating.EXCELLENT: (
        "计划周密，执行到位，重点客户推进明显，继续保持。",
        "完成情况很好，对决策人的突破值得全组学习。",
        "计划与执行高度一致，商机推进有实效。",
    ),
    Rating.GOOD: (
        "整体执行不错，个别拜访未完成，下周注意补上。",
        "计划合理，拜访记录再写细一些，写清客户的真实需求。",
        "完成情况良好，注意跟进上周遗留的报价。",
        "重点客户覆盖到位，计划外拜访较多，计划要更贴近实际。",
    ),
    Rating.FAIR: (
        "计划完成率偏低，重点客户没有跟上，下周要有改进。",
        "拜访数量够了，但质量不高，缺少对决策人的接触。",
    ),
    Rating.POOR: ("本周计划大部分未执行，也没有说明原因，请周一来当面沟通。",),
}
RETURN_REASONS = (
    "重点客户没有列进计划，请补充对北辰能源的安排。",
    "本周计划拜访太少，请至少安排三次客户拜访。",
    "焦点不清楚，请写明本周要推进的具体项目和目标。",
    "任务没有写日期，请补充后再提交。",
)
VISIT_COMMENTS = (
    "这次拜访抓住了对方的预算周期，很好，下次带上方案。",
    "记录太简单了，客户的真实顾虑是什么？补充一下。",
    "决策人态度很关键，下次争取约到分管领导。",
    "竞争对手报价的情况要尽快摸清，及时汇报。",
    "投诉处理及时，后续回访不要落下。",
    "这个客户的续约时间快到了，提前准备续约方案。",
)
REPLIES = (
    "收到，下周带技术一起去。",
    "好的，已补充拜访纪要。",
    "明白，已约了周四见分管领导。",
    "收到，竞争对手报价正在了解中。",
)
# How each level of manager tends to be rated (优, 良, 中, 差).
RATING_WEIGHTS = {
    Level.SENIOR: (35, 55, 9, 1),
    Level.INTERMEDIATE: (22, 60, 15, 3),
    Level.JUNIOR: (12, 58, 25, 5),
}
LATE_SHARE = {Level.SENIOR: 0.05, Level.INTERMEDIATE: 0.1, Level.JUNIOR: 0.16}
RETURN_SHARE = 0.06
# PlanChange.what of a changed focus, as the weekly and monthly plan services write it.
CHANGE_FOCUS = "focus"
COMMENT_SHARE = 0.06


@dataclass
class Rows:
    """What is inserted, table by table, once every plan is laid out."""

    plans: list[dict] = field(default_factory=list)
    visits: list[list[dict]] = field(default_factory=list)  # per plan
    contacts: list[list[list[int]]] = field(default_factory=list)  # per plan, per visit
    tasks: list[list[dict]] = field(default_factory=list)
    reviews: list[list[dict]] = field(default_factory=list)
    changes: list[list[dict]] = field(default_factory=list)


@dataclass
class Manager:
    user: User
    supervisor: User
    customers: list[Customer]  # every one they own, lost ones too (they were visited)
    contacts: dict[int, list[int]]
    # Monday of the local week -> the visits logged in it (id, customer, local day), in order.
    weeks: dict[date, list[tuple[int, int, date]]]

    @cached_property
    def by_id(self) -> dict[int, Customer]:
        return {c.id: c for c in self.customers}

    @cached_property
    def current(self) -> list[Customer]:
        """The customers still worth planning a visit to."""
        return [c for c in self.customers if c.status is not CustomerStatus.LOST]


def ensure_plans(now: datetime | None = None) -> int:
    """Add a year of plans for every demo manager unless plans exist; return how many."""
    if db.session.scalar(select(func.count()).select_from(WorkPlan)):
        return 0
    now = now or utcnow()
    rng = random.Random("demo-plans")
    managers = _managers()
    rows = Rows()
    due = Deadlines()
    for manager in managers:
        _weekly_plans(rng, due, manager, rows, now)
    added = _insert(rows)
    added += _monthly_plans(rng, due, managers, now)
    _visit_comments(rng, managers, now)
    db.session.flush()
    return added


def _managers() -> list[Manager]:
    users = db.session.scalars(
        select(User)
        .options(selectinload(User.team))
        .where(User.role == Role.MANAGER, User.active.is_(True), User.team_id.is_not(None))
        .order_by(User.username)
    ).all()
    found = []
    for user in users:
        if user.team.supervisor is None:
            continue
        customers = list(
            db.session.scalars(
                select(Customer).where(Customer.owner_id == user.id).order_by(Customer.id)
            )
        )
        if not customers:
            continue
        contacts: dict[int, list[int]] = defaultdict(list)
        for contact_id, customer_id in db.session.execute(
            select(Contact.id, Contact.customer_id)
            .where(Contact.customer_id.in_([c.id for c in customers]), Contact.active.is_(True))
            .order_by(Contact.id)
        ):
            contacts[customer_id].append(contact_id)
        zone = user_zone(user)
        weeks: dict[date, list[tuple[int, int, date]]] = defaultdict(list)
        for visit_id, customer_id, at in db.session.execute(
            select(Visit.id, Visit.customer_id, Visit.occurred_at)
            .where(Visit.user_id == user.id)
            .order_by(Visit.occurred_at, Visit.id)
        ):
            day = at.astimezone(zone).date()
            weeks[periods.starts_on_for(PlanKind.WEEK, day)].append((visit_id, customer_id, day))
        found.append(Manager(user, user.team.supervisor, customers, contacts, weeks))
    return found


def _key_customers(manager: Manager) -> list[Customer]:
    """The manager's most valuable customers: A+ and A, or B for a junior who has none."""
    for tiers in ((Tier.A_PLUS, Tier.A), (Tier.B,)):
        found = [c for c in manager.current if c.tier in tiers]
        if found:
            return found
    return manager.current


def _local(day: date, hour: int, minute: int, user: User) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=user_zone(user)).astimezone(UTC)


def _plan_row(user: User, kind: PlanKind, starts_on: date, **fields) -> dict:
    # Started a day or two before it was submitted (or before the week, for a draft).
    stamp = _local(starts_on - timedelta(days=4), 9, 0, user)
    if fields.get("first_submitted_at"):
        stamp = min(stamp, fields["first_submitted_at"] - timedelta(hours=20))
    return {
        "owner_id": user.id,
        "kind": kind,
        "starts_on": starts_on,
        "status": PlanStatus.DRAFT,
        "focus": None,
        "goal_visits": None,
        "goal_new_opportunities": None,
        "goal_won_amount": None,
        "first_submitted_at": None,
        "submitted_at": None,
        "version": 1,
        "created_at": stamp,
        "updated_at": fields.get("submitted_at") or stamp,
    } | fields


@dataclass
class Deadlines:
    """periods.deadline, worked out once per period and time zone (each reads the settings)."""

    found: dict[tuple[PlanKind, date, str], datetime] = field(default_factory=dict)

    def __call__(self, kind: PlanKind, starts_on: date, user: User) -> datetime:
        key = (kind, starts_on, user.timezone)
        if key not in self.found:
            self.found[key] = periods.deadline(kind, starts_on, user)
        return self.found[key]


def _submitted_at(rng, due: Deadlines, user: User, kind: PlanKind, starts_on: date, late: bool):
    due = due(kind, starts_on, user)
    if late:  # over the weekend or first thing on Monday
        return due + timedelta(hours=rng.randint(15, 64), minutes=rng.randint(0, 59))
    return due - timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))


def _weekly_plans(rng, due: Deadlines, manager: Manager, rows: Rows, now: datetime) -> None:
    user = manager.user
    today = now.astimezone(user_zone(user)).date()
    current = periods.starts_on_for(PlanKind.WEEK, today)
    key = _key_customers(manager)
    # Counted out per manager, not drawn week by week: a year of coin flips leaves some
    # senior manager never late, or a junior missing a dozen weeks, depending on the day.
    past = range(WEEKS, 0, -1)
    skipped = set(rng.sample(past, rng.randint(1, 2)))  # no plan at all: "missing"
    unsent = set(rng.sample([n for n in past if n not in skipped], rng.randint(0, 1)))
    sent = [n for n in past if n not in skipped | unsent]
    late_weeks = set(rng.sample(sent, max(1, round(LATE_SHARE[user.level] * WEEKS))))
    for number in range(WEEKS, -1, -1):
        monday = current - timedelta(days=7 * number)
        this_week = number == 0
        if number in skipped:
            continue
        logged = manager.weeks.get(monday, [])
        if this_week:
            logged = [v for v in logged if v[2] <= today]
        planned = _planned_visits(rng, manager, monday, logged, this_week, today)
        focus_customer = rng.choice([*(p["customer"] for p in planned), *key]).name
        focus = rng.choice(FOCUS).format(customer=focus_customer)
        tasks = [
            {
                "day": monday + timedelta(days=rng.randint(0, 4)) if rng.random() < 0.7 else None,
                "text": text,
                "done": (not this_week and rng.random() < 0.85)
                or (this_week and rng.random() < 0.3),
            }
            for text in rng.sample(TASKS, rng.randint(1, 3))
        ]
        fields: dict = {"focus": focus}
        reviews: list[dict] = []
        changes: list[dict] = []
        draft = (this_week and manager.user.id % 2 == 1) or number in unsent
        late = number in late_weeks
        submitted = _submitted_at(rng, due, user, PlanKind.WEEK, monday, late)
        if not draft and submitted < now:
            fields |= {"status": PlanStatus.SUBMITTED, "first_submitted_at": submitted}
            fields["submitted_at"] = submitted
            if not this_week and rng.random() < RETURN_SHARE:
                returned = submitted + timedelta(hours=rng.randint(14, 20))
                again = returned + timedelta(hours=rng.randint(2, 6))
                revised = REVISED.format(customer=focus_customer)
                reviews.append(
                    _review(rng, manager, returned, Verdict.RETURNED, None, RETURN_REASONS)
                )
                changes.append(
                    {"user_id": user.id, "at": again, "what": CHANGE_FOCUS, "old": focus}
                    | {"new": revised}
                )
                fields |= {"focus": revised, "submitted_at": again}
            # Reviewed the week after; the last week's plans partly wait in the queue.
            at = _local(monday + timedelta(days=7 + rng.randint(0, 2)), 10, 0, user)
            at += timedelta(minutes=rng.randint(0, 420))
            if (number >= 2 or (number == 1 and rng.random() < 0.5)) and at < now:
                rating = rng.choices(list(Rating), RATING_WEIGHTS[user.level])[0]
                reviews.append(
                    _review(rng, manager, at, Verdict.REVIEWED, rating, COMMENTS[rating])
                )
                fields["status"] = PlanStatus.REVIEWED
        rows.plans.append(_plan_row(user, PlanKind.WEEK, monday, **fields))
        rows.visits.append(planned)
        rows.contacts.append(
            [
                rng.sample(manager.contacts[p["customer"].id], 1)
                if manager.contacts[p["customer"].id] and rng.random() < 0.6
                else []
                for p in planned
            ]
        )
        rows.tasks.append(tasks)
        rows.reviews.append(reviews)
        rows.changes.append(changes)


def _planned_visits(rng, manager: Manager, monday: date, logged, this_week: bool, today: date):
    """Most of the week's logged visits were planned (one per customer); some were not."""
    planned, seen = [], set()
    for _visit_id, customer_id, day in logged:
        if customer_id in seen or rng.random() < 0.15:  # unplanned
            continue
        seen.add(customer_id)
        customer = manager.by_id[customer_id]
        shift = rng.choice((0, 0, 0, -1, 1))
        planned_day = min(max(day + timedelta(days=shift), monday), monday + timedelta(days=6))
        planned.append(_planned(rng, customer, planned_day))
    if this_week:  # the rest of the week, still to come
        ahead = [monday + timedelta(days=d) for d in range(5) if monday + timedelta(days=d) > today]
        for day in ahead[: rng.randint(1, 3)]:
            planned += _missed(rng, manager, monday, 1, day=day, but=seen)
    # Planned, then not carried out; seldom in a week with nothing logged, or a junior's
    # quiet year would read as mostly missed.
    elif rng.random() < (0.2 if planned else 0.1):
        planned += _missed(rng, manager, monday, 1, but=seen)
    return planned


def _missed(rng, manager: Manager, monday: date, count: int, *, day=None, but=frozenset()):
    """Planned visits to customers not visited that week."""
    visited = {customer_id for _v, customer_id, _d in manager.weeks.get(monday, [])}
    free = [c for c in manager.current if c.id not in visited and c.id not in but]
    return [
        _planned(rng, customer, day or monday + timedelta(days=rng.randint(0, 4)))
        for customer in rng.sample(free, min(count, len(free)))
    ]


def _planned(rng, customer: Customer, day: date) -> dict:
    return {"customer": customer, "day": day, "purpose": rng.choice(PURPOSES)}


def _review(rng, manager: Manager, at: datetime, verdict: Verdict, rating, texts) -> dict:
    return {
        "reviewer_id": manager.supervisor.id,
        "at": at,
        "verdict": verdict,
        "rating": rating,
        "comment": rng.choice(texts),
    }


def _insert(rows: Rows) -> int:
    """The weekly plans and what hangs off them: a statement per table."""
    if not rows.plans:
        return 0
    plan_ids = _insert_returning(WorkPlan, rows.plans)
    visits = [
        {
            "plan_id": plan_id,
            "customer_id": p["customer"].id,
            "day": p["day"],
            "purpose": p["purpose"],
            "opportunity_id": None,
            "match": VisitMatch.AUTO,
            "visit_id": None,
        }
        for plan_id, planned in zip(plan_ids, rows.visits, strict=True)
        for p in planned
    ]
    visit_ids = _insert_returning(PlannedVisit, visits) if visits else []
    contacts = [
        {"planned_visit_id": visit_id, "contact_id": contact_id}
        for visit_id, chosen in zip(
            visit_ids, (c for per_plan in rows.contacts for c in per_plan), strict=True
        )
        for contact_id in chosen
    ]
    if contacts:
        db.session.execute(insert(plan_visit_contacts), contacts)
    _insert_children(PlanTask, plan_ids, rows.tasks)
    _insert_children(PlanChange, plan_ids, rows.changes)
    _insert_children(PlanReview, plan_ids, rows.reviews)
    _notices_for_reviews(plan_ids, rows)
    return len(plan_ids)


def _insert_returning(model, values: list[dict]) -> list[int]:
    table = model.__table__
    return list(
        db.session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), values
        )
    )


def _insert_children(model, plan_ids: list[int], per_plan: list[list[dict]]) -> None:
    values = [
        {"plan_id": plan_id, **row}
        for plan_id, children in zip(plan_ids, per_plan, strict=True)
        for row in children
    ]
    if values:
        db.session.execute(insert(model.__table__), values)


def _notices_for_reviews(plan_ids: list[int], rows: Rows) -> None:
    """The manager was told of each review and return; the last fortnight's are unread."""
    recent = utcnow() - timedelta(days=14)
    values = [
        {
            "user_id": plan["owner_id"],
            "kind": NoticeKind.PLAN_REVIEWED
            if review["verdict"] is Verdict.REVIEWED
            else NoticeKind.PLAN_RETURNED,
            "actor_id": review["reviewer_id"],
            "plan_id": plan_id,
            "visit_id": None,
            "created_at": review["at"],
            "read_at": None if review["at"] > recent else review["at"] + timedelta(hours=3),
        }
        for plan_id, plan, reviews in zip(plan_ids, rows.plans, rows.reviews, strict=True)
        for review in reviews
    ]
    if values:
        db.session.execute(insert(Notice.__table__), values)


# Monthly plans ----------------------------------------------------------------------


def _monthly_plans(rng, due: Deadlines, managers: list[Manager], now: datetime) -> int:
    """A plan a month with goals near what the month then brought (a few hundred rows:
    the ORM, then the actual figures counted for all of them at once)."""
    made: list[tuple[WorkPlan, Manager, int]] = []
    with db.session.no_autoflush:  # each deadline reads the settings: no flush before it
        for manager in managers:
            _month_plans_of(rng, due, manager, now, made)
    db.session.flush()
    _month_goals_and_reviews(rng, made, now)
    return len(made)


def _month_plans_of(rng, due: Deadlines, manager: Manager, now: datetime, made: list) -> None:
    """The manager's monthly plans, a year back to this month, with their key customers."""
    user = manager.user
    current = periods.starts_on_for(PlanKind.MONTH, now.astimezone(user_zone(user)).date())
    key = _key_customers(manager)
    prospects = [c for c in manager.current if c.status is CustomerStatus.PROSPECT]
    for number in range(MONTHS, -1, -1):
        first = periods.following(PlanKind.MONTH, current, -number)
        late = rng.random() < LATE_SHARE[user.level]
        submitted = _submitted_at(rng, due, user, PlanKind.MONTH, first, late)
        plan = WorkPlan(
            owner=user,
            kind=PlanKind.MONTH,
            starts_on=first,
            status=PlanStatus.DRAFT,
            focus=rng.choice(MONTH_TEXT),
            created_at=submitted - timedelta(days=2),
            updated_at=submitted,
        )
        if submitted < now:
            plan.status = PlanStatus.SUBMITTED
            plan.first_submitted_at = plan.submitted_at = submitted
        for customer in rng.sample(key, min(len(key), rng.randint(1, 2))):
            plan.key_customers.append(
                PlanKeyCustomer(
                    customer=customer,
                    aim_kind=KeyCustomerAim.ADVANCE,
                    aim=rng.choice(ADVANCE_AIMS),
                )
            )
        if prospects and rng.random() < 0.5:
            plan.key_customers.append(
                PlanKeyCustomer(
                    customer=rng.choice(prospects),
                    aim_kind=KeyCustomerAim.DEVELOP,
                    aim=rng.choice(DEVELOP_AIMS),
                )
            )
        db.session.add(plan)
        made.append((plan, manager, number))


def _month_goals_and_reviews(rng, made: list[tuple[WorkPlan, Manager, int]], now) -> None:
    actuals = month_actuals.actuals_for([plan for plan, _m, _n in made])
    for plan, manager, number in made:
        actual = actuals[plan.id]
        # Goals were set at the start of the month: near what it then brought.
        # No floor above one: the oldest month is only partly inside the demo's year.
        plan.goal_visits = max(1, round(actual.visits * rng.uniform(0.9, 1.2)))
        plan.goal_new_opportunities = max(1, actual.new_opportunities + rng.randint(-1, 1))
        won = actual.won_amount * Decimal(str(round(rng.uniform(0.8, 1.25), 2)))
        plan.goal_won_amount = max(Decimal(100_000), (won / 10_000).quantize(Decimal(1)) * 10_000)
        end = periods.following(PlanKind.MONTH, plan.starts_on)
        at = _local(end + timedelta(days=rng.randint(0, 3)), 15, rng.randint(0, 59), plan.owner)
        reviewed = number >= 2 or (number == 1 and rng.random() < 0.5)
        if reviewed and at < now and plan.status is PlanStatus.SUBMITTED:
            rating = rng.choices(list(Rating), RATING_WEIGHTS[plan.owner.level])[0]
            review = _review(rng, manager, at, Verdict.REVIEWED, rating, COMMENTS[rating])
            db.session.add(PlanReview(plan_id=plan.id, **review))
            plan.status = PlanStatus.REVIEWED
            db.session.add(
                Notice(
                    user_id=plan.owner_id,
                    kind=NoticeKind.PLAN_REVIEWED,
                    actor_id=manager.supervisor.id,
                    plan_id=plan.id,
                    created_at=at,
                    read_at=at + timedelta(hours=5) if number >= 2 else None,
                )
            )
    db.session.flush()


# Comments on visits -------------------------------------------------------------------


def _visit_comments(rng, managers: list[Manager], now: datetime) -> None:
    """The supervisors' 点评 on a few visits of the work log, some answered."""
    comments, notices = [], []
    recent = now - timedelta(days=10)
    for manager in managers:
        supervisor, user = manager.supervisor, manager.user
        visits = [
            (visit_id, day)
            for week in sorted(manager.weeks)
            for visit_id, _customer_id, day in manager.weeks[week]
        ]
        for visit_id, day in visits:
            if rng.random() >= COMMENT_SHARE:
                continue
            at = _local(day + timedelta(days=rng.randint(0, 2)), 20, rng.randint(0, 59), user)
            if at > now:
                continue
            thread = [(supervisor, user, at, rng.choice(VISIT_COMMENTS))]
            if rng.random() < 0.4 and at + timedelta(hours=14) < now:
                thread.append((user, supervisor, at + timedelta(hours=13), rng.choice(REPLIES)))
            for author, reader, moment, body in thread:
                comments.append(
                    {"visit_id": visit_id, "author_id": author.id, "body": body}
                    | {"created_at": moment}
                )
                notices.append(
                    {
                        "user_id": reader.id,
                        "kind": NoticeKind.VISIT_COMMENT,
                        "actor_id": author.id,
                        "plan_id": None,
                        "visit_id": visit_id,
                        "created_at": moment,
                        "read_at": None if moment > recent else moment + timedelta(hours=2),
                    }
                )
    if comments:
        db.session.execute(insert(VisitComment.__table__), comments)
        db.session.execute(insert(Notice.__table__), notices)
