"""Demo service tickets (售后服务): a year of complaints and requests, most closed after the
revisit with the customer's satisfaction, and the ones still on the managers' desks.

Every manager has a ticket resolved weeks ago whose revisit is still to do (the customer
wanted to be sure the fix holds: its follow-up is in a few days), one open past its due
time, one in progress and one just opened. Customers a competitor threatens most (a
high-threat profile) are sliding: repeated network and service complaints, low scores at
the revisits, and one complaint left overdue. Its own random stream, so the other demo
data stay as they were. Skipped when any ticket exists.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.services.followups.reminders import schedule_follow_up
from crm.services.tickets import sla
from models import (
    CompetitorProfile,
    Contact,
    Customer,
    ReminderSource,
    Role,
    ServiceTicket,
    Team,
    ThreatLevel,
    TicketCategory,
    TicketEvent,
    TicketKind,
    TicketSeverity,
    TicketStatus,
    User,
)
from models.base import utcnow

# (category, kind, subject, resolution)
PROBLEMS = (
    (
        TicketCategory.NETWORK_QUALITY,
        TicketKind.COMPLAINT,
        "总部专线频繁中断",
        "更换光模块并优化路由，连续观察72小时无中断",
    ),
    (
        TicketCategory.NETWORK_QUALITY,
        TicketKind.COMPLAINT,
        "分支机构网速慢",
        "扩容带宽至200M，调整QoS策略",
    ),
    (
        TicketCategory.NETWORK_QUALITY,
        TicketKind.COMPLAINT,
        "会议室无线信号差",
        "增补两台AP并重新规划信道",
    ),
    (
        TicketCategory.BILLING,
        TicketKind.COMPLAINT,
        "月度账单金额异常",
        "核实为套餐变更计费错误，已退还差额",
    ),
    (
        TicketCategory.BILLING,
        TicketKind.REQUEST,
        "申请合并开具增值税专票",
        "已按季度合并开票并寄送",
    ),
    (
        TicketCategory.INSTALLATION,
        TicketKind.REQUEST,
        "新办公点宽带装机",
        "已完成装机及业务测试开通",
    ),
    (
        TicketCategory.INSTALLATION,
        TicketKind.COMPLAINT,
        "装机预约多次改期",
        "指定专人对接，次日完成装机",
    ),
    (
        TicketCategory.SERVICE_ATTITUDE,
        TicketKind.COMPLAINT,
        "客服热线多次转接无人处理",
        "已约谈班组并建立专属服务通道",
    ),
    (
        TicketCategory.PRODUCT_FAULT,
        TicketKind.COMPLAINT,
        "云视频会议终端无法入会",
        "升级终端固件，远程验证恢复",
    ),
    (TicketCategory.PRODUCT_FAULT, TicketKind.REQUEST, "物联网卡批量停机复机", "已按清单完成复机"),
    (
        TicketCategory.OTHER,
        TicketKind.REQUEST,
        "协助出具网络安全等级保护材料",
        "已提供测评所需材料",
    ),
)
# What the sliding customers complain about, again and again.
SLIDING_PROBLEMS = tuple(
    p
    for p in PROBLEMS
    if p[0]
    in {
        TicketCategory.NETWORK_QUALITY,
        TicketCategory.SERVICE_ATTITUDE,
    }
)
COMMENTS = {
    5: ("处理及时，非常满意", "工程师很专业"),
    4: ("基本满意", "希望响应再快一些"),
    3: ("一般，问题解决得比较慢",),
    2: ("反复出现，不太满意", "处理周期太长"),
    1: ("非常不满意，正在考虑其他运营商", "多次投诉仍未根本解决"),
}
SEVERITY_WEIGHTS = (1, 3, 5, 2)  # critical, high, medium, low


def ensure_service(now: datetime | None = None) -> int:
    """Add the demo tickets; return how many (0 when any ticket exists already)."""
    if db.session.scalar(select(func.count()).select_from(ServiceTicket)):
        return 0
    now = now or utcnow()
    rng = random.Random("demo-service")
    managers = list(
        db.session.scalars(select(User).where(User.role == Role.MANAGER).order_by(User.username))
    )
    supervisors = dict(db.session.execute(select(Team.id, Team.supervisor_id)).all())
    threatened = set(
        db.session.scalars(
            select(CompetitorProfile.customer_id).where(
                CompetitorProfile.threat == ThreatLevel.HIGH
            )
        )
    )
    contacts: dict[int, list[int]] = {}
    for customer_id, contact_id in db.session.execute(
        select(Contact.customer_id, Contact.id).where(Contact.active).order_by(Contact.id)
    ):
        contacts.setdefault(customer_id, []).append(contact_id)
    demo = _Demo(rng, now, supervisors, contacts)
    for manager in managers:
        customers = list(
            db.session.scalars(
                select(Customer).where(Customer.owner_id == manager.id).order_by(Customer.id)
            )
        )
        if not customers:
            continue
        for customer in customers:
            sliding = customer.id in threatened
            for _ in range(rng.randint(0, 2)):
                demo.closed(customer, days_ago=rng.randint(40, 360))
            if sliding:
                for days in sorted(rng.sample(range(15, 120), 3), reverse=True):
                    demo.closed(customer, days_ago=days, sliding=True)
                demo.open(customer, days_ago=rng.randint(5, 12), sliding=True)
        # What is on the manager's desk now.
        demo.just_opened(customers[0])
        demo.open(customers[1 % len(customers)], days_ago=rng.randint(3, 10))
        demo.in_progress(customers[2 % len(customers)])
        demo.resolved(customers[-1], days_ago=rng.randint(20, 28))
    db.session.flush()
    return demo.count


class _Demo:
    def __init__(self, rng, now, supervisors, contacts):
        self.rng, self.now = rng, now
        self.supervisors, self.contacts = supervisors, contacts
        self.count = 0

    def _ticket(self, customer: Customer, opened_at: datetime, *, sliding: bool = False):
        rng = self.rng
        category, kind, title, resolution = rng.choice(SLIDING_PROBLEMS if sliding else PROBLEMS)
        severity = rng.choices(list(TicketSeverity), weights=SEVERITY_WEIGHTS)[0]
        if sliding:
            severity = rng.choice((TicketSeverity.CRITICAL, TicketSeverity.HIGH))
        owner = customer.owner
        raised_by = self.contacts.get(customer.id)
        ticket = ServiceTicket(
            customer=customer,
            kind=kind,
            category=category,
            severity=severity,
            title=title,
            description=f"{customer.name}反映：{title}。",
            raised_by_id=rng.choice(raised_by) if raised_by else None,
            owner=owner,
            status=TicketStatus.OPEN,
            opened_at=opened_at,
            due_at=sla.due_at(severity, opened_at, owner),
            created_by_id=owner.id,
            created_at=opened_at,
            updated_at=opened_at,
        )
        db.session.add(ticket)
        self._event(ticket, opened_at, None, owner)
        self.count += 1
        return ticket, resolution

    def _event(self, ticket, at, from_status, actor, note=None, handler=None):
        db.session.add(
            TicketEvent(
                ticket=ticket,
                at=at,
                actor_id=actor.id,
                from_status=from_status,
                to_status=ticket.status,
                note=note,
                handler_id=handler.id if handler is not None else None,
            )
        )

    def _start(self, ticket, at):
        owner = ticket.owner
        supervisor_id = self.supervisors.get(owner.team_id)
        handler = owner
        if supervisor_id and self.rng.random() < 0.25:
            handler = db.session.get(User, supervisor_id)  # the supervisor takes it on
        ticket.handler = handler
        ticket.status = TicketStatus.IN_PROGRESS
        self._event(ticket, at, TicketStatus.OPEN, owner, handler=handler)

    def _resolve(self, ticket, at, resolution):
        ticket.status = TicketStatus.RESOLVED
        ticket.resolution = resolution
        ticket.resolved_at = at
        self._event(ticket, at, TicketStatus.IN_PROGRESS, ticket.handler, resolution)

    def closed(self, customer, *, days_ago: int, sliding: bool = False) -> None:
        rng = self.rng
        opened = self.now - timedelta(days=days_ago, hours=rng.randint(0, 10))
        ticket, resolution = self._ticket(customer, opened, sliding=sliding)
        started = opened + timedelta(minutes=rng.randint(20, 240))
        self._start(ticket, started)
        # Most within their SLA; a sliding customer's often not.
        late = rng.random() < (0.5 if sliding else 0.15)
        hours = sla.hours_for(ticket.severity) * (
            rng.uniform(1.1, 2.5) if late else rng.uniform(0.2, 0.9)
        )
        resolved = opened + timedelta(hours=hours)
        if not sliding and rng.random() < 0.1:
            # Came back once: reopened after the first fix, then solved for good.
            self._resolve(ticket, resolved, resolution)
            back = resolved + timedelta(days=rng.randint(1, 4))
            ticket.status = TicketStatus.OPEN
            ticket.reopened_count = 1
            self._event(ticket, back, TicketStatus.RESOLVED, ticket.owner, "客户反映问题再次出现")
            ticket.due_at = sla.due_at(ticket.severity, back, ticket.owner)
            self._start(ticket, back + timedelta(hours=1))
            resolved = back + timedelta(hours=sla.hours_for(ticket.severity) * 0.5)
        self._resolve(ticket, resolved, resolution)
        score = (
            rng.choices((1, 2, 3), weights=(3, 4, 1))[0]
            if sliding
            else rng.choices((5, 4, 3, 2, 1), weights=(8, 8, 3, 1, 0.5))[0]
        )
        closed_at = resolved + timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6))
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = closed_at
        ticket.satisfaction = score
        ticket.satisfaction_comment = rng.choice(COMMENTS[score])
        ticket.updated_at = closed_at
        self._event(
            ticket, closed_at, TicketStatus.RESOLVED, ticket.owner, ticket.satisfaction_comment
        )

    def resolved(self, customer, *, days_ago: int) -> None:
        """Resolved weeks ago; the revisit that would close it is coming up."""
        opened = self.now - timedelta(days=days_ago)
        ticket, resolution = self._ticket(customer, opened)
        self._start(ticket, opened + timedelta(hours=1))
        resolved = opened + timedelta(days=self.rng.randint(1, 3))
        self._resolve(ticket, resolved, resolution)
        ticket.updated_at = resolved
        owner = customer.owner
        db.session.flush()
        # The customer asked for a few days to be sure it holds: the revisit is coming up.
        reminder = schedule_follow_up(
            customer,
            on=today_in(user_zone(owner), self.now) + timedelta(days=self.rng.randint(2, 6)),
            note=f"#{ticket.id} {ticket.title}",
            source=ReminderSource.SERVICE,
            actor=owner,
        )
        reminder.created_at = reminder.updated_at = resolved
        ticket.revisit_reminder_id = reminder.id
        ticket.updated_at = resolved

    def open(self, customer, *, days_ago: int, sliding: bool = False) -> None:
        """Opened days ago and past its due time, nobody on it yet (or only started)."""
        opened = self.now - timedelta(days=days_ago, hours=self.rng.randint(1, 8))
        ticket, _ = self._ticket(customer, opened, sliding=sliding)
        if ticket.due_at >= self.now:  # a long SLA: make it one that has run out
            ticket.severity = TicketSeverity.HIGH
            ticket.due_at = sla.due_at(ticket.severity, opened, ticket.owner)
        if self.rng.random() < 0.4:
            self._start(ticket, opened + timedelta(hours=2))

    def in_progress(self, customer) -> None:
        opened = self.now - timedelta(hours=self.rng.randint(2, 20))
        ticket, _ = self._ticket(customer, opened)
        ticket.severity = TicketSeverity.LOW
        ticket.due_at = sla.due_at(ticket.severity, opened, ticket.owner)
        self._start(ticket, opened + timedelta(minutes=30))

    def just_opened(self, customer) -> None:
        opened = self.now - timedelta(minutes=self.rng.randint(10, 90))
        ticket, _ = self._ticket(customer, opened)
        ticket.severity = TicketSeverity.MEDIUM
        ticket.due_at = sla.due_at(ticket.severity, opened, ticket.owner)
