"""Comments on a visit (点评): who writes, the thread on the visit's page, the work log's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.activity import comments as comment_service
from crm.services.errors import DomainError, NotAllowed, NotFound
from models import MessageKind, Notice, NoticeKind, OutboxMessage, VisitComment


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


@pytest.fixture
def visit(org, make_customer, make_visit):
    """A visit of m1 (Team One, led by sup1) to their own customer."""
    return make_visit(make_customer(org["m1"], name="华东电力集团"))


def notices_of(user) -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice).where(Notice.user_id == user.id)))


def test_the_supervisor_comments_and_the_manager_is_told(org, visit):
    comment = comment_service.add_comment(visit, actor=org["sup1"], body="  拜访记录很详细  ")
    db.session.commit()

    assert comment.body == "拜访记录很详细"
    [notice] = notices_of(org["m1"])
    assert (notice.kind, notice.visit_id, notice.actor_id) == (
        NoticeKind.VISIT_COMMENT,
        visit.id,
        org["sup1"].id,
    )
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.kind, message.recipient_id) == (MessageKind.VISIT_COMMENT, org["m1"].id)
    assert message.key == f"visit_comment:{comment.id}:{org['m1'].id}"
    assert "拜访记录很详细" in message.body_text


def test_an_admin_comments_too(org, visit):
    comment_service.add_comment(visit, actor=org["admin"], body="Good")
    assert len(notices_of(org["m1"])) == 1


@pytest.mark.parametrize("who", ["sup2", "m2", "m3"])
def test_others_cannot_see_the_visit_to_comment(org, visit, who):
    with pytest.raises(NotFound):
        comment_service.add_comment(visit, actor=org[who], body="x")


def test_a_supervisor_of_another_team_who_sees_the_customer_may_not_comment(
    org, make_customer, make_visit
):
    # sup2's own customer, visited by m1 (say, before a handover): in sup2's scope, but
    # m1 is not sup2's manager.
    visit = make_visit(make_customer(org["sup2"]), user=org["m1"])
    with pytest.raises(NotAllowed):
        comment_service.add_comment(visit, actor=org["sup2"], body="x")


def test_the_manager_only_replies(org, visit):
    with pytest.raises(NotAllowed):
        comment_service.add_comment(visit, actor=org["m1"], body="My own note")
    comment_service.add_comment(visit, actor=org["sup1"], body="Why no decision maker?")
    db.session.commit()

    comment_service.add_comment(visit, actor=org["m1"], body="Meeting him next week")
    db.session.commit()

    [reply_notice] = notices_of(org["sup1"])  # the supervisor hears of the reply
    assert reply_notice.kind is NoticeKind.VISIT_COMMENT
    assert len(notices_of(org["m1"])) == 1  # not told of their own reply
    keys = set(db.session.scalars(select(OutboxMessage.key)))
    assert len(keys) == 2


@pytest.mark.parametrize("body", ["", "   ", "x" * (comment_service.BODY_LIMIT + 1)])
def test_a_comment_needs_a_body_within_the_limit(org, visit, body):
    with pytest.raises(DomainError) as refused:
        comment_service.add_comment(visit, actor=org["sup1"], body=body)
    assert refused.value.field == "body"
    assert db.session.scalar(select(func.count(VisitComment.id))) == 0
    assert notices_of(org["m1"]) == []


# The page ----------------------------------------------------------------------------


def test_the_thread_shows_on_the_visit_page_with_the_form_for_the_supervisor(
    client, login, english, visit
):
    comment_service.add_comment(visit, actor=english["sup1"], body="Bring the CFO next time")
    db.session.commit()

    login(client, english["m1"])
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Bring the CFO next time" in html and "Sup1" in html
    assert 'id="comment-form"' in html and ">Reply<" in html  # the manager replies

    login(client, english["sup1"])
    response = client.post(f"/visits/{visit.id}/comments", data={"body": "And the CIO"})
    assert response.status_code == 302
    assert response.location.endswith(f"/visits/{visit.id}#comments")
    assert db.session.scalar(select(func.count(VisitComment.id))) == 2


def test_the_manager_sees_no_form_before_the_supervisor_wrote(client, login, english, visit):
    login(client, english["m1"])
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "No comments yet." in html and 'id="comment-form"' not in html
    response = client.post(f"/visits/{visit.id}/comments", data={"body": "Note to self"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(VisitComment.id))) == 0


def test_a_refused_comment_shows_the_visit_again_with_the_text_kept(client, login, english, visit):
    login(client, english["sup1"])
    too_long = "很" * (comment_service.BODY_LIMIT + 1)
    response = client.post(f"/visits/{visit.id}/comments", data={"body": too_long})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert too_long in html and "华东电力集团" in html  # the visit's page, the text kept
    assert "invalid-feedback" in html.split('id="comment-form"')[1]


@pytest.mark.parametrize("who", ["sup2", "m2"])
def test_out_of_scope_comments_answer_404(client, login, org, visit, who):
    login(client, org[who])
    response = client.post(f"/visits/{visit.id}/comments", data={"body": "x"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(VisitComment.id))) == 0


def test_the_work_log_counts_comments_in_one_statement(
    client, login, english, make_customer, make_visit, count_queries
):
    m1, sup1 = english["m1"], english["sup1"]
    customer = make_customer(m1)
    now = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # Wednesday noon in Shanghai, 2026-W48
    login(client, sup1)

    def count() -> tuple[int, str]:
        db.session.expire_all()
        with count_queries() as statements:
            html = client.get("/visits/?week=2026-W48").get_data(as_text=True)
        return len(statements), html

    first = make_visit(customer, occurred_at=now - timedelta(minutes=5))
    comment_service.add_comment(first, actor=sup1, body="One")
    db.session.commit()
    few, html = count()
    assert html.count("comment-count") == 1 and "Comments 1" in html
    for minutes in range(10, 60, 5):
        visit = make_visit(customer, occurred_at=now - timedelta(minutes=minutes))
        comment_service.add_comment(visit, actor=sup1, body="Two")
        comment_service.add_comment(visit, actor=sup1, body="Three")
        db.session.commit()
    many, html = count()
    assert many == few
    assert html.count("Comments 2") == 10


def test_nobody_is_told_of_a_visit_they_no_longer_see(org, visit):
    comment_service.add_comment(visit, actor=org["sup1"], body="First")
    db.session.commit()
    visit.customer.owner = org["m3"]  # handed over to Team Two since
    db.session.commit()

    comment_service.add_comment(visit, actor=org["admin"], body="Second")
    db.session.commit()

    assert len(notices_of(org["m1"])) == 1  # the first comment's, none for the second
    assert notices_of(org["sup1"]) == []
