"""Handing portfolios over: what moves, who may, all or nothing, once, and the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select

from crm.extensions import db
from crm.services.archive.search import CustomerFilters
from crm.services.errors import DomainError, NotAllowed
from crm.services.handover.transfer import (
    HandoverOptions,
    Selection,
    SelectionChanged,
    hand_over,
    preview,
)
from crm.services.handover.undo import undo
from models import (
    Customer,
    Handover,
    HandoverCustomer,
    HandoverStatus,
    Opportunity,
    OpportunityStatus,
    Reminder,
    ReminderStatus,
    Tier,
)
from models.base import utcnow


def owner_of(model, record_id):
    return db.session.scalar(select(model.owner_id).where(model.id == record_id))


def of_owner(user):
    return Selection(filters=CustomerFilters(owner=str(user.id)))


@pytest.fixture(autouse=True)
def english(app):
    """Service messages are checked in English (the app's default language is Chinese)."""
    with force_locale("en"):
        yield


@pytest.fixture
def portfolio(org, make_customer, make_opportunity, make_reminder, make_contact):
    """m2's portfolio: three customers with open and closed work, and a customer of m1."""
    m2 = org["m2"]
    customers = [make_customer(m2, name=f"Portfolio {i}") for i in range(3)]
    open_opps = [make_opportunity(c) for c in customers]
    won = make_opportunity(customers[0], stage="Contract", status=OpportunityStatus.WON)
    pending = [make_reminder(c) for c in customers[:2]]
    done = make_reminder(customers[2], status=ReminderStatus.DONE)
    contacts = [make_contact(customers[0]), make_contact(customers[1])]
    other = make_customer(org["m1"], name="Not m2's")
    return {
        "customers": customers,
        "open": open_opps,
        "won": won,
        "pending": pending,
        "done": done,
        "contacts": contacts,
        "other": other,
    }


def do_hand_over(actor, selection, to_owner, *, key="t1", fingerprint=None, **kwargs):
    kwargs.setdefault("options", HandoverOptions())
    kwargs.setdefault("note", "Promised a discount review in March.")
    return hand_over(
        actor=actor,
        selection=selection,
        to_owner=to_owner,
        token=key,
        expected_fingerprint=fingerprint,
        **kwargs,
    )


def test_everything_selected_moves_and_closed_work_keeps_its_owner(org, portfolio):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    seen = preview(actor=sup1, selection=of_owner(m2), to_owner=m1, options=HandoverOptions())
    assert (seen.customers, seen.opportunities, seen.reminders, seen.contacts) == (3, 3, 2, 2)
    assert seen.closed_opportunities == 1
    assert (seen.portfolio_before, seen.portfolio_after) == (1, 4)

    handover = do_hand_over(sup1, of_owner(m2), m1, fingerprint=seen.fingerprint)
    db.session.commit()

    assert all(owner_of(Customer, c.id) == m1.id for c in portfolio["customers"])
    assert all(owner_of(Opportunity, o.id) == m1.id for o in portfolio["open"])
    assert all(owner_of(Reminder, r.id) == m1.id for r in portfolio["pending"])
    assert owner_of(Opportunity, portfolio["won"].id) == m2.id
    assert owner_of(Reminder, portfolio["done"].id) == m2.id
    counts = (
        handover.customers_count,
        handover.opportunities_count,
        handover.reminders_count,
        handover.contacts_count,
    )
    assert counts == (seen.customers, seen.opportunities, seen.reminders, seen.contacts)
    assert handover.from_owner_id == m2.id
    listed = db.session.scalars(
        select(HandoverCustomer.customer_id).where(HandoverCustomer.handover_id == handover.id)
    )
    assert sorted(listed) == sorted(c.id for c in portfolio["customers"])
    # A version bump: an edit form opened before the handover cannot overwrite the new owner.
    assert db.session.get(Customer, portfolio["customers"][0].id).version == 2


def test_options_leave_work_behind_or_take_closed_work(org, portfolio):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    options = HandoverOptions(
        open_opportunities=False, pending_reminders=False, closed_opportunities=True
    )
    handover = do_hand_over(sup1, of_owner(m2), m1, options=options)
    assert owner_of(Opportunity, portfolio["open"][0].id) == m2.id
    assert owner_of(Reminder, portfolio["pending"][0].id) == m2.id
    assert owner_of(Opportunity, portfolio["won"].id) == m1.id
    assert (handover.opportunities_count, handover.reminders_count) == (1, 0)


def test_one_customer_by_id(org, portfolio):
    target = portfolio["customers"][1]
    do_hand_over(org["sup1"], Selection(ids=[target.id]), org["m1"])
    assert owner_of(Customer, target.id) == org["m1"].id
    assert owner_of(Customer, portfolio["customers"][0].id) == org["m2"].id


def test_tier_rules_warn_and_need_a_written_reason(org, make_customer):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]  # m2 is junior
    key = make_customer(m1, tier=Tier.A_PLUS)
    make_customer(m1, tier=Tier.A)
    seen = preview(actor=sup1, selection=of_owner(m1), to_owner=m2, options=HandoverOptions())
    assert {(tier, n, level.value) for tier, n, level in seen.tier_warnings} == {
        (Tier.A_PLUS, 1, "senior"),
        (Tier.A, 1, "intermediate"),
    }
    with pytest.raises(DomainError) as refused:
        do_hand_over(sup1, of_owner(m1), m2)
    assert refused.value.field == "reason"
    assert owner_of(Customer, key.id) == m1.id

    handover = do_hand_over(sup1, of_owner(m1), m2, reason="No senior manager is free until June.")
    assert handover.reason == "No senior manager is free until June."
    assert owner_of(Customer, key.id) == m2.id


def test_senior_owner_needs_no_reason(org, make_customer):
    make_customer(org["m2"], tier=Tier.A_PLUS)
    seen = preview(
        actor=org["sup1"],
        selection=of_owner(org["m2"]),
        to_owner=org["m1"],
        options=HandoverOptions(),
    )
    assert seen.tier_warnings == [] and not seen.needs_reason


def test_a_note_is_required(org, portfolio):
    with pytest.raises(DomainError) as refused:
        do_hand_over(org["sup1"], of_owner(org["m2"]), org["m1"], note="  ")
    assert refused.value.field == "note"


def test_deactivated_target_is_refused(org, portfolio):
    m1 = org["m1"]
    m1.active = False
    db.session.commit()
    with pytest.raises(DomainError, match="deactivated"):
        preview(
            actor=org["sup1"], selection=of_owner(org["m2"]), to_owner=m1, options=HandoverOptions()
        )
    with pytest.raises(DomainError, match="deactivated"):
        do_hand_over(org["sup1"], of_owner(org["m2"]), m1)
    assert owner_of(Customer, portfolio["customers"][0].id) == org["m2"].id


def test_supervisor_is_limited_to_their_own_team(org, make_customer):
    sup1 = org["sup1"]
    theirs = make_customer(org["m3"])  # Team Two
    with pytest.raises(DomainError, match="own team"):
        do_hand_over(sup1, Selection(ids=[make_customer(org["m2"]).id]), org["m3"])
    # Another team's customer is not in the selection at all: nothing to hand over.
    with pytest.raises(DomainError, match="No customers"):
        do_hand_over(sup1, Selection(ids=[theirs.id]), org["m1"])
    assert owner_of(Customer, theirs.id) == org["m3"].id


def test_supervisor_may_take_customers_themselves(org, portfolio):
    do_hand_over(org["sup1"], of_owner(org["m2"]), org["sup1"])
    assert owner_of(Customer, portfolio["customers"][0].id) == org["sup1"].id


def test_admin_hands_over_between_any_two_managers(org, portfolio):
    do_hand_over(org["admin"], of_owner(org["m2"]), org["m3"])
    assert owner_of(Customer, portfolio["customers"][0].id) == org["m3"].id


def test_manager_cannot_hand_over(org, portfolio):
    with pytest.raises(NotAllowed):
        do_hand_over(org["m2"], of_owner(org["m2"]), org["m1"])
    with pytest.raises(NotAllowed):
        preview(
            actor=org["m1"], selection=Selection(), to_owner=org["m2"], options=HandoverOptions()
        )


@pytest.mark.parametrize("failing", ["UPDATE customers", "UPDATE opportunities"])
def test_failure_half_way_leaves_every_record_with_its_old_owner(org, portfolio, failing):
    """The reminders (and opportunities) move first; the failure comes after them."""

    def fail(conn, cursor, statement, *args):
        if statement.lstrip().startswith(failing):
            raise RuntimeError("disk full")

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        with pytest.raises(RuntimeError):
            do_hand_over(org["sup1"], of_owner(org["m2"]), org["m1"])
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)
    db.session.rollback()

    m2 = org["m2"].id
    assert all(owner_of(Customer, c.id) == m2 for c in portfolio["customers"])
    assert all(owner_of(Opportunity, o.id) == m2 for o in portfolio["open"])
    assert all(owner_of(Reminder, r.id) == m2 for r in portfolio["pending"])
    assert db.session.scalar(select(func.count(Handover.id))) == 0
    assert db.session.scalar(select(func.count(HandoverCustomer.id))) == 0


def test_the_same_token_hands_over_once(org, portfolio):
    first = do_hand_over(org["sup1"], of_owner(org["m2"]), org["m1"], key="same")
    db.session.commit()
    again = do_hand_over(org["sup1"], of_owner(org["m2"]), org["sup1"], key="same")
    db.session.commit()
    assert again.id == first.id
    assert db.session.scalar(select(func.count(Handover.id))) == 1
    assert owner_of(Customer, portfolio["customers"][0].id) == org["m1"].id


def test_a_change_of_what_moves_refuses_the_handover(org, portfolio, make_customer):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    seen = preview(actor=sup1, selection=of_owner(m2), to_owner=m1, options=HandoverOptions())
    added = make_customer(m2, name="Taken on meanwhile")  # now matches the selection too
    with pytest.raises(SelectionChanged):
        do_hand_over(sup1, of_owner(m2), m1, fingerprint=seen.fingerprint)
    db.session.rollback()
    assert all(owner_of(Customer, c.id) == m2.id for c in [*portfolio["customers"], added])

    again = preview(actor=sup1, selection=of_owner(m2), to_owner=m1, options=HandoverOptions())
    handover = do_hand_over(sup1, of_owner(m2), m1, fingerprint=again.fingerprint, key="t2")
    assert handover.customers_count == again.customers == 4


def test_a_customer_moved_elsewhere_meanwhile_refuses_the_handover(org, portfolio):
    sup1, m1 = org["sup1"], org["m1"]
    ids = [c.id for c in portfolio["customers"]]
    seen = preview(actor=sup1, selection=Selection(ids=ids), to_owner=m1, options=HandoverOptions())
    customer = db.session.get(Customer, ids[0])
    customer.owner = org["sup1"]  # someone handed it to the supervisor meanwhile
    db.session.commit()
    with pytest.raises(SelectionChanged):
        do_hand_over(sup1, Selection(ids=ids), m1, fingerprint=seen.fingerprint)


def test_work_added_or_edits_made_after_the_preview_do_not_refuse_it(
    org, portfolio, make_reminder, make_opportunity
):
    """Under a busy team the preview is always a little old: what hangs off the customers
    moves along at commit; only which customers move, and from whom, must be as previewed."""
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    seen = preview(actor=sup1, selection=of_owner(m2), to_owner=m1, options=HandoverOptions())
    make_reminder(portfolio["customers"][2])
    make_opportunity(portfolio["customers"][1])
    customer = db.session.get(Customer, portfolio["customers"][0].id)
    customer.notes = "edited by m2 meanwhile"
    db.session.commit()
    handover = do_hand_over(sup1, of_owner(m2), m1, fingerprint=seen.fingerprint)
    assert (handover.reminders_count, handover.opportunities_count) == (
        seen.reminders + 1,
        seen.opportunities + 1,
    )
    assert owner_of(Reminder, portfolio["pending"][0].id) == m1.id


def test_undo_hands_back_as_a_new_record(org, portfolio):
    sup1, m1, m2 = org["sup1"], org["m1"], org["m2"]
    handover = do_hand_over(sup1, of_owner(m2), m1)
    db.session.commit()
    moved_on = portfolio["customers"][2]
    do_hand_over(sup1, Selection(ids=[moved_on.id]), sup1, key="later")
    db.session.commit()

    report = undo(db.session.get(Handover, handover.id), actor=sup1)
    db.session.commit()

    assert (report.moved_back, report.moved_on) == (2, 1)
    assert owner_of(Customer, portfolio["customers"][0].id) == m2.id
    assert owner_of(Opportunity, portfolio["open"][0].id) == m2.id
    assert owner_of(Reminder, portfolio["pending"][0].id) == m2.id
    assert owner_of(Customer, moved_on.id) == sup1.id
    back = report.handovers[0]
    assert back.reverses_id == handover.id and back.to_owner_id == m2.id
    assert db.session.get(Handover, handover.id).status is HandoverStatus.UNDONE
    with pytest.raises(DomainError):
        undo(db.session.get(Handover, handover.id), actor=sup1)


def test_undo_only_within_seven_days(org, portfolio):
    handover = do_hand_over(org["sup1"], of_owner(org["m2"]), org["m1"])
    handover.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    with pytest.raises(DomainError, match="7 days"):
        undo(handover, actor=org["sup1"])
    with pytest.raises(NotAllowed):
        undo(handover, actor=org["m1"])
