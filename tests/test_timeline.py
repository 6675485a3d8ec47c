"""The customer timeline: every kind of event newest first, filters, paging, statement count."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services.activity import timeline, visits
from crm.services.archive import contacts as contact_service
from crm.services.followups import reminders as reminder_service
from crm.services.pipeline import opportunities as pipeline
from models import (
    AuditAction,
    AuditEntry,
    LostReason,
    MonthlyFigure,
    OpportunityHistory,
    ReminderStatus,
    Visit,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def manager(client, login, org):
    org["m1"].locale = "en"
    db.session.commit()
    return login(client, org["m1"])


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="北辰能源集团有限公司")


def _kinds(page: str) -> list[str]:
    return re.findall(r'data-kind="(\w+)"', page)


def _story(customer, org, make_contact):
    """A visit, an opportunity moved and lost, a contact added and a follow-up done, in order."""
    m1 = org["m1"]
    zhang = make_contact(customer, name="张总")
    visits.log_visit(
        customer,
        actor=m1,
        occurred_at=T0,
        contacts=[zhang],
        purpose="了解专线需求",
        outcome="对方有扩容计划",
    )
    opportunity = pipeline.create_opportunity(
        customer, actor=m1, title="云专线扩容", amount="300000", at=T0 + timedelta(days=1)
    )
    db.session.flush()
    stages = {s.name_en: s for s in pipeline.stages_open_to(opportunity.status, _stages())}
    pipeline.move_to_stage(
        opportunity, stages["Needs discovery"], actor=m1, at=T0 + timedelta(days=2)
    )
    pipeline.mark_lost(opportunity, actor=m1, reason=LostReason.PRICE, at=T0 + timedelta(days=3))
    db.session.commit()
    return opportunity


def _stages():
    from models import Stage

    return list(db.session.scalars(select(Stage).order_by(Stage.position)))


def test_the_page_shows_every_kind_newest_first(manager, org, customer, make_contact):
    _story(customer, org, make_contact)
    contact_service.create_contact(customer, actor=org["m1"], name="李工")
    reminder = reminder_service.create_reminder(
        customer, actor=org["m1"], due_on=date.today() + timedelta(days=2), note="回访"
    )
    db.session.commit()
    reminder_service.complete(reminder, actor=org["m1"], version=reminder.version)
    db.session.commit()

    page = manager.get(f"/customers/{customer.id}").get_data(as_text=True)

    # Newest first: the follow-up done, scheduled, the contact added (all today), then the
    # opportunity lost, moved, opened (days 3, 2, 1), then the visit (day 0).
    kinds = _kinds(page)
    assert kinds[:2] == ["reminder", "reminder"]
    assert kinds[kinds.index("stage") :] == ["stage", "stage", "stage", "visit"]
    assert "archive" in kinds[: kinds.index("stage")]
    timeline_html = page[page.index('id="history"') :]
    assert "Follow-up done" in timeline_html and "Follow-up scheduled" in timeline_html
    assert "Lost" in timeline_html and "Needs discovery" in timeline_html
    assert "张总" in timeline_html and "对方有扩容计划" in timeline_html
    assert "李工" in timeline_html
    # A visit's own audit entry is not an archive change: the visit shows once.
    assert kinds.count("visit") == 1


def _items(page: str) -> list[tuple[str, str | None, str]]:
    """(kind, link or None, text with spaces collapsed) of each timeline entry on the page."""
    timeline_html = page[
        page.index('id="timeline"') : page.index('class="d-flex gap-3 d-print-none"')
    ]
    items = []
    for entry in timeline_html.split('<li class="list-group-item')[1:]:
        kind = re.search(r'data-kind="(\w+)"', entry).group(1)
        link = re.search(r'<div><a href="([^"]+)">', entry)
        text = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(entry.split(">", 1)[1])).split())
        items.append((kind, link.group(1) if link else None, text))
    return items


def test_each_event_links_to_its_page_and_reads_in_words(manager, org, make_customer, make_contact):
    """Links are built by the page from the item's kind and id; values are put in words."""
    from crm.services.handover.transfer import HandoverOptions, Selection, hand_over

    customer = make_customer(org["sup1"], name="北辰能源集团有限公司")
    handover = hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m1"],
        options=HandoverOptions(),
        note="交接说明",
        token="timeline-links",
        expected_fingerprint=None,
    )
    db.session.commit()
    opportunity = _story(customer, org, make_contact)
    reminder = reminder_service.create_reminder(
        customer, actor=org["m1"], due_on=date.today() + timedelta(days=2), note="回访"
    )
    db.session.commit()
    visit_id = db.session.scalar(select(Visit.id).where(Visit.customer_id == customer.id))

    items = _items(manager.get(f"/customers/{customer.id}/timeline").get_data(as_text=True))

    links = {(kind, link) for kind, link, _text in items}
    assert links == {
        ("reminder", f"/reminders/{reminder.id}"),
        ("stage", f"/opportunities/{opportunity.id}"),
        ("visit", f"/visits/{visit_id}"),
        ("handover", f"/handovers/{handover.id}"),
    }
    for _kind, link, _text in items:
        assert manager.get(link).status_code == 200, link
    lost, moved, opened = [text for kind, _link, text in items if kind == "stage"]
    assert "Status: Open → Lost" in lost
    assert "Stage: Initial contact → Needs discovery" in moved
    assert "Opportunity opened: 云专线扩容" in opened
    assert "Stage: Initial contact Amount: ¥300,000" in opened and "→" not in opened
    handed = next(text for kind, _link, text in items if kind == "handover")
    assert "Handed over" in handed and f"Owner: {org['sup1'].display_name} → " in handed


def test_the_kind_filter_keeps_only_the_chosen_kinds(manager, org, customer, make_contact):
    _story(customer, org, make_contact)
    contact_service.create_contact(customer, actor=org["m1"], name="李工")
    db.session.commit()

    page = manager.get(f"/customers/{customer.id}?kinds=visit&kinds=stage").get_data(as_text=True)

    assert set(_kinds(page)) == {"visit", "stage"}
    assert "李工" not in page[page.index('id="history"') :]
    assert re.search(r'value="visit"\s+id="timeline-kind-visit" checked', page)
    assert not re.search(r'id="timeline-kind-archive" checked', page)
    comma = manager.get(f"/customers/{customer.id}?kinds=visit,stage").get_data(as_text=True)
    assert _kinds(comma) == _kinds(page)
    unknown = manager.get(f"/customers/{customer.id}?kinds=bogus").get_data(as_text=True)
    everything = manager.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert _kinds(unknown) == _kinds(everything) and len(_kinds(everything)) > len(_kinds(page))
    assert 'id="timeline-kind-archive" checked' in everything


def test_older_pages_go_on_from_the_oldest_item_shown(org, customer, make_visit):
    for day in range(7):
        make_visit(customer, occurred_at=T0 + timedelta(days=day), purpose=f"第{day}次")

    first = timeline.customer_timeline(customer, kinds=["visit"], limit=3)
    second = timeline.customer_timeline(customer, kinds=["visit"], limit=3, before=first.older)
    third = timeline.customer_timeline(customer, kinds=["visit"], limit=3, before=second.older)

    days = [[item.at.day for item in page.items] for page in (first, second, third)]
    assert days == [[8, 7, 6], [5, 4, 3], [2]]
    assert third.older is None
    assert timeline.parse_before(first.older.isoformat()) == first.older
    # A "+" in a URL arrives as a space.
    assert timeline.parse_before("2026-03-02T09:00:00 08:00") == T0
    assert timeline.parse_before("not a date") is None


def _link(page: str, link_id: str) -> str:
    return html.unescape(re.search(rf'href="([^"]+)#history" id="{link_id}"', page).group(1))


def _purposes(page: str) -> list[str]:
    return re.findall(r"Purpose:</span>\s*(p\d+)</li>", page)


def test_the_customer_page_shows_the_newest_few_and_more_opens_the_rest(
    manager, org, customer, make_visit
):
    for hour in range(100):
        make_visit(customer, occurred_at=T0 + timedelta(hours=hour), purpose=f"p{hour}")
    newest_first = [f"p{hour}" for hour in range(99, -1, -1)]

    page = manager.get(f"/customers/{customer.id}?kinds=visit").get_data(as_text=True)
    assert _purposes(page) == newest_first[: timeline.LATEST]
    assert 'id="timeline-older"' not in page
    more = _link(page, "timeline-more")
    assert more.startswith(f"/customers/{customer.id}/timeline?") and "kinds=visit" in more

    rest = manager.get(more).get_data(as_text=True)  # the full timeline goes on from there
    assert _purposes(rest) == newest_first[timeline.LATEST : timeline.LATEST + timeline.PAGE_SIZE]
    assert 'id="timeline-more"' not in rest and 'id="timeline-newest"' in rest
    last = manager.get(_link(rest, "timeline-older")).get_data(as_text=True)
    assert _purposes(last) == newest_first[timeline.LATEST + timeline.PAGE_SIZE :]
    assert 'id="timeline-older"' not in last
    newest = manager.get(_link(last, "timeline-newest")).get_data(as_text=True)
    assert _purposes(newest) == newest_first[:50]


def test_the_full_timeline_of_a_customer_out_of_scope_is_404(client, login, org, customer):
    login(client, org["m2"])
    assert client.get(f"/customers/{customer.id}/timeline").status_code == 404
    assert client.get(f"/customers/{customer.id}/timeline?kinds=visit").status_code == 404


def test_items_sharing_the_boundary_instant_stay_together(org, customer, make_visit):
    for _ in range(3):
        make_visit(customer, occurred_at=T0)
    make_visit(customer, occurred_at=T0 - timedelta(days=1))

    first = timeline.customer_timeline(customer, kinds=["visit"], limit=2)

    assert len(first.items) == 3 and first.older == T0
    rest = timeline.customer_timeline(customer, kinds=["visit"], limit=2, before=first.older)
    assert len(rest.items) == 1


def test_only_this_customers_events_are_shown(manager, org, customer, make_customer, make_visit):
    other = make_customer(org["m1"], name="远航港务集团有限公司")
    make_visit(other, purpose="别家的拜访")
    make_visit(customer, purpose="本客户的拜访")

    page = manager.get(f"/customers/{customer.id}").get_data(as_text=True)

    assert "本客户的拜访" in page and "别家的拜访" not in page


def test_out_of_scope_customers_timeline_is_404(client, login, org, customer):
    assert login(client, org["m3"]).get(f"/customers/{customer.id}?kinds=visit").status_code == 404


def _rows(org, customer, make_contact, make_visit, make_opportunity, make_reminder, n):
    contact = make_contact(customer)
    opportunity = make_opportunity(customer)
    for number in range(n):
        at = T0 + timedelta(hours=number)
        visit = make_visit(customer, occurred_at=at, purpose=f"p{number}", opportunity=opportunity)
        visit.contacts.append(contact)
        db.session.add(
            OpportunityHistory(
                opportunity=opportunity,
                at=at,
                actor=org["m1"],
                stage=opportunity.stage,
                status=opportunity.status,
                probability=10,
                changes={"probability": [number, 10]},
            )
        )
        db.session.add(
            AuditEntry(
                customer_id=customer.id,
                entity_type="contacts",
                entity_id=contact.id,
                entity_label=contact.name,
                action=AuditAction.UPDATE,
                changes={"reports_to_id": [None, contact.id], "role": ["user", "influencer"]},
                actor_id=org["m1"].id,
                created_at=at,
            )
        )
        make_reminder(
            customer,
            due_at=at,
            note=f"r{number}",
            status=ReminderStatus.DONE,
            completed_at=at,
            created_at=at,
        )
    db.session.commit()


def test_statements_do_not_grow_with_items(
    app,
    manager,
    org,
    make_customer,
    make_contact,
    make_visit,
    make_opportunity,
    make_reminder,
    count_queries,
):
    counts, full_counts = [], []
    for n in (5, 50):
        customer = make_customer(org["m1"])
        _rows(org, customer, make_contact, make_visit, make_opportunity, make_reminder, n)
        for month in (date(2026, 4, 1), date(2026, 5, 1)):  # the figures line has two months
            db.session.add(MonthlyFigure(customer_id=customer.id, month=month, revenue=n))
        db.session.commit()
        url = f"/customers/{customer.id}"
        # A context of its own: the request's session starts empty, as in production (the
        # test's session would hold the customer already).
        with app.app_context(), count_queries() as statements:
            page = manager.get(url).get_data(as_text=True)
        # Five events an instant, and an instant is never split between pages.
        assert len(_kinds(page)) == -(-timeline.LATEST // 5) * 5
        counts.append(len(statements))
        shown = list(statements)
        db.session.expire_all()
        with count_queries() as statements:
            page = manager.get(f"/customers/{customer.id}/timeline").get_data(as_text=True)
        assert len(_kinds(page)) == min(5 * n, 50)
        full_counts.append(len(statements))
    # Every source and panel of the customer page has something to show: the ceiling holds.
    assert counts[0] == counts[1] <= 15, "\n".join(statement[:150] for statement in shown)
    assert full_counts[0] == full_counts[1], full_counts
