"""Two saves of one record at once: the later one is refused with 409 and a message, never 500.

The race is made deterministic: the colleague's save commits after the request read
the record (and passed its version check) but before the request writes it. On
PostgreSQL the colleague writes through a connection of its own and commits, as a
second web worker would; the in-memory SQLite database has one connection, so there it
writes through the request's own, which the request's UPDATE sees the same way.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from crm.extensions import db
from models import (
    AuditAction,
    AuditEntry,
    CompetitorProfile,
    Opportunity,
    Reminder,
    ReminderSource,
    ReminderStatus,
)


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    with force_locale("en"):
        yield org


def on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def updates_logged(entity_type: str) -> int:
    return db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.entity_type == entity_type, AuditEntry.action == AuditAction.UPDATE
        )
    )


@contextmanager
def colleague_saves_first(statement, record_class):
    """Run `statement` as another user's committed save just before the request writes
    its change to (or deletes) a `record_class` row (after it read the row and checked
    its version)."""

    done = []

    def before_flush(session, flush_context, instances):
        written = [*session.dirty, *session.deleted]
        if done or not any(isinstance(record, record_class) for record in written):
            return
        done.append(True)
        if on_postgresql():
            with db.engine.connect() as other:
                other.execute(statement)
                other.commit()
        else:
            session.connection().execute(statement)

    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert done, "the request wrote no such record"


def close_by_colleague(reminder_id: int):
    return (
        update(Reminder)
        .where(Reminder.id == reminder_id)
        .values(status=ReminderStatus.DONE, version=Reminder.version + 1)
    )


@pytest.mark.parametrize("action", ["done", "dismiss"])
def test_closing_a_follow_up_twice_at_once_answers_409(
    client, login, english, make_customer, make_reminder, action
):
    customer = make_customer(english["m1"])
    reminder = make_reminder(customer, note="Call the CFO")
    login(client, english["m1"])

    with colleague_saves_first(close_by_colleague(reminder.id), Reminder):
        response = client.post(
            f"/reminders/{reminder.id}/{action}", data={"version": 1, "confirmed": "1"}
        )

    assert response.status_code == 409
    assert "Someone else changed this follow-up" in response.get_data(as_text=True)
    assert not updates_logged("reminders")  # the refused close left no trace
    if on_postgresql():
        db.session.expire_all()
        stored = db.session.get(Reminder, reminder.id)
        assert (stored.status, stored.version) == (ReminderStatus.DONE, 2)  # the colleague's


def test_saving_a_competitor_profile_twice_at_once_answers_409(
    client, login, english, make_customer, make_profile
):
    customer = make_customer(english["m1"])
    profile = make_profile(customer, offer="Original")
    login(client, english["m1"])
    colleague = (
        update(CompetitorProfile)
        .where(CompetitorProfile.id == profile.id)
        .values(offer="Colleague's offer", version=CompetitorProfile.version + 1)
    )

    with colleague_saves_first(colleague, CompetitorProfile):
        response = client.post(
            f"/competitors/profiles/{profile.id}/edit",
            data={
                "threat": "high",
                "offer": "My offer",
                "confirmed_on": date.today().isoformat(),
                "version": "1",
            },
        )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this record" in page
    assert 'id="stale-values"' in page and "My offer" in page  # beside the stored values
    assert not updates_logged("competitor_profiles")
    if on_postgresql():
        assert "Colleague&#39;s offer" in page
        db.session.expire_all()
        assert db.session.get(CompetitorProfile, profile.id).offer == "Colleague's offer"


def test_a_race_no_service_catches_is_409_not_500(
    client, login, english, make_customer, make_opportunity, make_reminder
):
    """Losing an opportunity dismisses its next step; a colleague closed that step meanwhile."""
    customer = make_customer(english["m1"])
    opportunity = make_opportunity(customer)
    step = make_reminder(
        customer, opportunity=opportunity, source=ReminderSource.OPPORTUNITY, note="Demo"
    )
    login(client, english["m1"])
    version = db.session.get(Opportunity, opportunity.id).version

    with colleague_saves_first(close_by_colleague(step.id), Reminder):
        response = client.post(
            f"/opportunities/{opportunity.id}/lost",
            data={"reason": "price", "version": str(version)},
        )

    assert response.status_code == 409
    assert "Nothing of your change was saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).status.value == "open"


def test_deleting_a_profile_a_colleague_just_changed_is_refused_not_500(
    client, login, english, make_customer, make_profile
):
    """Only SQLAlchemy's version check at the flush notices this race (StaleDataError)."""
    customer = make_customer(english["m1"])
    profile = make_profile(customer, offer="Original")
    login(client, english["m1"])
    colleague = (
        update(CompetitorProfile)
        .where(CompetitorProfile.id == profile.id)
        .values(offer="Colleague's offer", version=CompetitorProfile.version + 1)
    )

    with colleague_saves_first(colleague, CompetitorProfile):
        response = client.post(
            f"/competitors/profiles/{profile.id}/delete", data={"confirmed": "1"}
        )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{customer.id}#competition")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else saved this record" in page
    assert "is deleted" not in page
    db.session.expire_all()
    assert db.session.get(CompetitorProfile, profile.id) is not None  # nothing was deleted
