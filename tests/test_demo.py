"""The demo organisation: a believable archive for every manager, loaded idempotently."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from crm.extensions import db
from crm.i18n import user_zone
from crm.services.archive.identity import credit_code_problem, normalise_name
from crm.services.archive.search import has_decision_maker
from crm.services.demo.organisation import load_demo
from crm.services.plans import month_actuals, periods
from crm.services.reporting import metrics
from crm.services.reporting import plans as plan_reports
from models import (
    AuditEntry,
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    Industry,
    Notice,
    PlanKind,
    PlanReview,
    PlanStatus,
    Rating,
    Tier,
    User,
    Verdict,
    VisitComment,
    WorkPlan,
)

COUNTED = (
    User,
    Customer,
    Contact,
    Competitor,
    CompetitorProfile,
    AuditEntry,
    Industry,
    WorkPlan,
    PlanReview,
    VisitComment,
    Notice,
)


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def test_loading_the_demo_twice_adds_nothing(app):
    load_demo()
    db.session.commit()
    first = counts()
    load_demo()
    db.session.commit()
    assert counts() == first
    assert first["Customer"] >= 40 and first["Contact"] >= 3 * first["Customer"]


def test_every_manager_gets_a_believable_archive(app):
    load_demo()
    db.session.commit()
    customers = db.session.scalars(select(Customer)).all()
    managers = db.session.scalars(select(User).where(User.username.like("manager%"))).all()

    owned = Counter(c.owner_id for c in customers)
    assert all(owned[m.id] >= 3 for m in managers)
    tiers = Counter(c.tier for c in customers)
    assert set(tiers) == set(Tier)
    assert tiers[Tier.B] + tiers[Tier.C] > tiers[Tier.A] + tiers[Tier.A_PLUS]
    for customer in customers:
        if customer.tier is Tier.A_PLUS:
            assert customer.owner.level.value == "senior"
        assert customer.credit_code and credit_code_problem(customer.credit_code) is None
        assert customer.name_key == normalise_name(customer.name)
        assert customer.industry is not None and customer.region and customer.annual_spend
    assert len({c.name_key for c in customers}) == len(customers)


def test_groups_contacts_and_competitors_look_like_real_accounts(app):
    load_demo()
    db.session.commit()
    groups = db.session.scalars(select(Customer).where(Customer.name.like("%集团有限公司"))).all()
    assert len(groups) >= 3 and all(2 <= len(g.subsidiaries) <= 3 for g in groups)

    for customer in db.session.scalars(select(Customer)):
        contacts = customer.contacts
        assert 3 <= len(contacts) <= 8
        tops = {c.role for c in contacts if c.reports_to is None}
        # The decision maker heads the chart; without one, influencers are the top people.
        assert tops in ({BuyingRole.DECISION_MAKER}, {BuyingRole.INFLUENCER})
        for contact in contacts:
            if contact.reports_to is not None:
                assert contact.reports_to.customer_id == customer.id
    without = db.session.scalar(
        select(func.count()).select_from(Customer).where(~has_decision_maker())
    )
    assert 2 <= without <= 10
    roles = {role for (role,) in db.session.execute(select(Contact.role).distinct())}
    assert roles == set(BuyingRole)

    names = set(db.session.scalars(select(Competitor.name)))
    assert {"中国联通", "中国电信", "中国广电", "阿里云", "华为云"} <= names
    profiled = db.session.scalar(select(func.count(CompetitorProfile.customer_id.distinct())))
    assert 0.3 < profiled / len(db.session.scalars(select(Customer.id)).all()) < 0.7
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) >= len(
        db.session.scalars(select(Customer.id)).all()
    )


# The demo's year ends today, so what it draws shifts with the day: besides today, a
# Monday at the turn of the year and a Sunday night in spring (CI failed once on a day whose
# draws left a senior manager never late).
OTHER_DAYS = [
    None,
    datetime(2027, 1, 4, 1, 30, tzinfo=UTC),
    datetime(2027, 4, 18, 15, 45, tzinfo=UTC),
]


@pytest.mark.parametrize("day", OTHER_DAYS, ids=["today", "new-year", "spring"])
def test_a_year_of_plans_reviews_and_comments_that_look_real(app, day):
    if day is None:
        _plans_reviews_and_comments_look_real()
    else:
        with time_machine.travel(day, tick=True):
            _plans_reviews_and_comments_look_real()


def _plans_reviews_and_comments_look_real():
    load_demo()
    db.session.commit()
    managers = db.session.scalars(
        select(User).where(User.username.like("manager%")).order_by(User.username)
    ).all()
    plans = db.session.scalars(select(WorkPlan)).all()
    by_owner = Counter((p.owner_id, p.kind) for p in plans)
    for manager in managers:
        assert by_owner[(manager.id, PlanKind.WEEK)] >= 48  # a year, a rare week missed
        assert by_owner[(manager.id, PlanKind.MONTH)] == 13
        this_week = periods.starts_on_for(PlanKind.WEEK, periods.today_for(manager))
        mine = {p.starts_on: p for p in plans if p.owner_id == manager.id and p.kind == "week"}
        assert mine[this_week].status in (PlanStatus.DRAFT, PlanStatus.SUBMITTED)
        assert periods.following(PlanKind.WEEK, this_week) not in mine  # next week: theirs
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.focus or "") for p in plans)

    # Plan against what happened, counted by the plans report: mostly carried out, some
    # planned visits missed, some visits unplanned; mostly on time.
    year = metrics.last_days(periods.today_for(managers[0]), user_zone(managers[0]), 364)
    report = plan_reports.plan_report(managers, year, PlanKind.WEEK)
    for row in report.rows:
        assert 50 <= row.completion <= 98, row.manager.username
        assert row.unplanned > 0 and row.tasks_done < row.tasks
        on_time = row.count(plan_reports.Submission.ON_TIME)
        assert on_time > 0.7 * len(row.cells) and row.count(plan_reports.Submission.LATE) > 0

    # Reviews by the team's supervisor, mostly 良 or 优; a few returns with reasons.
    reviews = db.session.scalars(select(PlanReview)).all()
    for review in reviews:
        assert review.reviewer_id == review.plan.owner.team.supervisor_id
        assert review.comment
    ratings = Counter(r.rating for r in reviews if r.verdict is Verdict.REVIEWED)
    assert set(ratings) == set(Rating)
    assert ratings[Rating.GOOD] + ratings[Rating.EXCELLENT] > 0.7 * ratings.total()
    returned = [r for r in reviews if r.verdict is Verdict.RETURNED]
    assert 5 <= len(returned) <= 0.1 * len(reviews)
    assert all(r.plan.changes and r.plan.submitted_at > r.at for r in returned)
    waiting = [p for p in plans if p.status is PlanStatus.SUBMITTED and p.kind is PlanKind.WEEK]
    assert waiting  # the review queue has work in it

    # Monthly goals near the month's actual figures.
    months = [p for p in plans if p.kind is PlanKind.MONTH and p.status is PlanStatus.REVIEWED]
    actuals = month_actuals.actuals_for(months)
    near = [
        p for p in months if abs(p.goal_visits - actuals[p.id].visits) <= 0.3 * p.goal_visits + 1
    ]
    assert len(near) > 0.9 * len(months)
    assert all(p.key_customers for p in months)

    # 点评 on visits by the supervisors, some answered, each one noticed by the other side.
    comments = db.session.scalars(select(VisitComment)).all()
    supervisors = {m.team.supervisor_id for m in managers}
    assert len(comments) >= 10
    assert {c.author_id for c in comments} & supervisors
    assert {c.author_id for c in comments} - supervisors  # the managers' replies
    assert all(c.created_at >= c.visit.occurred_at for c in comments)
    notices = Counter(n.kind.value for n in db.session.scalars(select(Notice)))
    assert notices["visit_comment"] == len(comments)
    assert notices["plan_returned"] == len(returned)
