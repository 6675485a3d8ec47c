"""An opportunity's next-step date keeps one pending follow-up reminder for its owner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.pipeline import opportunities as pipeline
from models import LostReason, Reminder, ReminderSource, ReminderStatus

DAY = date(2030, 5, 6)


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"])


def _reminders(opportunity) -> list[Reminder]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Reminder).where(Reminder.opportunity_id == opportunity.id).order_by(Reminder.id)
        )
    )


def _create(customer, org, **fields):
    opportunity = pipeline.create_opportunity(
        customer, actor=org["m1"], title="5G专网", amount="800000", **fields
    )
    db.session.commit()
    return opportunity


def _update(opportunity, org, actor="m1", **fields):
    pipeline.update_opportunity(
        opportunity, actor=org[actor], version=opportunity.version, **fields
    )
    db.session.commit()


def test_creating_with_a_next_step_date_schedules_one_reminder_for_the_owner(customer, org):
    opportunity = _create(customer, org, next_step="送方案给信息中心", next_step_on=DAY)

    [reminder] = _reminders(opportunity)
    assert reminder.owner_id == org["m1"].id and reminder.customer_id == customer.id
    assert reminder.source is ReminderSource.OPPORTUNITY
    assert (reminder.due_on, reminder.status) == (DAY, ReminderStatus.PENDING)
    assert reminder.note == "送方案给信息中心"


def test_no_date_no_reminder_and_a_later_date_schedules_one(customer, org):
    opportunity = _create(customer, org, next_step="约见CIO")
    assert _reminders(opportunity) == []

    _update(opportunity, org, next_step_on=DAY)

    [reminder] = _reminders(opportunity)
    assert reminder.due_on == DAY and reminder.note == "约见CIO"


def test_changing_the_date_or_step_moves_the_pending_reminder(customer, org):
    opportunity = _create(customer, org, next_step="报价", next_step_on=DAY)

    _update(opportunity, org, next_step_on=DAY + timedelta(days=3), next_step="二次报价")
    _update(opportunity, org, amount="900000")  # other fields leave the reminder alone

    [reminder] = _reminders(opportunity)
    assert (reminder.due_on, reminder.note) == (DAY + timedelta(days=3), "二次报价")
    assert reminder.status is ReminderStatus.PENDING


def test_clearing_the_date_cancels_the_pending_reminder(customer, org):
    opportunity = _create(customer, org, next_step="报价", next_step_on=DAY)

    _update(opportunity, org, next_step_on=None)

    assert _reminders(opportunity) == []


def test_a_done_reminder_stays_and_a_new_date_schedules_a_new_one(customer, org):
    opportunity = _create(customer, org, next_step="报价", next_step_on=DAY)
    [done] = _reminders(opportunity)
    done.status = ReminderStatus.DONE
    db.session.commit()

    _update(opportunity, org, next_step_on=DAY + timedelta(days=7))

    first, second = _reminders(opportunity)
    assert (first.status, first.due_on) == (ReminderStatus.DONE, DAY)
    assert (second.status, second.due_on) == (ReminderStatus.PENDING, DAY + timedelta(days=7))


def test_a_new_owner_gets_the_reminder(customer, org):
    opportunity = _create(customer, org, next_step="报价", next_step_on=DAY)

    _update(opportunity, org, actor="sup1", owner=org["m2"])

    [reminder] = _reminders(opportunity)
    assert reminder.owner_id == org["m2"].id and reminder.status is ReminderStatus.PENDING


def test_losing_dismisses_the_pending_reminder_and_keeps_done_ones(customer, org):
    opportunity = _create(customer, org, next_step="报价", next_step_on=DAY)
    [done] = _reminders(opportunity)
    done.status = ReminderStatus.DONE
    db.session.commit()
    _update(opportunity, org, next_step_on=DAY + timedelta(days=1))

    pipeline.mark_lost(opportunity, actor=org["m1"], reason=LostReason.PRICE)
    db.session.commit()

    assert [r.status for r in _reminders(opportunity)] == [
        ReminderStatus.DONE,
        ReminderStatus.DISMISSED,
    ]


def test_winning_keeps_the_next_step_for_delivery(customer, org, stages):
    opportunity = _create(customer, org, next_step="签约后下单", next_step_on=DAY)
    pipeline.move_to_stage(opportunity, stages["Contract"], actor=org["m1"])
    pipeline.mark_won(opportunity, actor=org["m1"], contract_date=DAY, amount="800000")
    db.session.commit()

    [reminder] = _reminders(opportunity)
    assert reminder.status is ReminderStatus.PENDING


def test_editing_on_the_page_schedules_the_reminder(client, login, org, customer):
    opportunity = _create(customer, org)
    response = login(client, org["m1"]).post(
        f"/opportunities/{opportunity.id}/edit",
        data={
            "title": "5G专网",
            "amount": "800000",
            "probability": "10",
            "owner_id": str(org["m1"].id),
            "next_step": "现场演示",
            "next_step_on": DAY.isoformat(),
            "version": str(opportunity.version),
        },
    )

    assert response.status_code == 302
    [reminder] = _reminders(opportunity)
    assert (reminder.due_on, reminder.note) == (DAY, "现场演示")
