"""The customer page as the hub: its opportunities, its pending follow-ups, a new opportunity."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from models import Opportunity, OpportunityStatus, ReminderStatus


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _ids(page: str, prefix: str) -> list[int]:
    return [int(i) for i in re.findall(rf'id="{prefix}-(\d+)"', page)]


def test_the_customer_page_lists_its_opportunities_open_first(
    client, login, english, make_customer, make_opportunity, stages
):
    customer = make_customer(english["m1"], name="北辰能源集团有限公司")
    lost = make_opportunity(customer, title="旧机房改造", status=OpportunityStatus.LOST)
    won = make_opportunity(customer, "Contract", title="专线扩容", status=OpportunityStatus.WON)
    open_one = make_opportunity(
        customer, "Proposal", title="智慧园区5G专网", amount=Decimal("880000")
    )
    elsewhere = make_opportunity(make_customer(english["m1"]), title="别家的商机")

    login(client, english["m1"])
    box = _section(
        client.get(f"/customers/{customer.id}").get_data(as_text=True), "customer-opportunities"
    )

    assert _ids(box, "customer-opportunity") == [open_one.id, won.id, lost.id]
    assert elsewhere.title not in box
    row = box[box.index(f'id="customer-opportunity-{open_one.id}"') :]
    row = row[: row.index("</li>")]
    assert f'href="/opportunities/{open_one.id}"' in row
    assert "智慧园区5G专网" in row and "880,000" in row and "Proposal" in row and "Open" in row
    assert 'id="all-opportunities"' not in box  # all of them are shown


def test_the_customer_page_lists_its_pending_follow_ups_in_the_viewers_scope(
    client, login, english, make_customer, make_reminder
):
    customer = make_customer(english["m1"])
    now = datetime.now(UTC)
    later = make_reminder(customer, due_at=now + timedelta(days=40), note="带方案上门")
    sooner = make_reminder(customer, due_at=now + timedelta(days=2), note="确认预算")
    done = make_reminder(customer, status=ReminderStatus.DONE, note="已完成的")
    # A teammate's follow-up on m1's customer (left behind by a handover, say): m1 may not
    # open it, their supervisor may.
    teammates = make_reminder(customer, owner=english["m2"], note="同事的跟进")
    make_reminder(make_customer(english["m1"]), note="别家的跟进")

    login(client, english["m1"])
    box = _section(
        client.get(f"/customers/{customer.id}").get_data(as_text=True), "customer-follow-ups"
    )
    assert _ids(box, "customer-follow-up") == [sooner.id, later.id]
    assert f'href="/reminders/{sooner.id}"' in box and "确认预算" in box
    assert f'href="/reminders/new?customer_id={customer.id}"' in box
    for absent in ("已完成的", "同事的跟进", "别家的跟进"):
        assert absent not in box
    assert done.id not in _ids(box, "customer-follow-up")

    login(client, english["sup1"])
    box = _section(
        client.get(f"/customers/{customer.id}").get_data(as_text=True), "customer-follow-ups"
    )
    assert set(_ids(box, "customer-follow-up")) == {sooner.id, later.id, teammates.id}


def test_new_opportunity_from_the_customer_page_is_made_on_that_customer(
    client, login, english, make_customer, stages
):
    customer = make_customer(english["m1"], name="远航港务集团有限公司")
    login(client, english["m1"])
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]+)" id="new-opportunity"', page)[1])
    assert link == f"/opportunities/new?customer_id={customer.id}"

    form = client.get(link).get_data(as_text=True)
    assert "New opportunity for 远航港务集团有限公司" in form
    # The owner starts as the customer's owner.
    assert re.search(
        rf'<option selected value="{english["m1"].id}"|<option value="{english["m1"].id}" selected',
        form,
    )

    response = client.post(
        link,
        data={"title": "港区视频监控", "stage_id": stages["Initial contact"].id,
              "owner_id": english["m1"].id, "amount": "120000"},
    )  # fmt: skip
    assert response.status_code == 302
    made = db.session.scalar(select(Opportunity).where(Opportunity.title == "港区视频监控"))
    assert made.customer_id == customer.id
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert _ids(_section(page, "customer-opportunities"), "customer-opportunity") == [made.id]


def test_new_opportunity_for_another_teams_customer_is_404_and_makes_nothing(
    client, login, english, make_customer, stages
):
    theirs = make_customer(english["m3"])
    login(client, english["m1"])
    assert client.get(f"/opportunities/new?customer_id={theirs.id}").status_code == 404
    response = client.post(
        f"/opportunities/new?customer_id={theirs.id}",
        data={"title": "越权商机", "stage_id": stages["Initial contact"].id,
              "owner_id": english["m1"].id},
    )  # fmt: skip
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Opportunity.id))) == 0
    # The other team's supervisor is refused the same way.
    login(client, english["sup1"])
    assert client.get(f"/opportunities/new?customer_id={theirs.id}").status_code == 404


def test_the_hub_lists_are_bounded_and_their_statements_do_not_grow(
    client, login, english, make_customer, make_opportunity, make_reminder, count_queries
):
    login(client, english["sup1"])
    counts = []
    for n in (2, 25):
        customer = make_customer(english["m1"])
        for number in range(n):
            make_opportunity(
                customer, "Proposal", amount=Decimal(number), expected_close=date(2027, 1, 1)
            )
            make_reminder(
                customer, due_at=datetime.now(UTC) + timedelta(days=number), note=f"r{number}"
            )
        db.session.expire_all()
        with count_queries() as statements:
            page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert len(_ids(_section(page, "customer-opportunities"), "customer-opportunity")) == 10
    assert len(_ids(_section(page, "customer-follow-ups"), "customer-follow-up")) == 10
    everything = html.unescape(re.search(r'href="([^"]+)" id="all-opportunities"', page)[1])
    assert f"customer={customer.id}" in everything and "status=all" in everything
    assert 'id="more-follow-ups"' in page
