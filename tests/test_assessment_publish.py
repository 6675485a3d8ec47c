"""Publishing freezes a team's period; versions of the weights keep their periods (issue 15)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from crm.extensions import db
from crm.services.assessment import catalog, sheets, store, tasks, weights
from crm.services.assessment.catalog import SetSpec
from crm.services.errors import DomainError, NotAllowed
from models import AssessmentPublication, Level, MonthlyFigure, PeriodKind, Scorecard
from tests.assessment_world import figure, last_month


@pytest.fixture(autouse=True)
def english(app, org):
    """Messages and pages in English (the users' and the app's default is Chinese)."""
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    with force_locale("en"):
        yield


@pytest.fixture
def period(app):
    return last_month()


@pytest.fixture
def figures(org, make_customer, period):
    customer = make_customer(org["m1"], "冻结测试有限公司")
    figure(customer, period.previous().first, 100000)
    figure(customer, period.first, 110000)
    return customer


def _published_total(org, period):
    return db.session.scalar(
        select(Scorecard.total).where(
            Scorecard.user_id == org["m1"].id,
            Scorecard.period == period.key,
            Scorecard.publication_id.is_not(None),
        )
    )


def test_publishing_freezes_the_cards_against_a_later_import(org, period, figures):
    publication = store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    frozen = _published_total(org, period)
    line = store.card_of(period, org["m1"], org["m1"]).card.line("01")
    assert line.actual == D("10.00")
    # The billing system sends corrected figures: revenue fell instead.
    db.session.execute(
        update(MonthlyFigure).where(MonthlyFigure.month == period.first).values(revenue=D(50000))
    )
    store.refresh(period)  # the scheduler's drafts see the new figures
    db.session.commit()
    assert _published_total(org, period) == frozen
    shown = store.card_of(period, org["m1"], org["sup1"])
    assert shown.publication_id == publication.id and shown.card.line("01").actual == D("10.00")
    draft = db.session.scalar(
        select(Scorecard).where(
            Scorecard.user_id == org["m1"].id, Scorecard.publication_id.is_(None)
        )
    )
    assert draft.total < frozen  # the draft moved; the published card did not
    sheet = sheets.team_sheet(period, org["team1"])
    assert sheet.publication.id == publication.id
    assert next(r for r in sheet.rows if r.manager.id == org["m1"].id).card.total == frozen


def test_a_second_publication_needs_a_reason_and_keeps_the_first(org, period, figures):
    first = store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    with pytest.raises(DomainError, match="say why"):
        store.publish(period, org["team1"], reason="  ", actor=org["sup1"])
    db.session.execute(
        update(MonthlyFigure).where(MonthlyFigure.month == period.first).values(revenue=D(90000))
    )
    second = store.publish(period, org["team1"], reason="计费数据更正", actor=org["admin"])
    db.session.commit()
    history = store.publications(period, org["team1"].id)
    assert [(p.number, p.published_by_id, p.reason) for p in history] == [
        (2, org["admin"].id, "计费数据更正"),
        (1, org["sup1"].id, None),
    ]
    totals = dict(
        db.session.execute(
            select(Scorecard.publication_id, Scorecard.total).where(
                Scorecard.user_id == org["m1"].id, Scorecard.publication_id.is_not(None)
            )
        ).all()
    )
    assert set(totals) == {first.id, second.id} and totals[second.id] < totals[first.id]
    assert store.card_of(period, org["m1"], org["m1"]).publication_id == second.id


def test_who_may_publish_and_when(org, period, figures):
    for actor in (org["m1"], org["sup2"]):
        with pytest.raises(NotAllowed):
            store.publish(period, org["team1"], reason=None, actor=actor)
    with pytest.raises(DomainError, match="not over"):
        store.publish(period.following(), org["team1"], reason=None, actor=org["sup1"])
    task = tasks.add_task(
        org["m2"], period, title="临时保障任务", description=None, weight=1, actor=org["sup1"]
    )
    with pytest.raises(DomainError, match="Score the temporary tasks first"):
        store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    tasks.score_task(task, score=D(70), comment="基本完成", version=task.version, actor=org["sup1"])
    assert store.publish(period, org["team1"], reason=None, actor=org["sup1"]).number == 1


def test_a_manager_sees_only_their_own_published_card(org, period, figures):
    assert store.card_of(period, org["m1"], org["m1"]) is None  # not published yet
    assert store.card_of(period, org["m1"], org["sup1"]) is not None  # live for the supervisor
    store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    assert store.card_of(period, org["m1"], org["m1"]) is not None
    assert store.manager_in_view(org["m2"].id, org["m1"]) is None
    assert store.manager_in_view(org["m1"].id, org["sup2"]) is None
    assert store.manager_in_view(org["m1"].id, org["admin"]) is not None
    assert store.published_periods(org["m1"].id, org["m1"]) == [
        (period.key, _published_total(org, period))
    ]
    assert store.team_in_charge(org["team1"].id, org["m1"]) is None
    assert store.team_in_charge(org["team1"].id, org["sup2"]) is None
    assert store.team_in_charge(org["team1"].id, org["sup1"]) is not None


# Weight sets: versions ------------------------------------------------------------------


def _spec(level: Level, kind: PeriodKind, **changes) -> SetSpec:
    spec = catalog.BUILT_IN[(level, kind)]
    lines = dict(spec.lines)
    for code, weight in changes.items():
        lines[code] = replace(lines[code], weight=D(weight))
    return SetSpec(spec.task_weight, lines)


def test_a_period_keeps_the_set_in_force_for_it(org, period, figures):
    """A new version from this month on: last month is still scored with the old set."""
    this_month = period.following()
    spec = _spec(Level.SENIOR, PeriodKind.MONTH, **{"01": 8, "02": 18})
    version = weights.save_version(
        Level.SENIOR, PeriodKind.MONTH, this_month.first, spec, note="加重ARPU", actor=org["admin"]
    )
    db.session.commit()
    old = weights.in_force(PeriodKind.MONTH, period.first)[Level.SENIOR]
    new = weights.in_force(PeriodKind.MONTH, this_month.first)[Level.SENIOR]
    assert old.set_id is None and old.spec.lines["01"].weight == D(18)  # built in
    assert new.set_id == version.id and new.spec.lines["01"].weight == D(8)
    assert weights.in_force(PeriodKind.MONTH, this_month.following().first)[Level.SENIOR] == new
    # Other levels and the quarter are untouched.
    assert weights.in_force(PeriodKind.MONTH, this_month.first)[Level.JUNIOR].set_id is None
    assert weights.in_force(PeriodKind.QUARTER, this_month.first)[Level.SENIOR].set_id is None
    card = store.card_of(this_month, org["m1"], org["sup1"]).card
    assert card.weight_set_id == version.id and card.line("01").weight == D(8)


def test_a_published_period_keeps_its_weights(org, period, figures):
    store.publish(period, org["team1"], reason=None, actor=org["sup1"])
    db.session.commit()
    spec = _spec(Level.SENIOR, PeriodKind.MONTH, **{"01": 8, "02": 18})
    with pytest.raises(DomainError, match="is published"):
        weights.save_version(
            Level.SENIOR, PeriodKind.MONTH, period.first, spec, note=None, actor=org["admin"]
        )
    # From the next period on, it may change.
    weights.save_version(
        Level.SENIOR,
        PeriodKind.MONTH,
        period.following().first,
        spec,
        note=None,
        actor=org["admin"],
    )


def test_the_weights_must_make_a_hundred_and_only_admins_set_them(org):
    first = last_month().first
    with pytest.raises(DomainError, match="add up to 105"):
        weights.save_version(
            Level.JUNIOR,
            PeriodKind.MONTH,
            first,
            _spec(Level.JUNIOR, PeriodKind.MONTH, **{"01": 15}),
            note=None,
            actor=org["admin"],
        )
    with pytest.raises(NotAllowed):
        weights.save_version(
            Level.JUNIOR,
            PeriodKind.MONTH,
            first,
            _spec(Level.JUNIOR, PeriodKind.MONTH),
            note=None,
            actor=org["sup1"],
        )
    with pytest.raises(DomainError, match="first day"):
        weights.save_version(
            Level.JUNIOR,
            PeriodKind.QUARTER,
            first.replace(month=2),
            _spec(Level.JUNIOR, PeriodKind.QUARTER),
            note=None,
            actor=org["admin"],
        )
    # Saving twice from the same start replaces that version (nothing published since).
    for weight in (12, 10):
        spec = _spec(Level.JUNIOR, PeriodKind.MONTH, **{"01": weight, "02": 15 - weight})
        weights.save_version(
            Level.JUNIOR, PeriodKind.MONTH, first, spec, note=None, actor=org["admin"]
        )
    assert len(weights.versions(Level.JUNIOR, PeriodKind.MONTH)) == 1
    assert db.session.scalars(select(AssessmentPublication)).all() == []
