"""What falls due: reminder emails and daily digests, written to the outbox once each.

A tick may run late (the scheduler was down) or twice (a restart): everything
here is keyed so that repeating it writes nothing new. Reminders that came due
longer ago than REMINDER_MAX_AGE_HOURS are not emailed one by one after a
downtime; the next daily digest lists them with the other overdue follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from crm import emails, permissions
from crm.extensions import db
from crm.services.activity import cadence
from crm.services.followups import outbox
from crm.services.health import history as health_history
from crm.services.plans import nudges, periods
from models import (
    Customer,
    MessageKind,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Role,
    Tier,
    User,
    WorkPlan,
)
from models.base import utcnow

MAX_LEAD = timedelta(days=1)
DAILY_DIGEST_AT = time(8, 0)


def enqueue_due_reminders(now: datetime | None = None) -> int:
    """Write an email for every reminder whose (due time − owner's lead time) has come.

    Returns how many were written: a concurrent tick that wrote the same keys first
    leaves this one's rows unwritten, and they are not counted.
    """
    now = now or utcnow()
    max_age = timedelta(hours=current_app.config["REMINDER_MAX_AGE_HOURS"])
    candidates = db.session.execute(
        select(Reminder, User)
        .join(User, Reminder.owner_id == User.id)
        .where(
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_at > now - max_age,
            Reminder.due_at <= now + MAX_LEAD,
            User.email_reminders.is_(True),
        )
        .options(joinedload(Reminder.customer))
    ).all()
    due = [
        (reminder, owner)
        for reminder, owner in candidates
        if reminder.due_at - timedelta(minutes=owner.reminder_lead_minutes) <= now
    ]
    if not due:
        return 0
    existing = set(
        db.session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.reminder_id.in_([r.id for r, _ in due]))
        )
    )
    rows = []
    for reminder, owner in due:
        key = outbox.reminder_key(reminder.id, reminder.due_at, owner.id)
        if key in existing:
            continue
        subject, text, html = emails.render("reminder", owner, reminder=reminder)
        rows.append(
            outbox.message_row(
                key=key,
                kind=MessageKind.REMINDER,
                recipient=owner,
                subject=subject,
                text=text,
                html=html,
                reminder_id=reminder.id,
            )
        )
    return outbox.enqueue(rows)


@dataclass
class DailyDigest:
    overdue: list[Reminder]
    today: list[Reminder]
    silent: list
    # A manager's plans: owed and not handed in (crm/services/plans/nudges.py), and
    # returned for revision. Each is something to say: a day with only these sends.
    missing_plans: list[nudges.MissingPlan] = field(default_factory=list)
    returned_plans: list[WorkPlan] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.overdue or self.today or self.silent or self.missing_plans or self.returned_plans
        )


def daily_digest_for(user: User, today: date, now: datetime | None = None) -> DailyDigest:
    """Today's and overdue follow-ups, silent customers and plans owed of one user."""
    plans = nudges.standing([user], now or utcnow())[user.id]
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.owner_id == user.id,
                Reminder.status == ReminderStatus.PENDING,
                Reminder.due_on <= today,
            )
            .options(joinedload(Reminder.customer))
            .order_by(Reminder.due_at)
        )
    )
    return DailyDigest(
        overdue=[r for r in reminders if r.due_on < today],
        today=[r for r in reminders if r.due_on == today],
        silent=silent_customers_of(user, today),
        missing_plans=plans.missing,
        returned_plans=plans.returned,
    )


def silent_customers_of(user: User, today: date, limit: int = 50) -> list[Customer]:
    """The user's own customers whose visit cadence has passed, highest tier first."""
    return list(
        db.session.scalars(
            select(Customer)
            .where(
                Customer.owner_id == user.id,
                cadence.silent_filter(ZoneInfo(user.timezone), today),
            )
            .order_by(Customer.tier, Customer.name)
            .limit(limit)
        )
    )


def local_now(user: User, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(user.timezone))


def enqueue_daily_digests(now: datetime | None = None) -> int:
    """At or after 08:00 in each user's zone, their digest for that day, once; none if empty."""
    now = now or utcnow()
    written = 0
    users = db.session.scalars(
        select(User).where(User.active.is_(True), User.email_daily_digest.is_(True))
    )
    for user in users:
        local = local_now(user, now)
        if local.time() < DAILY_DIGEST_AT or user.daily_digest_on == local.date():
            continue
        digest = daily_digest_for(user, local.date(), now)
        user.daily_digest_on = local.date()
        if digest.empty:
            continue  # nothing to say, no email
        subject, text, html = emails.render(
            "daily_digest", user, digest=digest, day=local.date(), plan_key=periods.key_of
        )
        written += outbox.enqueue(
            [
                outbox.message_row(
                    key=f"daily:{user.id}:{local.date().isoformat()}",
                    kind=MessageKind.DAILY_DIGEST,
                    recipient=user,
                    subject=subject,
                    text=text,
                    html=html,
                )
            ]
        )
    db.session.flush()
    return written


@dataclass
class WeeklyDigest:
    """What a supervisor's team let slip, and how its pipeline moved, in the past week."""

    overdue_by_manager: list[tuple[User, int]]
    silent_key_accounts: list[Customer]
    stage_changes: list[OpportunityHistory]
    won: list[Opportunity]
    lost: list[Opportunity]
    # The team's plans (crm/services/plans/nudges.py), each plan in one list only:
    # overdue and not handed in, per manager; returned and not submitted again; submitted
    # and awaiting the supervisor's review.
    plans_missing: list[tuple[User, list[nudges.MissingPlan]]] = field(default_factory=list)
    plans_returned: list[WorkPlan] = field(default_factory=list)
    plans_awaiting: list[WorkPlan] = field(default_factory=list)
    # The team's customers whose health score fell during the week (band falls first).
    worsened: list[health_history.Worsened] = field(default_factory=list)

    @property
    def plans_missing_count(self) -> int:
        return sum(len(missing) for _, missing in self.plans_missing)

    @property
    def empty(self) -> bool:
        return not (
            self.overdue_by_manager
            or self.silent_key_accounts
            or self.stage_changes
            or self.won
            or self.lost
            or self.plans_missing
            or self.plans_returned
            or self.plans_awaiting
            or self.worsened
        )


def weekly_digest_for(supervisor: User, monday: date, now: datetime) -> WeeklyDigest:
    team = select(User.id).where(
        or_(User.id == supervisor.id, User.id.in_(permissions.team_member_ids(supervisor)))
    )
    zone = ZoneInfo(supervisor.timezone)
    today = now.astimezone(zone).date()
    week_ago = now - timedelta(days=7)
    overdue = db.session.execute(
        select(User, func.count(Reminder.id))
        .join(Reminder, Reminder.owner_id == User.id)
        .where(
            User.id.in_(team),
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_on < today,
        )
        .group_by(User.id)
        .order_by(func.count(Reminder.id).desc())
    ).all()
    silent = db.session.scalars(
        select(Customer)
        .where(
            Customer.owner_id.in_(team),
            Customer.tier.in_([Tier.A_PLUS, Tier.A]),
            cadence.silent_filter(zone, today),
        )
        .options(joinedload(Customer.owner))
        .order_by(Customer.tier, Customer.name)
        .limit(100)
    )
    changes = db.session.scalars(
        select(OpportunityHistory)
        .join(Opportunity, OpportunityHistory.opportunity_id == Opportunity.id)
        .where(Opportunity.owner_id.in_(team), OpportunityHistory.at >= week_ago)
        .options(
            joinedload(OpportunityHistory.opportunity).joinedload(Opportunity.customer),
            joinedload(OpportunityHistory.stage),
        )
        .order_by(OpportunityHistory.at)
    )
    closed = list(
        db.session.scalars(
            select(Opportunity)
            .where(
                Opportunity.owner_id.in_(team),
                Opportunity.closed_at >= week_ago,
                Opportunity.status.in_([OpportunityStatus.WON, OpportunityStatus.LOST]),
            )
            .options(joinedload(Opportunity.customer), joinedload(Opportunity.owner))
            .order_by(Opportunity.closed_at)
        )
    )
    members = list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(permissions.team_member_ids(supervisor)), User.active.is_(True))
            .order_by(User.display_name, User.id)
        )
    )
    plans = nudges.standing(members, now)
    return WeeklyDigest(
        overdue_by_manager=[(user, count) for user, count in overdue],
        silent_key_accounts=list(silent),
        stage_changes=[row for row in changes if "stage_id" in (row.changes or {})],
        won=[o for o in closed if o.status is OpportunityStatus.WON],
        lost=[o for o in closed if o.status is OpportunityStatus.LOST],
        plans_missing=[(m, plans[m.id].overdue) for m in members if plans[m.id].overdue],
        plans_returned=[p for m in members for p in plans[m.id].returned],
        plans_awaiting=[p for m in members for p in plans[m.id].awaiting_review],
        worsened=health_history.worsened_since(team, monday - timedelta(days=7)),
    )


def enqueue_weekly_digests(now: datetime | None = None) -> int:
    """From Monday 08:00 in each supervisor's zone, the team's weekly digest, once a week."""
    now = now or utcnow()
    written = 0
    supervisors = db.session.scalars(
        select(User).where(
            User.active.is_(True),
            User.email_weekly_digest.is_(True),
            User.role == Role.SUPERVISOR,
        )
    )
    for supervisor in supervisors:
        local = local_now(supervisor, now)
        monday = local.date() - timedelta(days=local.weekday())
        if local < datetime.combine(monday, DAILY_DIGEST_AT, tzinfo=local.tzinfo):
            continue
        if supervisor.weekly_digest_on == monday:
            continue
        supervisor.weekly_digest_on = monday
        digest = weekly_digest_for(supervisor, monday, now)
        if digest.empty:
            continue
        subject, text, html = emails.render(
            "weekly_digest", supervisor, digest=digest, monday=monday, plan_key=periods.key_of
        )
        written += outbox.enqueue(
            [
                outbox.message_row(
                    key=f"weekly:{supervisor.id}:{monday.isoformat()}",
                    kind=MessageKind.WEEKLY_DIGEST,
                    recipient=supervisor,
                    subject=subject,
                    text=text,
                    html=html,
                )
            ]
        )
    db.session.flush()
    return written
