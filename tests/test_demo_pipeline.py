"""The demo's year of pipeline and work log: every stage filled, reasons given, some silence."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.activity.cadence import silent_rule
from crm.services.demo.organisation import load_demo
from crm.services.followups.reminders import pending_reminders_for
from models import (
    Customer,
    LostReason,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
    Reminder,
    ReminderStatus,
    Stage,
    Tier,
    User,
    Visit,
    visit_contacts,
)

COUNTED = (Opportunity, OpportunityHistory, Visit, Reminder)


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()


def test_loading_twice_adds_nothing_and_every_stage_has_an_opportunity(demo):
    first = _counts()
    load_demo()
    db.session.commit()
    assert _counts() == first
    assert first["Opportunity"] >= 40 and first["Visit"] >= 300
    used = set(db.session.scalars(select(Opportunity.stage_id).distinct()))
    assert used == set(db.session.scalars(select(Stage.id).where(Stage.active.is_(True))))
    statuses = Counter(db.session.scalars(select(Opportunity.status)))
    assert all(statuses[s] >= 5 for s in OpportunityStatus)


def test_won_and_lost_ones_carry_their_facts_and_history(demo):
    for opportunity in db.session.scalars(select(Opportunity)):
        assert 50_000 <= opportunity.amount <= 5_000_000
        history = opportunity.history
        assert history[0].changes == {} and history[-1].status is opportunity.status
        assert [row.at for row in history] == sorted(row.at for row in history)
        if opportunity.status is OpportunityStatus.WON:
            assert opportunity.contract_date and opportunity.amount > 0
        if opportunity.status is OpportunityStatus.LOST:
            assert opportunity.lost_reason is not None and opportunity.lost_note
            if opportunity.lost_reason is LostReason.COMPETITOR:
                assert opportunity.lost_to is not None
    reasons = set(db.session.scalars(select(Opportunity.lost_reason).distinct()))
    assert set(LostReason) <= reasons


def test_visits_meet_contacts_and_some_key_accounts_are_silent(demo):
    assert db.session.scalar(select(func.count()).select_from(visit_contacts)) >= 300
    manager = db.session.scalar(select(User).where(User.username == "admin"))
    rule = silent_rule(manager)
    customers = list(db.session.scalars(select(Customer)))
    silent = [c for c in customers if rule.is_silent(c)]
    key = [c for c in customers if c.tier in (Tier.A_PLUS, Tier.A)]
    assert any(c.tier in (Tier.A_PLUS, Tier.A) for c in silent)
    # Most customers are looked after.
    assert len(silent) < len(customers) / 3 and len([c for c in key if c in silent]) < len(key)
    _follow_ups_look_real()


def _follow_ups_look_real():
    lists = [
        pending_reminders_for(user)
        for user in db.session.scalars(select(User).where(User.username.like("manager%")))
    ]
    assert sum(len(p.overdue) for p in lists) >= 3
    assert sum(len(p.due_today) for p in lists) >= 1
    assert sum(len(p.upcoming) for p in lists) >= 5
    closed = db.session.scalar(
        select(func.count()).select_from(Reminder).where(Reminder.status != ReminderStatus.PENDING)
    )
    assert closed >= 20
    # Follow-ups of old visits were closed after they were scheduled, never before.
    assert not db.session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.completed_at < Reminder.created_at)
    )
