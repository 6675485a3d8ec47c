"""Scope of the assessment beyond the route matrix: scorecards, targets and tasks in lists,
the records behind a line after a handover, the level review (issue 15).

Each test here guards a condition scripts/scope_mutations removes.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from crm.extensions import db
from crm.permissions import scoped
from crm.services import settings
from crm.services.assessment import records, review, store, targets, tasks
from crm.services.assessment.targets import TargetValue
from models import AssessmentTarget, Customer, Scorecard, TemporaryTask
from tests.assessment_world import complaint, last_month, near_end, visits


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


def _users(model, user) -> set[int]:
    return {row.user_id for row in db.session.scalars(scoped(model, user))}


def test_scorecards_show_to_the_manager_once_published_and_to_their_supervisor(org):
    period = last_month()
    store.refresh(period)  # drafts of everyone
    store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    m1, m2, m3, m4 = (org[name].id for name in ("m1", "m2", "m3", "m4"))
    mine = db.session.scalars(scoped(Scorecard, org["m1"])).all()
    assert {(c.user_id, c.publication_id is not None) for c in mine} == {(m1, True)}
    assert db.session.scalars(scoped(Scorecard, org["m3"])).all() == []  # a draft only
    assert _users(Scorecard, org["sup1"]) == {m1, m2}
    assert _users(Scorecard, org["sup2"]) == {m3, m4}
    assert _users(Scorecard, org["admin"]) == {m1, m2, m3, m4}


def test_targets_and_tasks_show_to_their_manager_and_supervisor(org):
    period = last_month()
    for manager, supervisor in (("m1", "sup1"), ("m3", "sup2")):
        targets.save_targets(
            org[manager], period, {("C1", ""): TargetValue(D(10))}, actor=org[supervisor]
        )
        tasks.add_task(
            org[manager], period, title="任务", description=None, weight=1, actor=org[supervisor]
        )
    db.session.commit()
    for model in (AssessmentTarget, TemporaryTask):
        assert _users(model, org["m1"]) == {org["m1"].id}
        assert _users(model, org["m2"]) == set()
        assert _users(model, org["sup1"]) == {org["m1"].id}
        assert _users(model, org["admin"]) == {org["m1"].id, org["m3"].id}


def test_the_records_behind_a_line_leave_out_a_customer_handed_to_another_team(org, make_customer):
    period = last_month()
    kept = make_customer(org["m1"], "留下的客户有限公司")
    gone = make_customer(org["m1"], "转走的客户有限公司")
    for customer in (kept, gone):
        visits(customer, near_end(period), 1)
        complaint(customer, near_end(period), title=f"{customer.name}的投诉")
    # Handed to m3 (Team Two) since: m1's visits and complaints there are no longer theirs
    # to show to Team One.
    db.session.execute(update(Customer).where(Customer.id == gone.id).values(owner_id=org["m3"].id))
    db.session.commit()
    for viewer in ("m1", "sup1"):
        for code in ("C1", "07"):
            shown = {
                row["customer"]
                for row in records.records(code, period, org["m1"], org[viewer]).rows
            }
            assert shown == {kept.name}, (viewer, code)
    shown = {row["customer"] for row in records.records("C1", period, org["m1"], org["admin"]).rows}
    assert shown == {kept.name, gone.name}


def test_the_level_review_lists_only_managers_in_the_viewers_scope(org):
    quarter = last_month().quarter().previous()
    for period in (quarter, quarter.previous()):
        store.refresh(period)
    settings.change("assessment.review_floor", "100", actor=org["admin"])  # everyone below
    db.session.commit()

    def listed(viewer) -> set[str]:
        return {line.manager.username for line in review.level_review(quarter, org[viewer])}

    assert listed("sup1") == {"m1", "m2"}
    assert listed("sup2") == {"m3", "m4"}
    assert listed("admin") == {"m1", "m2", "m3", "m4"}
    assert listed("m1") == {"m1"}
