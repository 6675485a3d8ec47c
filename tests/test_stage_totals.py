"""The organisation's totals per stage and status, kept by triggers on `opportunities`.

Whatever writes an opportunity (a service, a bulk statement, a delete), the kept totals
equal a count over the opportunities; folding them changes nothing but their number of
rows; on PostgreSQL a fold never loses a change another transaction commits meanwhile.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import delete, func, select, update

from crm.extensions import db
from crm.services.pipeline import opportunities as pipeline
from crm.services.pipeline import totals
from models import LostReason, Opportunity, OpportunityStatus, StageTotal

EVERY_STATUS = tuple(OpportunityStatus)


def _counted() -> dict[int, tuple[int, Decimal, Decimal]]:
    """The reference: every opportunity counted now, per stage (all statuses)."""
    found: dict[int, list] = {}
    for o in db.session.scalars(select(Opportunity)):
        line = found.setdefault(o.stage_id, [0, Decimal(0), Decimal(0)])
        line[0] += 1
        line[1] += o.amount or 0
        line[2] += (o.amount or 0) * o.probability
    cent = Decimal("0.01")
    return {
        stage: (n, total.quantize(cent), (product / 100).quantize(cent, ROUND_HALF_UP))
        for stage, (n, total, product) in found.items()
    }


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(StageTotal))


@pytest.fixture
def deals(org, stages, make_customer, make_opportunity):
    customer = make_customer(org["m1"])
    return [
        make_opportunity(customer, title="A", amount=Decimal("1000.50")),
        make_opportunity(customer, "Proposal", title="B", amount=Decimal("20000")),
        make_opportunity(customer, "Contract", title="C", amount=Decimal("0.07")),
        make_opportunity(customer, title="D"),  # no amount yet
    ]


def test_every_kind_of_write_is_counted(deals, org, stages, make_opportunity):
    a, b, c, d = deals
    spare = make_opportunity(a.customer, "Proposal", amount=Decimal("5"))
    m1 = org["m1"]
    assert totals.stage_totals(EVERY_STATUS) == _counted() != {}

    pipeline.move_to_stage(a, stages["Negotiation"], actor=m1)
    pipeline.update_opportunity(b, actor=m1, version=b.version, amount=Decimal("123.45"))
    pipeline.update_opportunity(d, actor=m1, version=d.version, probability=35)
    pipeline.mark_won(c, actor=m1, contract_date=date(2026, 11, 2), amount=Decimal("99.99"))
    pipeline.mark_lost(b, actor=m1, reason=LostReason.PRICE)
    db.session.commit()
    assert totals.stage_totals(EVERY_STATUS) == _counted()

    pipeline.reopen(b, actor=m1)
    db.session.commit()
    # A bulk statement and a delete, written by no service: the triggers count them too.
    db.session.execute(
        update(Opportunity).where(Opportunity.id == d.id).values(stage_id=stages["Trial"].id)
    )
    db.session.execute(delete(Opportunity).where(Opportunity.id == spare.id))
    db.session.commit()
    db.session.expire_all()
    assert totals.stage_totals(EVERY_STATUS) == _counted()

    open_only = totals.stage_totals([OpportunityStatus.OPEN])
    assert sum(n for n, _, _ in open_only.values()) == db.session.scalar(
        select(func.count()).where(Opportunity.status == OpportunityStatus.OPEN)
    )


def test_a_change_that_counts_nothing_adds_no_row(deals, org):
    a = deals[0]
    before = _rows()
    pipeline.update_opportunity(a, actor=org["m1"], version=a.version, title="Renamed")
    db.session.commit()
    # What a handover writes: every open opportunity's owner, in one statement.
    db.session.execute(
        update(Opportunity)
        .where(Opportunity.customer_id == a.customer_id)
        .values(owner_id=org["m2"].id, version=Opportunity.version + 1)
    )
    db.session.commit()
    assert _rows() == before


def test_folding_keeps_the_totals_in_a_row_per_stage_and_status(deals, org, stages):
    a, b, c, d = deals
    pipeline.move_to_stage(a, stages["Proposal"], actor=org["m1"])
    db.session.commit()
    before = totals.stage_totals(EVERY_STATUS)
    assert _rows() > len(before)

    totals.fold()
    db.session.commit()

    assert totals.stage_totals(EVERY_STATUS) == before == _counted()
    groups = db.session.execute(select(StageTotal.stage_id, StageTotal.status)).all()
    assert len(groups) == len(set(groups)) == 3  # Proposal, Contract (open), Initial contact

    totals.recount()
    db.session.commit()
    assert totals.stage_totals(EVERY_STATUS) == before


def test_an_emptied_stage_has_no_column_total(deals, org, stages):
    a, b, c, d = deals
    for deal in (a, d):
        pipeline.move_to_stage(deal, stages["Needs discovery"], actor=org["m1"])
    db.session.commit()
    assert stages["Initial contact"].id not in totals.stage_totals(EVERY_STATUS)


def test_a_fold_loses_no_change_committed_meanwhile(deals, org, stages, database_url):
    """PostgreSQL: a writer's rows, uncommitted when the fold deletes, survive it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("one writer at a time on SQLite: a fold waits for the other")
    a = deals[0]
    with db.engine.connect() as other:
        moved = other.execute(
            update(Opportunity)
            .where(Opportunity.id == a.id)
            .values(stage_id=stages["Proposal"].id, version=Opportunity.version + 1)
        )
        assert moved.rowcount == 1  # its trigger's rows wait uncommitted
        totals.fold()
        db.session.commit()
        other.commit()
    db.session.expire_all()
    assert totals.stage_totals(EVERY_STATUS) == _counted()


def test_the_admins_funnel_counts_open_ones_from_the_kept_totals(deals, org, stages):
    """Every team's "open now" (the admin home) is the kept totals' open column; a list of
    owners is counted live: both the same."""
    from zoneinfo import ZoneInfo

    from crm.services.pipeline import funnel
    from crm.services.reporting import metrics

    a, b, c, d = deals
    pipeline.mark_lost(b, actor=org["m1"], reason=LostReason.PRICE)
    db.session.commit()
    cohort = metrics.last_days(date(2026, 12, 1), ZoneInfo("Asia/Shanghai"), 365)
    owners = [org[name].id for name in ("m1", "m2", "m3", "m4")]

    def open_now(owner_ids):
        steps = funnel.funnel(org["admin"], owner_ids, cohort, reached={})
        return [(s.stage.id, s.open_count, s.open_amount) for s in steps]

    kept = open_now(None)
    assert kept == open_now(owners)
    assert (stages["Initial contact"].id, 2, Decimal("1000.50")) in kept
    assert (stages["Proposal"].id, 0, Decimal("0.00")) in kept  # b was lost


def test_the_scheduler_folds_the_totals(app, deals, org, stages):
    from crm.scheduler import run_fold_stage_totals

    pipeline.move_to_stage(deals[0], stages["Proposal"], actor=org["m1"])
    db.session.commit()
    before = totals.stage_totals(EVERY_STATUS)
    run_fold_stage_totals(app)
    db.session.expire_all()
    assert _rows() == 3 and totals.stage_totals(EVERY_STATUS) == before
