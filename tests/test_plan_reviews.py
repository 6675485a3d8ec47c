"""The supervisor's review: the queue, the panel under a plan, reviewing and returning it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.errors import NotAllowed, StaleEdit
from crm.services.plans import lifecycle, periods
from crm.services.plans import reviews as review_service
from models import (
    MessageKind,
    Notice,
    NoticeKind,
    OutboxMessage,
    PlanKind,
    PlanReview,
    PlanStatus,
    PlanTask,
    Rating,
    WorkPlan,
)

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # Wednesday 2 December 2026, noon in Shanghai
THIS_MONDAY = date(2026, 11, 30)
LAST_MONDAY = THIS_MONDAY - timedelta(days=7)
NEXT_MONDAY = THIS_MONDAY + timedelta(days=7)


@pytest.fixture
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


@pytest.fixture
def make_plan(app):
    def make(owner, starts_on=NEXT_MONDAY, *, kind=PlanKind.WEEK, status=PlanStatus.SUBMITTED):
        submitted = status is not PlanStatus.DRAFT
        plan = WorkPlan(
            owner=owner,
            kind=kind,
            starts_on=starts_on,
            status=status,
            first_submitted_at=NOW - timedelta(days=30) if submitted else None,
            submitted_at=NOW - timedelta(days=30) if submitted else None,
        )
        plan.tasks.append(PlanTask(text="准备方案", day=starts_on))
        if kind is PlanKind.MONTH:
            plan.goal_visits = 12
        db.session.add(plan)
        db.session.commit()
        return plan

    return make


def queue_of(user, now=NOW) -> list[WorkPlan]:
    return list(db.session.scalars(review_service.queue(user, now=now)).unique())


# The queue -----------------------------------------------------------------------


def test_the_queue_holds_submitted_plans_and_finished_unreviewed_ones_oldest_first(org, make_plan):
    m1, m2 = org["m1"], org["m2"]
    submitted_next = make_plan(m1, NEXT_MONDAY)
    draft_last_week = make_plan(m2, LAST_MONDAY, status=PlanStatus.DRAFT)
    returned_last_week = make_plan(m1, LAST_MONDAY, status=PlanStatus.RETURNED)
    last_month = make_plan(m1, date(2026, 11, 1), kind=PlanKind.MONTH, status=PlanStatus.DRAFT)
    # Not in it: reviewed, a draft of a week not over, a month not over, unsubmitted.
    make_plan(m2, THIS_MONDAY - timedelta(days=14), status=PlanStatus.REVIEWED)
    make_plan(m2, THIS_MONDAY, status=PlanStatus.DRAFT)
    make_plan(m2, date(2026, 12, 1), kind=PlanKind.MONTH, status=PlanStatus.RETURNED)

    assert queue_of(org["sup1"]) == [
        last_month,
        draft_last_week,
        returned_last_week,
        submitted_next,
    ]


def test_a_supervisor_sees_the_teams_plans_an_admin_all_a_manager_none(org, make_plan):
    ones = [make_plan(org["m1"]), make_plan(org["m2"])]
    twos = [make_plan(org["m3"])]
    own = make_plan(org["sup1"])  # a supervisor's own plan goes to an administrator

    assert set(queue_of(org["sup1"])) == set(ones)
    assert set(queue_of(org["sup2"])) == set(twos)
    assert set(queue_of(org["admin"])) == {*ones, *twos, own}
    with pytest.raises(NotAllowed):
        review_service.queue(org["m1"], now=NOW)


def test_the_queue_page_shows_each_plan_with_its_figures(
    client, login, english, make_plan, make_customer, make_visit
):
    m1 = english["m1"]
    week = make_plan(m1, LAST_MONDAY)
    customer = make_customer(m1)
    make_visit(customer, occurred_at=datetime.combine(LAST_MONDAY, datetime.min.time(), UTC))
    month = make_plan(english["m2"], date(2026, 11, 1), kind=PlanKind.MONTH)
    login(client, english["sup1"])

    html = client.get("/plans/reviews").get_data(as_text=True)

    assert f'data-plan="{week.id}"' in html and f'data-plan="{month.id}"' in html
    assert "2026-W48" in html and "2026-11" in html
    assert "M1" in html and "M2" in html
    assert "0 of 0 visits done" in html and "1 unplanned" in html  # the week's completion
    assert "0 of 1 tasks ticked" in html
    assert "Visits 12" in html  # the month's goal beside its actual figures
    assert "Late" not in html  # both submitted long before their deadlines


def test_a_manager_has_no_queue(client, login, org):
    login(client, org["m1"])
    assert client.get("/plans/reviews").status_code == 404


def test_the_queue_page_statements_do_not_grow_with_its_plans(
    client, login, org, make_plan, count_queries, make_user
):
    login(client, org["sup1"])

    def count() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get("/plans/reviews").status_code == 200
        return len(statements)

    make_plan(org["m1"], LAST_MONDAY)
    make_plan(org["m2"], date(2026, 11, 1), kind=PlanKind.MONTH)
    few = count()
    for i in range(6):
        member = make_user(f"member{i}", team=org["team1"])
        make_plan(member, LAST_MONDAY)
        make_plan(member, date(2026, 11, 1), kind=PlanKind.MONTH)
    assert count() == few <= 15


# The verdicts over HTTP ------------------------------------------------------------------


def _verdict(client, plan, action="review", **fields):
    data = {"version": plan.version, **fields}
    return client.post(f"/plans/{plan.id}/{action}", data=data)


def test_the_supervisor_reviews_with_a_rating_and_the_manager_is_told(
    client, login, english, make_plan
):
    plan = make_plan(english["m1"])
    login(client, english["sup1"])

    response = _verdict(client, plan, rating="excellent", comment="Well planned.")

    assert response.status_code == 302
    db.session.expire_all()
    assert plan.status is PlanStatus.REVIEWED
    verdict = db.session.scalars(select(PlanReview)).one()
    assert (verdict.rating, verdict.comment) == (Rating.EXCELLENT, "Well planned.")
    notice = db.session.scalars(select(Notice)).one()
    assert (notice.user_id, notice.kind, notice.plan_id) == (
        english["m1"].id,
        NoticeKind.PLAN_REVIEWED,
        plan.id,
    )
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.kind, message.recipient_id) == (MessageKind.PLAN_REVIEW, english["m1"].id)
    assert message.key == f"plan_review:{verdict.id}:{english['m1'].id}"
    assert "was reviewed: Excellent" in message.subject


def test_a_review_without_a_rating_is_refused_and_keeps_the_comment(
    client, login, english, make_plan
):
    plan = make_plan(english["m1"])
    login(client, english["sup1"])

    response = _verdict(client, plan, comment="Looks fine")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose a rating." in html and "Looks fine" in html
    db.session.expire_all()
    assert plan.status is PlanStatus.SUBMITTED
    assert db.session.scalar(select(func.count(Notice.id))) == 0


def test_a_return_needs_a_reason_and_tells_the_manager(client, login, english, make_plan):
    plan = make_plan(english["m1"])
    login(client, english["admin"])

    refused = _verdict(client, plan, "return", rating="good")
    assert refused.status_code == 400
    assert "Say why the plan goes back for revision." in refused.get_data(as_text=True)

    assert _verdict(client, plan, "return", comment="Too few visits").status_code == 302
    db.session.expire_all()
    assert plan.status is PlanStatus.RETURNED
    verdict = db.session.scalars(select(PlanReview)).one()
    assert (verdict.rating, verdict.comment) == (None, "Too few visits")  # the rating ignored
    notice = db.session.scalars(select(Notice)).one()
    assert notice.kind is NoticeKind.PLAN_RETURNED
    message = db.session.scalars(select(OutboxMessage)).one()
    assert "returned for revision" in message.subject
    assert "Too few visits" in message.body_text


@pytest.mark.parametrize("who", ["sup2", "m2", "m3"])
def test_out_of_scope_reviewers_get_404(client, login, org, make_plan, who):
    plan = make_plan(org["m1"])
    login(client, org[who])
    for action in ("review", "return"):
        response = _verdict(client, plan, action, rating="good", comment="x")
        assert response.status_code == 404
    db.session.expire_all()
    assert plan.status is PlanStatus.SUBMITTED


def test_the_manager_cannot_review_their_own_plan(client, login, english, make_plan):
    plan = make_plan(english["m1"])
    login(client, english["m1"])
    response = _verdict(client, plan, rating="excellent")
    assert response.status_code == 400
    assert "Only the manager&#39;s supervisor or an administrator" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert plan.status is PlanStatus.SUBMITTED


def test_a_verdict_on_a_plan_changed_since_it_was_opened_is_refused(
    client, login, english, make_plan
):
    plan = make_plan(english["m1"])
    seen = plan.version
    lifecycle.note_change(plan, english["m1"], "focus", "A", "B")
    plan.focus = "B"
    db.session.commit()
    assert plan.version != seen
    login(client, english["sup1"])

    response = client.post(
        f"/plans/{plan.id}/review", data={"version": seen, "rating": "good", "comment": "ok"}
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "The manager changed this plan after you opened it." in html
    assert "Changed since it was submitted" in html  # the change to read first
    assert f'name="version" type="hidden" value="{plan.version}"' in html
    db.session.expire_all()
    assert plan.status is PlanStatus.SUBMITTED


def test_the_service_refuses_a_stale_version(org, make_plan):
    plan = make_plan(org["m1"])
    with pytest.raises(StaleEdit):
        review_service.review(
            plan, actor=org["sup1"], version=plan.version - 1, rating=Rating.GOOD, comment=None
        )
    with pytest.raises(StaleEdit):
        review_service.return_for_revision(plan, actor=org["sup1"], version="x", reason="why")


# The panel ------------------------------------------------------------------------------


def test_the_panel_shows_verdicts_and_changes_and_the_form_only_to_a_reviewer(
    client, login, english, make_plan
):
    m1, sup1 = english["m1"], english["sup1"]
    plan = make_plan(m1)
    lifecycle.return_for_revision(plan, actor=sup1, reason="More visits to A customers")
    db.session.commit()
    lifecycle.note_change(plan, m1, "focus", "Old focus", "New focus")
    lifecycle.submit(plan, actor=m1)
    db.session.commit()

    panel = review_service.review_panel(plan, viewer=sup1)
    assert [v.comment for v in panel.verdicts] == ["More visits to A customers"]
    assert [(c.old, c.new) for c in panel.changes] == [("Old focus", "New focus")]
    assert panel.reviewable
    assert not review_service.review_panel(plan, viewer=m1).may_review
    assert not review_service.review_panel(plan, viewer=english["sup2"]).may_review

    login(client, sup1)
    response = client.post(f"/plans/{plan.id}/review", data={"version": plan.version})
    html = response.get_data(as_text=True)  # the panel, shown again with the refusal
    assert "More visits to A customers" in html and "Returned for revision" in html
    assert "Changed since it was last reviewed" in html
    assert "Old focus" in html and "New focus" in html
    assert 'id="review-form"' in html and f"/plans/{plan.id}/return" in html
    assert "checked" not in html.split('id="review-form"')[1]  # no rating chosen for them


def test_the_ratings_read_as_the_operators_four_steps_in_chinese(client, login, org, make_plan):
    plan = make_plan(org["m1"])
    login(client, org["sup1"])  # zh_CN
    html = client.post(f"/plans/{plan.id}/review", data={"version": plan.version}).get_data(
        as_text=True
    )
    form = html.split('id="review-form"')[1]
    assert [word in form for word in ("优", "良", "中", "差")] == [True] * 4


def test_period_keys_name_the_plans_in_the_queue(org, make_plan):
    week = make_plan(org["m1"], LAST_MONDAY)
    assert periods.key_of(week) == "2026-W48"


def test_the_panel_costs_a_draft_nothing_and_a_submitted_plan_two_statements(
    org, make_plan, count_queries
):
    draft = make_plan(org["m1"], status=PlanStatus.DRAFT)
    submitted = make_plan(org["m2"])
    lifecycle.return_for_revision(submitted, actor=org["sup1"], reason="再想想")
    db.session.commit()
    db.session.expire_all()
    assert draft.owner.team_id and submitted.owner.team_id  # as the plan page loaded them
    with count_queries() as statements:
        assert review_service.review_panel(draft, viewer=org["m1"]).verdicts == []
    assert statements == []
    with count_queries() as statements:
        panel = review_service.review_panel(submitted, viewer=org["m2"])
    assert [v.comment for v in panel.verdicts] == ["再想想"] and len(statements) == 2


def test_the_plan_page_carries_the_panel_and_the_form_for_the_reviewer_only(
    client, login, english, make_plan
):
    plan = make_plan(english["m1"], THIS_MONDAY)
    for who, form in (("sup1", True), ("admin", True), ("m1", False)):
        login(client, english[who])
        html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
        assert 'id="review-panel"' in html and "Not reviewed yet." in html
        assert ('id="review-form"' in html) is form, who
    login(client, english["sup2"])
    assert client.get(f"/plans/{plan.id}").status_code == 404
    month = make_plan(english["m2"], date(2026, 12, 1), kind=PlanKind.MONTH)
    login(client, english["sup1"])
    assert 'id="review-form"' in client.get(f"/plans/{month.id}").get_data(as_text=True)
