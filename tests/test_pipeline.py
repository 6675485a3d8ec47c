"""The opportunity lifecycle: stage rules, won and lost, history, days per stage, the flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.errors import DomainError, NotFound, StaleEdit
from crm.services.pipeline import links
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline.search import flagged_ids
from crm.services.pipeline.stage_history import days_in_stages, history_changes
from models import (
    AuditAction,
    AuditEntry,
    BuyingRole,
    LostReason,
    Opportunity,
    OpportunityHistory,
    OpportunityStatus,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"])


@pytest.fixture
def opened(customer, org):
    """An opportunity m1 opened through the service (so it has its first history row)."""
    opportunity = pipeline.create_opportunity(
        customer, actor=org["m1"], title="专线扩容", amount="100000", at=T0
    )
    db.session.commit()
    return opportunity


def _history(opportunity) -> list[OpportunityHistory]:
    return list(
        db.session.scalars(
            select(OpportunityHistory)
            .where(OpportunityHistory.opportunity_id == opportunity.id)
            .order_by(OpportunityHistory.id)
        )
    )


def _to_contract(opportunity, stages, actor):
    pipeline.move_to_stage(opportunity, stages["Contract"], actor=actor)
    db.session.commit()


# Creating ----------------------------------------------------------------------


def test_new_opportunity_starts_at_the_first_stage_with_its_probability(opened, org, stages):
    assert opened.stage is stages["Initial contact"]
    assert opened.probability == 10
    assert opened.owner is org["m1"]
    assert opened.status is OpportunityStatus.OPEN
    [first] = _history(opened)
    assert (first.stage_id, first.amount, first.changes) == (opened.stage_id, Decimal("100000"), {})
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "opportunities", AuditEntry.entity_id == opened.id
        )
    )
    assert entry.action is AuditAction.CREATE and entry.customer_id == opened.customer_id


def test_a_customer_out_of_scope_is_refused(customer, org):
    with pytest.raises(NotFound):
        pipeline.create_opportunity(customer, actor=org["m3"], title="x")


def test_the_owner_must_be_in_the_actors_scope_and_active(customer, org):
    with pytest.raises(DomainError) as refused:
        pipeline.create_opportunity(customer, actor=org["m1"], title="x", owner=org["m2"])
    assert refused.value.field == "owner_id"
    made = pipeline.create_opportunity(customer, actor=org["sup1"], title="x", owner=org["m2"])
    assert made.owner is org["m2"]
    org["m2"].active = False
    with pytest.raises(DomainError):
        pipeline.create_opportunity(customer, actor=org["sup1"], title="y", owner=org["m2"])


def test_a_new_opportunity_cannot_start_after_pre_sale(customer, org, stages):
    with pytest.raises(DomainError):
        pipeline.create_opportunity(
            customer, actor=org["m1"], title="x", stage=stages["Order submitted"]
        )


# Won -----------------------------------------------------------------------------


def test_won_needs_the_contract_stage(opened, org, stages):
    pipeline.move_to_stage(opened, stages["Negotiation"], actor=org["m1"])
    with pytest.raises(DomainError) as refused:
        pipeline.mark_won(opened, actor=org["m1"], contract_date=date(2026, 5, 1), amount="1")
    assert refused.value.field == "stage_id"
    assert opened.status is OpportunityStatus.OPEN


@pytest.mark.parametrize(
    ("contract_date", "amount", "field"),
    [(None, "500000", "contract_date"), (date(2026, 5, 1), None, "amount"),
     (date(2026, 5, 1), "0", "amount")],
)  # fmt: skip
def test_won_needs_a_contract_date_and_an_amount(opened, org, stages, contract_date, amount, field):
    _to_contract(opened, stages, org["m1"])
    with pytest.raises(DomainError) as refused:
        pipeline.mark_won(opened, actor=org["m1"], contract_date=contract_date, amount=amount)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.get(Opportunity, opened.id).status is OpportunityStatus.OPEN


def test_won_at_the_contract_stage_then_moves_on_into_in_sale(opened, org, stages):
    _to_contract(opened, stages, org["m1"])
    pipeline.mark_won(opened, actor=org["m1"], contract_date=date(2026, 5, 1), amount="480000.50")
    db.session.commit()
    assert opened.status is OpportunityStatus.WON
    assert (opened.amount, opened.probability) == (Decimal("480000.50"), 100)
    assert opened.contract_date == date(2026, 5, 1) and opened.closed_at is not None
    pipeline.move_to_stage(opened, stages["Order submitted"], actor=org["m1"])
    pipeline.move_to_stage(opened, stages["Revisit"], actor=org["m1"])
    assert opened.stage is stages["Revisit"] and opened.probability == 100
    with pytest.raises(DomainError):
        pipeline.move_to_stage(opened, stages["Negotiation"], actor=org["m1"])


def test_an_open_opportunity_cannot_skip_past_the_contract_stage(opened, org, stages):
    _to_contract(opened, stages, org["m1"])
    for later in ("Order submitted", "Maintenance"):
        with pytest.raises(DomainError) as refused:
            pipeline.move_to_stage(opened, stages[later], actor=org["m1"])
        assert refused.value.field == "stage_id"
    assert opened.stage is stages["Contract"]


# Lost ------------------------------------------------------------------------------


def test_lost_needs_a_reason(opened, org):
    for reason in (None, "", "boredom"):
        with pytest.raises(DomainError) as refused:
            pipeline.mark_lost(opened, actor=org["m1"], reason=reason)
        assert refused.value.field == "reason"
    assert opened.status is OpportunityStatus.OPEN


def test_lost_to_a_competitor_needs_the_competitor(opened, org, stages, make_competitor):
    with pytest.raises(DomainError) as refused:
        pipeline.mark_lost(opened, actor=org["m1"], reason=LostReason.COMPETITOR)
    assert refused.value.field == "competitor_id"
    rival = make_competitor("中国电信")
    pipeline.mark_lost(
        opened, actor=org["m1"], reason="competitor", competitor=rival, note="低价 15%"
    )
    db.session.commit()
    assert opened.status is OpportunityStatus.LOST
    assert (opened.lost_reason, opened.lost_to, opened.lost_note) == (
        LostReason.COMPETITOR,
        rival,
        "低价 15%",
    )
    assert opened.probability == 0
    with pytest.raises(DomainError):
        pipeline.move_to_stage(opened, stages["Needs discovery"], actor=org["m1"])


def test_lost_only_in_pre_sale(opened, org, stages):
    _to_contract(opened, stages, org["m1"])
    pipeline.mark_won(opened, actor=org["m1"], contract_date=date(2026, 5, 1), amount="9")
    pipeline.move_to_stage(opened, stages["Provisioning"], actor=org["m1"])
    with pytest.raises(DomainError):
        pipeline.mark_lost(opened, actor=org["m1"], reason="price")
    assert opened.status is OpportunityStatus.WON


def test_a_lost_opportunity_can_be_reopened(opened, org, stages):
    pipeline.move_to_stage(opened, stages["Proposal"], actor=org["m1"])
    pipeline.mark_lost(opened, actor=org["m1"], reason="timing")
    pipeline.reopen(opened, actor=org["m1"])
    assert opened.status is OpportunityStatus.OPEN
    assert (opened.lost_reason, opened.probability) == (None, 60)


# History -----------------------------------------------------------------------------


def test_every_tracked_change_appends_one_history_row(opened, org, stages, make_competitor):
    m1 = org["m1"]
    pipeline.update_opportunity(opened, actor=m1, version=opened.version, amount="120000")
    pipeline.update_opportunity(
        opened, actor=m1, version=opened.version, expected_close=date(2026, 9, 30)
    )
    pipeline.update_opportunity(opened, actor=m1, version=opened.version, probability=25)
    # Not tracked: no row.
    pipeline.update_opportunity(opened, actor=m1, version=opened.version, title="专线扩容二期")
    pipeline.move_to_stage(opened, stages["Needs discovery"], actor=m1)
    pipeline.mark_lost(opened, actor=m1, reason="price")
    db.session.commit()

    rows = _history(opened)
    assert [row.changes for row in rows] == [
        {},
        {"amount": ["100000.00", "120000.00"]},
        {"expected_close": [None, "2026-09-30"]},
        {"probability": [10, 25]},
        {"stage_id": [stages["Initial contact"].id, stages["Needs discovery"].id],
         "probability": [25, 20]},
        {"status": ["open", "lost"], "probability": [20, 0]},
    ]  # fmt: skip
    last = rows[-1]
    assert (last.status, last.stage_id, last.amount, last.probability, last.expected_close) == (
        OpportunityStatus.LOST,
        stages["Needs discovery"].id,
        Decimal("120000.00"),
        0,
        date(2026, 9, 30),
    )
    assert all(row.actor_id == m1.id for row in rows)
    changes = history_changes(rows[4], {s.id: s for s in stages.values()})
    assert ("stage_id", stages["Initial contact"], stages["Needs discovery"]) in changes


def test_history_is_never_updated_or_deleted(opened, org, stages):
    before = [(r.id, r.at, r.stage_id, r.changes) for r in _history(opened)]
    pipeline.move_to_stage(opened, stages["Proposal"], actor=org["m1"])
    db.session.commit()
    after = [(r.id, r.at, r.stage_id, r.changes) for r in _history(opened)]
    assert after[: len(before)] == before and len(after) == len(before) + 1

    row = _history(opened)[0]
    row.probability = 99
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(_history(opened)[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_stale_edit_is_refused_and_saves_nothing(opened, org):
    seen = opened.version
    pipeline.update_opportunity(opened, actor=org["sup1"], version=seen, amount="1")
    db.session.commit()
    with pytest.raises(StaleEdit) as refused:
        pipeline.update_opportunity(opened, actor=org["m1"], version=seen, amount="2")
    assert refused.value.current is opened
    db.session.rollback()
    assert db.session.get(Opportunity, opened.id).amount == Decimal("1.00")
    assert len(_history(opened)) == 2


# Days in each stage ---------------------------------------------------------------------


def test_days_in_stages_come_from_the_history(opened, org, stages):
    m1 = org["m1"]
    pipeline.move_to_stage(opened, stages["Needs discovery"], actor=m1, at=T0 + timedelta(3))
    pipeline.update_opportunity(  # same stage: the stay goes on
        opened, actor=m1, version=opened.version, amount="5", at=T0 + timedelta(4)
    )
    pipeline.move_to_stage(opened, stages["Solution design"], actor=m1, at=T0 + timedelta(5.5))
    pipeline.mark_lost(opened, actor=m1, reason="timing", at=T0 + timedelta(8))
    pipeline.reopen(opened, actor=m1, at=T0 + timedelta(20))  # lost time does not count
    pipeline.move_to_stage(opened, stages["Needs discovery"], actor=m1, at=T0 + timedelta(21))
    db.session.commit()

    times = days_in_stages(opened, now=T0 + timedelta(22))

    assert [(t.stage.name_en, t.days, t.stays, t.current) for t in times] == [
        ("Initial contact", 3.0, 1, False),
        ("Needs discovery", 3.5, 2, True),
        ("Solution design", 3.5, 2, False),
    ]
    assert opened.stage_entered_at == T0 + timedelta(21)


# Contacts, competitors and the missing decision maker --------------------------------------


def test_contacts_must_belong_to_the_customer_and_one_is_primary(
    opened, org, make_contact, make_customer
):
    m1 = org["m1"]
    boss = make_contact(opened.customer, "王总", role=BuyingRole.DECISION_MAKER)
    it_head = make_contact(opened.customer, "李工", role=BuyingRole.INFLUENCER)
    stranger = make_contact(make_customer(m1), "外人")
    with pytest.raises(DomainError):
        links.add_contact(opened, stranger, actor=m1)
    first = links.add_contact(opened, boss, actor=m1, is_primary=True)
    assert first.role is BuyingRole.DECISION_MAKER  # the contact's own role by default
    second = links.add_contact(opened, it_head, actor=m1, role="user", is_primary=True)
    assert (first.is_primary, second.is_primary, second.role) == (False, True, BuyingRole.USER)
    with pytest.raises(DomainError):
        links.add_contact(opened, boss, actor=m1)
    links.remove_contact(opened, boss.id, actor=m1)
    db.session.commit()
    assert [link.contact for link in opened.contacts] == [it_head]


def test_competitors_bid_with_their_offer(opened, org, make_competitor):
    rival = make_competitor("中国联通")
    links.add_competitor(opened, rival, actor=org["m1"], offer="八五折")
    with pytest.raises(DomainError):
        links.add_competitor(opened, rival, actor=org["m1"])
    db.session.commit()
    assert [(b.competitor, b.offer) for b in opened.competitors] == [(rival, "八五折")]
    links.remove_competitor(opened, rival.id, actor=org["m1"])
    assert opened.competitors == []


def test_missing_decision_maker_is_flagged_past_needs_discovery(opened, org, stages, make_contact):
    m1 = org["m1"]

    def flagged() -> bool:
        db.session.flush()
        return opened.id in flagged_ids([opened.id])

    assert not flagged()  # initial contact
    pipeline.move_to_stage(opened, stages["Needs discovery"], actor=m1)
    assert not flagged()
    pipeline.move_to_stage(opened, stages["Solution design"], actor=m1)
    assert flagged()
    influencer = make_contact(opened.customer, role=BuyingRole.INFLUENCER)
    links.add_contact(opened, influencer, actor=m1)
    assert flagged()
    boss = make_contact(opened.customer, role=BuyingRole.CONTACT_PERSON)
    links.add_contact(opened, boss, actor=m1, role=BuyingRole.DECISION_MAKER)
    assert not flagged()  # the role on this opportunity is what counts
    boss.active = False  # left the company
    assert flagged()
    pipeline.mark_lost(opened, actor=m1, reason="price")
    assert not flagged()  # only open ones are flagged


def test_the_flag_follows_the_needs_discovery_stage_when_stages_are_reordered(opened, org, stages):
    from crm.services.pipeline import stages as stage_service

    pipeline.move_to_stage(opened, stages["Solution design"], actor=org["m1"])
    db.session.flush()
    assert flagged_ids([opened.id])
    # Needs discovery now comes after solution design: solution design is before it.
    stage_service.move_stage(stages["Needs discovery"], actor=org["admin"], up=False)
    assert stages["Needs discovery"].position > stages["Solution design"].position
    assert not flagged_ids([opened.id])


def test_customers_with_a_flagged_opportunity_and_their_stage_history(
    opened, org, stages, make_customer
):
    from crm.permissions import visible_customers
    from crm.services.pipeline.search import customer_has_flagged_opportunity
    from crm.services.pipeline.stage_history import customer_stage_history

    quiet = make_customer(org["m1"])
    pipeline.move_to_stage(opened, stages["Proposal"], actor=org["m1"])
    db.session.commit()

    flagged = db.session.scalars(
        visible_customers(org["m1"]).where(customer_has_flagged_opportunity())
    ).all()
    assert flagged == [opened.customer] and quiet not in flagged
    rows = db.session.scalars(customer_stage_history(opened.customer_id)).all()
    assert [row.stage.name_en for row in rows] == ["Proposal", "Initial contact"]  # newest first
    assert db.session.scalars(customer_stage_history(quiet.id)).all() == []


def test_the_append_only_rule_is_the_history_models_own():
    """Registered in models/, so it holds whatever code writes through the session."""
    from sqlalchemy import event

    from models.pipeline import history_is_append_only

    for when in ("before_update", "before_delete"):
        assert event.contains(OpportunityHistory, when, history_is_append_only)
