"""A year of demo pipeline and work log: opportunities through every stage, visits, follow-ups.

Opportunities go through the pipeline service with backdated `at=`, acting as each
customer's owner, so their stage history, audit and next-step reminders are what
real use makes. Visits (hundreds) are inserted directly, with the follow-ups they
schedule, and the last-visit and last-contact dates are then recomputed set-based
(visits.refresh_last_visits / refresh_last_contacted), to stay within a few seconds. Seeded
randomness: the same archive gives the same history. Skipped when opportunities exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.activity import visits
from crm.services.followups import reminders as reminder_service
from crm.services.pipeline import opportunities as pipeline
from models import (
    AuditAction,
    AuditEntry,
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Customer,
    CustomerStatus,
    LostReason,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityStatus,
    Phase,
    Reminder,
    ReminderSource,
    ReminderStatus,
    Stage,
    Tier,
    Visit,
    VisitKind,
)
from models.base import utcnow

# title, solution, amount range in CNY
OFFERINGS = (
    ("云专线扩容", "总部至各分支互联网专线由 100M 扩至 1G，双路由保护", 200_000, 2_000_000),
    ("5G专网", "厂区 5G 专网（UPF 下沉）与移动边缘计算", 500_000, 5_000_000),
    ("物联网卡", "物联网卡批量开通与定向流量池", 50_000, 600_000),
    ("智慧校园", "校园网改造、一卡通与安防平台", 300_000, 3_000_000),
    ("视频监控", "全域视频监控上云与智能分析", 100_000, 1_500_000),
    ("IDC托管", "核心机房机柜托管与同城灾备", 200_000, 2_400_000),
    ("企业宽带", "营业网点企业宽带与 Wi-Fi 覆盖", 50_000, 400_000),
    ("SD-WAN组网", "分支机构 SD-WAN 组网与集中管控", 150_000, 1_200_000),
    ("云电脑", "办公云电脑替换与统一运维", 80_000, 900_000),
    ("移动办公", "集团短号、移动办公平台与安全接入", 60_000, 500_000),
)
# What each kind of contact is visited about, what came of it, what is next.
PURPOSES = (
    "了解年度信息化预算和规划",
    "介绍新上线的云网融合产品",
    "回访专线使用情况，收集故障反馈",
    "与信息中心讨论方案细节",
    "陪同技术专家做现场勘察",
    "商务条款沟通，确认报价口径",
    "节前走访，维护关系",
    "处理上月断网投诉，说明整改措施",
)
OUTCOMES = (
    "客户认可方案方向，要求补充报价明细",
    "对方预算已批，等待招标文件",
    "技术负责人支持，财务对价格有顾虑",
    "客户提出竞争对手报价更低，需要申请优惠",
    "现场勘察完成，确认布线路由",
    "投诉已闭环，客户表示满意",
    "关系良好，对方透露明年有扩容需求",
    "决策人出差，改约下周",
)
NEXT_STEPS = (
    "提交正式方案和报价",
    "约决策人面谈",
    "安排技术交流会",
    "申请价格优惠审批",
    "发送合同草稿",
    "回访试用效果",
)
LOST_NOTES = {
    LostReason.PRICE: "对方报价低 15%，我方无法跟进",
    LostReason.COMPETITOR: "竞争对手以捆绑优惠拿下",
    LostReason.RELATIONSHIP: "新任分管领导与对手关系更近",
    LostReason.PRODUCT_FIT: "客户需要的私有化部署我们暂不支持",
    LostReason.TIMING: "项目预算冻结，延期到明年",
    LostReason.OTHER: "客户内部调整，项目取消",
}
BIDDER_OFFERS = ("报价下浮 20%", "首年免费", "赠送 1 年运维服务", "带宽免费升级一档")
# Visits per year by tier (roughly every cadence, a little more often).
VISIT_GAP_DAYS = {Tier.A_PLUS: (6, 13), Tier.A: (14, 28), Tier.B: (30, 55), Tier.C: (45, 85)}
OPPORTUNITIES = {Tier.A_PLUS: (2, 4), Tier.A: (1, 3), Tier.B: (1, 2), Tier.C: (0, 1)}
YEAR = timedelta(days=365)


@dataclass
class Plan:
    """Where one opportunity ends up: open at a pre-sale stage, won and moved on, or lost."""

    status: OpportunityStatus
    stage: Stage
    reason: LostReason | None = None


def ensure_pipeline(now: datetime | None = None) -> int:
    """Add a year of opportunities and visits unless opportunities exist; return how many."""
    if db.session.scalar(select(func.count()).select_from(Opportunity)):
        return 0
    now = now or utcnow()
    rng = random.Random("demo-pipeline")
    stages = list(
        db.session.scalars(select(Stage).where(Stage.active.is_(True)).order_by(Stage.position))
    )
    customers = list(
        db.session.scalars(
            select(Customer)
            .options(selectinload(Customer.contacts), selectinload(Customer.owner))
            .order_by(Customer.id)
        )
    )
    competitors = list(db.session.scalars(select(Competitor).order_by(Competitor.id)))
    profiled = _profiled_competitors()
    plans = _plans(rng, stages, customers)
    added = 0
    for customer in customers:
        opened = []
        for plan in plans.get(customer.id, []):
            rivals = profiled.get(customer.id) or competitors
            opened.append(_opportunity(rng, customer, plan, stages, rivals, competitors, now))
            added += 1
        _visits(rng, customer, opened, now)
    db.session.flush()
    visits.refresh_last_visits()
    visits.refresh_last_contacted()
    _backdate_archive(now - YEAR - timedelta(days=30))
    db.session.expire_all()  # the loaded customers and contacts see their new dates
    return added


def _backdate_archive(moment: datetime) -> None:
    """The demo customers were entered before their year of history, not today."""
    customer_ids = select(Customer.id).where(Customer.created_at > moment)
    db.session.execute(
        update(AuditEntry)
        .where(
            AuditEntry.entity_type == "customers",
            AuditEntry.action == AuditAction.CREATE,
            AuditEntry.actor_id.is_(None),
            AuditEntry.entity_id.in_(customer_ids),
        )
        .values(created_at=moment)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Customer)
        .where(Customer.created_at > moment)
        .values(created_at=moment, updated_at=Customer.updated_at)
        .execution_options(synchronize_session=False)
    )


def _profiled_competitors() -> dict[int, list[Competitor]]:
    rows = db.session.execute(
        select(CompetitorProfile.customer_id, Competitor)
        .join(CompetitorProfile.competitor)
        .order_by(CompetitorProfile.id)
    ).all()
    found: dict[int, list[Competitor]] = {}
    for customer_id, competitor in rows:
        found.setdefault(customer_id, []).append(competitor)
    return found


def _plans(rng, stages: list[Stage], customers: list[Customer]) -> dict[int, list[Plan]]:
    """Each customer's opportunities; every stage and every loss reason gets at least one."""
    pre = [s for s in stages if s.phase is Phase.PRE_SALE]
    contract = next(s for s in pre if s.is_contract)
    later = [s for s in stages if s.phase is not Phase.PRE_SALE]
    lost_at = [s for s in pre if not s.is_contract]
    # Coverage first, then a believable mix.
    required = [Plan(OpportunityStatus.OPEN, s) for s in pre]
    required += [Plan(OpportunityStatus.WON, contract)]
    required += [Plan(OpportunityStatus.WON, s) for s in later]
    required += [
        Plan(OpportunityStatus.LOST, lost_at[i % len(lost_at)], reason)
        for i, reason in enumerate(LostReason)
    ]
    slots = []
    for customer in customers:
        if customer.status is CustomerStatus.LOST:
            continue
        low, high = OPPORTUNITIES[customer.tier]
        slots += [customer.id] * rng.randint(low, high)
    rng.shuffle(slots)
    plans: dict[int, list[Plan]] = {}
    for index, customer_id in enumerate(slots):
        if index < len(required):
            plan = required[index]
        else:
            status = rng.choices(list(OpportunityStatus), weights=(45, 30, 25))[0]
            if status is OpportunityStatus.OPEN:
                plan = Plan(status, rng.choices(pre, weights=(4, 4, 3, 3, 2, 1))[0])
            elif status is OpportunityStatus.WON:
                plan = Plan(status, rng.choice([contract, *later]))
            else:
                plan = Plan(status, rng.choice(lost_at), rng.choice(list(LostReason)))
        plans.setdefault(customer_id, []).append(plan)
    return plans


def _moments(rng, start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` instants in office hours on different days between start and end, in order.

    Different days: a change made an hour or two after one of them stays before the next.
    """
    days = max((end - start).days, count + 1)
    return [
        (start + timedelta(days=day)).replace(
            hour=rng.randint(1, 8), minute=rng.randint(0, 59), second=0, microsecond=0
        )
        for day in sorted(rng.sample(range(days), count))
    ]


def _office_hours(moment: datetime) -> datetime:
    """The same day at a plausible hour (09:00-17:00 in Shanghai is 01:00-09:00 UTC)."""
    return moment.replace(hour=1 + moment.minute % 8, second=0, microsecond=0)


def _opportunity(rng, customer, plan, stages, rivals, competitors, now) -> Opportunity:
    owner = customer.owner
    title, solution, low, high = rng.choice(OFFERINGS)
    amount = Decimal(rng.randint(low // 10_000, high // 10_000) * 10_000)
    pre = [s for s in stages if s.phase is Phase.PRE_SALE]
    if plan.status is OpportunityStatus.WON:
        path = pre[1:]
        if plan.stage.phase is Phase.IN_SALE:
            path += [
                s for s in stages if s.phase is Phase.IN_SALE and s.position <= plan.stage.position
            ]
        elif plan.stage.phase is Phase.AFTER_SALE:
            path += [s for s in stages if s.phase is Phase.IN_SALE] + [plan.stage]
    else:
        path = [s for s in pre[1:] if s.position <= plan.stage.position]
    # Open ones started recently enough to still be open; closed ones any time this year.
    ago = rng.randint(20, 200) if plan.status is OpportunityStatus.OPEN else rng.randint(60, 360)
    start = _office_hours(now - timedelta(days=ago))
    events = len(path) + (1 if plan.status is not OpportunityStatus.OPEN else 0) + 1
    moments = _moments(rng, start + timedelta(days=1), now - timedelta(days=2), events)
    opportunity = pipeline.create_opportunity(
        customer,
        actor=owner,
        title=title + rng.choice(("", "", "", "（二期）", "项目")),
        solution=solution,
        amount=amount,
        expected_close=(start + timedelta(days=rng.randint(60, 180))).date(),
        at=start,
    )
    _add_people(rng, opportunity, customer, rivals)
    moments = iter(moments)
    # Halfway through, the amount is often revised after the customer's feedback.
    revise_at = len(path) // 2
    for index, stage in enumerate(path):
        at = next(moments)
        if stage.phase is not Phase.PRE_SALE and opportunity.status is OpportunityStatus.OPEN:
            won = _within_range(opportunity.amount * Decimal(rng.choice((90, 95, 100))) / 100)
            pipeline.mark_won(opportunity, actor=owner, contract_date=at.date(), amount=won, at=at)
            at = at + timedelta(hours=2)
        pipeline.move_to_stage(opportunity, stage, actor=owner, at=at)
        if (
            index == revise_at
            and rng.random() < 0.5
            and opportunity.status is OpportunityStatus.OPEN
        ):
            pipeline.update_opportunity(
                opportunity,
                actor=owner,
                version=opportunity.version,
                amount=_within_range(amount * Decimal(rng.choice((80, 90, 110, 120))) / 100),
                at=at + timedelta(hours=1),
            )
    last = next(moments)
    if plan.status is OpportunityStatus.WON and opportunity.status is OpportunityStatus.OPEN:
        pipeline.mark_won(
            opportunity, actor=owner, contract_date=last.date(), amount=opportunity.amount, at=last
        )
    elif plan.status is OpportunityStatus.LOST:
        winner = rng.choice(rivals) if plan.reason is LostReason.COMPETITOR else None
        if winner is not None and winner.id not in {
            c.competitor_id for c in opportunity.competitors
        }:
            db.session.add(OpportunityCompetitor(opportunity=opportunity, competitor=winner))
        pipeline.mark_lost(
            opportunity,
            actor=owner,
            reason=plan.reason,
            competitor=winner,
            note=LOST_NOTES[plan.reason],
            at=last,
        )
    elif plan.status is OpportunityStatus.OPEN:
        # The next step: some overdue, some today, most in the coming days.
        due = now.astimezone(user_zone(owner)).date() + timedelta(days=rng.randint(-6, 9))
        pipeline.update_opportunity(
            opportunity,
            actor=owner,
            version=opportunity.version,
            next_step=rng.choice(NEXT_STEPS),
            next_step_on=due,
            at=last,
        )
        _backdate_pending(opportunity, last)
    return opportunity


def _within_range(amount: Decimal) -> Decimal:
    """Whole yuan between 50,000 and 5,000,000 (the demo's deal sizes)."""
    return min(max(amount, Decimal(50_000)), Decimal(5_000_000)).quantize(Decimal(1))


def _add_people(rng, opportunity: Opportunity, customer: Customer, rivals) -> None:
    """The contacts on the opportunity with their roles, and who else is bidding."""
    active = [c for c in customer.contacts if c.active]
    chosen = rng.sample(active, min(len(active), rng.randint(1, 3)))
    # The go-between is primary when there is one: the everyday contact.
    chosen.sort(key=lambda c: c.role is not BuyingRole.CONTACT_PERSON)
    for number, contact in enumerate(chosen):
        db.session.add(
            OpportunityContact(
                opportunity=opportunity, contact=contact, role=contact.role, is_primary=number == 0
            )
        )
    if rng.random() < 0.6:
        for competitor in rng.sample(rivals, min(len(rivals), rng.randint(1, 2))):
            db.session.add(
                OpportunityCompetitor(
                    opportunity=opportunity, competitor=competitor, offer=rng.choice(BIDDER_OFFERS)
                )
            )
    db.session.flush()


def _backdate_pending(opportunity: Opportunity, at: datetime) -> None:
    """Reminders scheduled by a backdated change were written 'now': date them as the change."""
    reminder = pipeline.next_step_reminder(opportunity)
    if reminder is not None:
        reminder.created_at = at


def _visits(rng, customer: Customer, opened: list[Opportunity], now: datetime) -> None:
    """About a year of visits at the tier's rhythm; some key accounts have gone quiet."""
    owner = customer.owner
    low, high = VISIT_GAP_DAYS[customer.tier]
    key = customer.tier in (Tier.A_PLUS, Tier.A)
    # Every third key account (and lost customers) went quiet a while ago: silent now.
    silent = (key and customer.id % 3 == 0) or customer.status is CustomerStatus.LOST
    stop = now - timedelta(days=(2 * high + rng.randint(5, 20)) if silent else rng.randint(0, low))
    moments = []
    moment = now - YEAR + timedelta(days=rng.randint(0, high))
    while moment < stop:
        moments.append(_office_hours(moment))
        moment += timedelta(days=rng.randint(low, high))
    if not silent and (not moments or moments[-1] < now - timedelta(days=low)):
        moments.append(_office_hours(now - timedelta(days=rng.randint(1, max(low - 1, 1)))))
    moments = [m for m in moments if m < now]
    contacts = [c for c in customer.contacts if c.active]
    logged = []
    for number, at in enumerate(moments):
        latest = number == len(moments) - 1
        live = [
            o for o in opened if o.created_at <= at and (o.closed_at is None or o.closed_at >= at)
        ]
        follow_up = None
        if latest and not silent:
            follow_up = max(at.date(), now.date() + timedelta(days=rng.randint(-4, 7)))
        elif rng.random() < 0.3:
            follow_up = at.date() + timedelta(days=rng.randint(3, 14))
        visit = Visit(
            customer=customer,
            user=owner,
            occurred_at=at,
            kind=rng.choices(list(VisitKind), weights=(6, 4, 2, 1, 1))[0],
            opportunity=rng.choice(live) if live and rng.random() < 0.6 else None,
            contacts=rng.sample(contacts, min(len(contacts), rng.randint(1, 3))),
            purpose=rng.choice(PURPOSES),
            outcome=rng.choice(OUTCOMES),
            next_step=rng.choice(NEXT_STEPS),
            follow_up_on=follow_up,
            created_at=at,
            updated_at=at,
        )
        db.session.add(visit)
        logged.append((visit, latest))
    db.session.flush()
    for visit, latest in logged:
        if visit.follow_up_on is None:
            continue
        # What visits.log_visit schedules; older ones were followed up (or let go) since.
        closed = not latest
        done_at = datetime.combine(visit.follow_up_on, visit.occurred_at.time(), tzinfo=UTC)
        db.session.add(
            Reminder(
                owner=owner,
                customer=customer,
                opportunity=visit.opportunity,
                visit_id=visit.id,
                source=ReminderSource.VISIT,
                due_on=visit.follow_up_on,
                due_at=reminder_service.due_instant(owner, visit.follow_up_on),
                note=visit.next_step or "",
                status=rng.choices((ReminderStatus.DONE, ReminderStatus.DISMISSED), (5, 1))[0]
                if closed
                else ReminderStatus.PENDING,
                completed_at=min(now, done_at) if closed else None,
                created_at=visit.occurred_at,
                updated_at=visit.occurred_at,
            )
        )
