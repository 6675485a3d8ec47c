"""In-app notices: the bell's count, the list in the reader's language, reading them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.activity import comments as comment_service
from crm.services.notices import inbox
from crm.services.plans import lifecycle
from models import Notice, NoticeKind, PlanKind, PlanStatus, PlanTask, WorkPlan


@pytest.fixture
def visit(org, make_customer, make_visit):
    return make_visit(make_customer(org["m1"], name="华东电力集团"))


def comment(visit, actor, body="Good visit"):
    made = comment_service.add_comment(visit, actor=actor, body=body)
    db.session.commit()
    return made


def unread(user) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(Notice.id)).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    )


def bell(html: str) -> str | None:
    marker = 'id="unread-count">'
    return html.split(marker)[1].split("<")[0] if marker in html else None


def test_the_bell_counts_unread_notices_and_costs_no_statement(
    client, login, org, visit, count_queries
):
    login(client, org["m1"])

    def home() -> tuple[int, str]:
        db.session.expire_all()
        with count_queries() as statements:
            html = client.get("/").get_data(as_text=True)
        # The count rides on the sign-in's statement; no statement of the bell's own.
        bells = [s for s in statements if "notices" in s]
        assert len(bells) == 1 and "user_sessions" in bells[0], bells
        return len(statements), html

    before, html = home()
    assert bell(html) is None
    comment(visit, org["sup1"])
    comment(visit, org["admin"])
    after, html = home()
    assert bell(html) == "2"
    assert after == before  # loaded with the sign-in: no statement of its own


def test_the_bell_stops_counting_at_99(client, login, org):
    db.session.add_all(
        Notice(user_id=org["m1"].id, kind=NoticeKind.VISIT_COMMENT) for _ in range(101)
    )
    db.session.commit()
    login(client, org["m1"])
    db.session.expire_all()
    assert bell(client.get("/").get_data(as_text=True)) == "99+"
    assert inbox.unread_count(org["m1"]) == inbox.UNREAD_SHOWN + 1


def test_the_list_reads_in_the_readers_language_newest_first(client, login, org, visit):
    m1 = org["m1"]
    plan = WorkPlan(
        owner=m1,
        kind=PlanKind.WEEK,
        starts_on=datetime(2026, 11, 30).date(),
        status=PlanStatus.SUBMITTED,
        first_submitted_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    plan.tasks.append(PlanTask(text="x"))
    db.session.add(plan)
    db.session.commit()
    comment(visit, org["sup1"])
    lifecycle.return_for_revision(plan, actor=org["sup1"], reason="更多拜访")
    db.session.commit()
    login(client, m1)  # Chinese

    html = client.get("/notices/").get_data(as_text=True)
    assert html.index("Sup1退回了您的计划，请修改：周计划 2026-W49") < html.index(
        "Sup1点评了您对华东电力集团的拜访"
    )
    m1.locale = "en"
    db.session.commit()
    html = client.get("/notices/").get_data(as_text=True)
    assert "Sup1 returned your plan for revision: Weekly plan 2026-W49" in html
    assert "Sup1 commented on your visit to 华东电力集团" in html


def test_reading_a_notice_goes_to_its_record(client, login, org, visit):
    comment(visit, org["sup1"])
    notice = db.session.scalars(select(Notice)).one()
    login(client, org["m1"])

    response = client.post(f"/notices/{notice.id}/read")

    assert response.status_code == 302
    assert response.location.endswith(f"/visits/{visit.id}")
    assert unread(org["m1"]) == 0
    assert client.post(f"/notices/{notice.id}/read").status_code == 302  # again: no change


def test_read_all_marks_only_the_readers_own(client, login, org, visit):
    comment(visit, org["sup1"])
    comment(visit, org["m1"], "Reply")  # tells sup1
    login(client, org["m1"])

    response = client.post("/notices/read-all")

    assert response.status_code == 302 and response.location.endswith("/notices/")
    assert unread(org["m1"]) == 0
    assert unread(org["sup1"]) == 1


@pytest.mark.parametrize("who", ["m2", "sup1", "admin"])
def test_another_users_notice_is_404_even_for_an_admin(client, login, org, visit, who):
    comment(visit, org["admin"] if who == "sup1" else org["sup1"])
    notice = db.session.scalars(select(Notice).where(Notice.user_id == org["m1"].id)).one()
    login(client, org[who])
    assert client.post(f"/notices/{notice.id}/read").status_code == 404
    assert unread(org["m1"]) == 1
    assert "华东电力集团" not in client.get("/notices/").get_data(as_text=True)


def test_the_list_pages_and_its_statements_do_not_grow(client, login, org, visit, count_queries):
    login(client, org["m1"])

    def count() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get("/notices/").status_code == 200
        return len(statements)

    comment(visit, org["sup1"])
    few = count()
    for i in range(60):
        comment(visit, org["sup1"] if i % 2 else org["admin"], f"Comment {i}")
    assert count() == few
    html = client.get("/notices/?page=2").get_data(as_text=True)
    assert html.count("data-notice=") == 11  # 61 notices, 50 a page


def test_marking_read_keeps_the_first_reading(org, visit):
    comment(visit, org["sup1"])
    notice = db.session.scalars(select(Notice)).one()
    first = datetime(2026, 12, 1, tzinfo=UTC)
    inbox.mark_read(notice, actor=org["m1"], now=first)
    inbox.mark_read(notice, actor=org["m1"], now=first + timedelta(days=1))
    assert notice.read_at == first


def test_a_visit_handed_over_since_is_not_named_and_its_notice_leads_to_the_list(
    client, login, org, visit
):
    comment(visit, org["sup1"])
    visit.customer.owner = org["m3"]  # handed over to the other team since
    db.session.commit()
    notice = db.session.scalars(select(Notice)).one()
    login(client, org["m1"])

    html = client.get("/notices/").get_data(as_text=True)
    assert "华东电力集团" not in html
    assert "Sup1点评了一次已不在您范围内的拜访" in html
    response = client.post(f"/notices/{notice.id}/read")
    assert response.location.endswith("/notices/")
