"""Lost customers: marking one lost asks why and to whom (validation, scope, CSRF), winning
one back, and the competitor it went to (tests/test_lost_this_quarter.py: the home's list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from crm.extensions import db
from crm.services.archive import competitors as competitor_service
from crm.services.archive import customers as customer_service
from crm.services.archive import loss
from crm.services.errors import DomainError
from models import AuditEntry, CustomerStatus, LossReason

NOW = datetime.now(UTC)


@pytest.fixture
def en(org):
    for person in org.values():
        if hasattr(person, "locale"):
            person.locale = "en"
    db.session.commit()
    return org


def reloaded(customer):
    db.session.expire_all()
    return db.session.get(type(customer), customer.id)


# Marking a customer lost ---------------------------------------------------------------


def test_marking_lost_asks_why_and_to_whom(client, login, en, make_customer, make_competitor):
    customer = make_customer(en["m1"], status=CustomerStatus.ACTIVE)
    rival = make_competitor(name="联通政企")
    login(client, en["m1"])

    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="mark-lost"' in page
    form = client.get(f"/customers/{customer.id}/lost")
    assert form.status_code == 200 and "联通政企" in form.get_data(as_text=True)

    no_reason = client.post(
        f"/customers/{customer.id}/lost", data={"reason": "", "version": customer.version}
    )
    assert no_reason.status_code == 400
    assert "This field is required" in no_reason.get_data(as_text=True)
    to_nobody = client.post(
        f"/customers/{customer.id}/lost",
        data={"reason": "competitor", "competitor_id": 0, "version": customer.version},
    )
    assert to_nobody.status_code == 400
    assert "Choose the competitor the customer went to." in to_nobody.get_data(as_text=True)
    assert reloaded(customer).status is CustomerStatus.ACTIVE

    done = client.post(
        f"/customers/{customer.id}/lost",
        data={
            "reason": "competitor",
            "competitor_id": rival.id,
            "note": "对方报价低两成",
            "version": customer.version,
        },
    )

    assert done.status_code == 302
    lost = reloaded(customer)
    assert lost.status is CustomerStatus.LOST and lost.lost_reason is LossReason.COMPETITOR
    assert lost.lost_to_id == rival.id and lost.lost_note == "对方报价低两成"
    assert abs(lost.lost_at - datetime.now(UTC)) < timedelta(minutes=1)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.customer_id == customer.id)
    ).one()
    assert entry.changes["status"] == ["active", "lost"]
    assert entry.changes["lost_reason"] == [None, "competitor"]
    shown = client.get(done.location).get_data(as_text=True)
    assert 'id="customer-lost"' in shown and "went to 联通政企" in shown
    assert 'id="mark-lost"' not in shown
    timeline = " ".join(
        client.get(f"/customers/{customer.id}/timeline").get_data(as_text=True).split()
    )
    assert "Why was the customer lost?:</span> — → Competitor</li>" in timeline
    assert "Went to competitor:</span> — → 联通政企</li>" in timeline


def test_correcting_the_reason_keeps_the_day_it_was_lost(en, make_customer):
    customer = make_customer(en["m1"])
    loss.mark_lost(
        customer, actor=en["m1"], reason="price", version=customer.version, at=NOW - timedelta(3)
    )
    db.session.commit()
    loss.mark_lost(customer, actor=en["m1"], reason="moved", version=customer.version)
    db.session.commit()
    lost = reloaded(customer)
    assert (
        lost.lost_reason is LossReason.MOVED and lost.lost_at.date() == (NOW - timedelta(3)).date()
    )


def test_a_stale_form_and_a_retired_competitor_are_refused(
    client, login, en, make_customer, make_competitor
):
    customer = make_customer(en["m1"])
    retired = make_competitor(active=False)
    with pytest.raises(DomainError) as error:
        loss.mark_lost(customer, actor=en["m1"], reason="competitor", competitor=retired, version=1)
    assert error.value.field == "competitor_id"
    login(client, en["m1"])
    stale = client.post(
        f"/customers/{customer.id}/lost",
        data={"reason": "price", "version": customer.version - 1},
    )
    assert stale.status_code == 409 and 'id="stale-warning"' in stale.get_data(as_text=True)
    assert reloaded(customer).status is not CustomerStatus.LOST


@pytest.mark.parametrize("persona", ["m2", "m3", "sup2"])
def test_out_of_scope_the_form_is_not_found_and_nothing_changes(
    client, login, en, make_customer, persona
):
    customer = make_customer(en["m1"])
    login(client, en[persona])
    assert client.get(f"/customers/{customer.id}/lost").status_code == 404
    response = client.post(
        f"/customers/{customer.id}/lost", data={"reason": "price", "version": customer.version}
    )
    assert response.status_code == 404
    assert reloaded(customer).status is not CustomerStatus.LOST


def test_the_supervisor_may_mark_the_teams_customer_lost(client, login, en, make_customer):
    customer = make_customer(en["m1"])
    login(client, en["sup1"])
    response = client.post(
        f"/customers/{customer.id}/lost", data={"reason": "closed", "version": customer.version}
    )
    assert response.status_code == 302
    assert reloaded(customer).lost_reason is LossReason.CLOSED


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_marking_lost_needs_the_forms_token(client, login, en, make_customer):
    customer = make_customer(en["m1"])
    login(client, en["m1"])
    response = client.post(
        f"/customers/{customer.id}/lost", data={"reason": "price", "version": customer.version}
    )
    assert response.status_code == 400
    assert reloaded(customer).status is not CustomerStatus.LOST


def test_the_profile_form_cannot_mark_lost_but_winning_back_clears_the_loss(en, make_customer):
    customer = make_customer(en["m1"], status=CustomerStatus.ACTIVE)
    with pytest.raises(DomainError) as refused:
        customer_service.update_customer(
            customer, actor=en["m1"], version=customer.version, status=CustomerStatus.LOST
        )
    assert refused.value.field == "status"
    with pytest.raises(DomainError):
        customer_service.create_customer(actor=en["m1"], name="新客户", status="lost")
    db.session.rollback()

    loss.mark_lost(customer, actor=en["m1"], reason="price", version=customer.version)
    db.session.commit()
    customer_service.update_customer(
        customer, actor=en["m1"], version=customer.version, status=CustomerStatus.ACTIVE
    )
    db.session.commit()
    back = reloaded(customer)
    assert back.status is CustomerStatus.ACTIVE
    assert (back.lost_reason, back.lost_at, back.lost_to_id) == (None, None, None)
    latest = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.customer_id == customer.id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert latest.changes["lost_reason"] == ["price", None]


def test_a_competitor_customers_were_lost_to_cannot_be_deleted(en, make_customer, make_competitor):
    rival = make_competitor()
    customer = make_customer(en["m1"])
    loss.mark_lost(
        customer, actor=en["m1"], reason="competitor", competitor=rival, version=customer.version
    )
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        competitor_service.delete_competitor(rival, actor=en["admin"])
    with force_locale("en"):
        assert "1 lost customers went to" in str(refused.value.message)
