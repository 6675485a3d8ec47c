"""Indexes the lists need. The follow-ups and visits of one visit or opportunity are found
through an index however many have neither (an index over every row read to SQLite's
statistics as one value, NULL, matching them all, and it scanned the table instead); the
newest visits of everyone come from an index on the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from crm.extensions import db
from crm.services.followups.reminders import reminders_of_visit
from models import Reminder, Visit


def sqlite_plan(stmt) -> str:
    """SQLite's query plan of the statement, its steps joined by " | "."""
    compiled = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    return " | ".join(
        row.detail for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
    )


def _assert_read_in_order(stmt, table: str, index: str) -> None:
    """SQLite reads the statement's rows in its order from `index`, sorting nothing."""
    db.session.execute(text(f"ANALYZE {table}"))
    plan = sqlite_plan(stmt)
    assert f"INDEX {index}" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan


def postgresql_indexes(table: str) -> dict[str, str]:
    """PostgreSQL's definition of each index of the table, by name."""
    rows = db.session.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table"),
        {"table": table},
    )
    return dict(rows.all())


def test_a_visits_follow_ups_are_read_through_the_index_of_the_set_ones(
    org, make_customer, make_visit, make_reminder
):
    customer = make_customer(org["m1"])
    visit = make_visit(customer)
    linked = make_reminder(customer, visit_id=visit.id)
    now = datetime.now(UTC)
    # Many follow-ups of no visit and no opportunity, as in a real database.
    rows = [
        {
            "customer_id": customer.id,
            "owner_id": customer.owner_id,
            "due_on": now.date(),
            "due_at": now,
            "version": 1,
        }
        for _ in range(2_000)
    ]
    db.session.execute(insert(Reminder), rows)
    db.session.commit()
    assert reminders_of_visit(visit) == [linked]

    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE reminders"))
        for column in ("visit_id", "opportunity_id"):
            stmt = Reminder.__table__.select().where(Reminder.__table__.c[column] == visit.id)
            plan = sqlite_plan(stmt)
            assert f"USING INDEX ix_reminders_{column}_set" in plan, plan
    else:
        definitions = postgresql_indexes("reminders")
        for column in ("visit_id", "opportunity_id"):
            assert f"WHERE ({column} IS NOT NULL)" in definitions[f"ix_reminders_{column}_set"]


def test_the_newest_visits_of_everyone_are_read_from_the_time_index(org, make_customer):
    """An admin's work log and the API's visit list: the newest first, over every user."""
    customer = make_customer(org["m1"])
    now = datetime.now(UTC)
    rows = [
        {"customer_id": customer.id, "user_id": customer.owner_id, "occurred_at": now,
         "kind": "on_site", "version": 1}
        for _ in range(2_000)
    ]  # fmt: skip
    db.session.execute(insert(Visit), rows)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE visits"))
        newest = (
            Visit.__table__.select()
            .where(Visit.occurred_at >= now - timedelta(days=30))
            .order_by(Visit.occurred_at.desc(), Visit.id.desc())
            .limit(101)
        )
        by_opportunity = Visit.__table__.select().where(Visit.opportunity_id == 1)
        for stmt, index in (
            (newest, "ix_visits_occurred_at_id"),
            (by_opportunity, "ix_visits_opportunity_id_set"),
        ):
            plan = sqlite_plan(stmt)
            assert f"INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
    else:
        definitions = postgresql_indexes("visits")
        assert "(occurred_at, id)" in definitions["ix_visits_occurred_at_id"]
        assert "WHERE (opportunity_id IS NOT NULL)" in definitions["ix_visits_opportunity_id_set"]


def test_a_few_owners_new_opportunities_of_a_month_are_read_per_owner(
    org, make_customer, make_opportunity
):
    """The month plans of the review queue and a team's home count each owner's new
    opportunities in a month: one seek per owner, not every opportunity of each owner."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from crm.services.reporting import dashboards, metrics
    from models import Opportunity

    customer = make_customer(org["m1"])
    make_opportunity(customer)
    zone = ZoneInfo("Asia/Shanghai")
    today = datetime.now(zone).date()
    month = metrics.Period("month", today.replace(day=1), today, zone)
    owners = [org["m1"].id, org["m2"].id]
    stmt = (
        select(Opportunity.owner_id, func.count())
        .where(Opportunity.owner_id.in_(owners), dashboards.created_in(month))
        .group_by(Opportunity.owner_id)
    )
    assert db.session.execute(stmt).all() == [(org["m1"].id, 1)]
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE opportunities"))
        plan = sqlite_plan(stmt)
        assert "INDEX ix_opportunities_owner_id_created_at (owner_id=? AND created_at>?" in plan, (
            plan
        )
    else:
        definitions = postgresql_indexes("opportunities")
        assert "(owner_id, created_at)" in definitions["ix_opportunities_owner_id_created_at"]


def test_the_competitor_overview_reads_its_first_page_and_counts_from_indexes(
    org, make_customer, make_competitor
):
    """An admin's overview: the first page in expiry order (no date last) and the count per
    competitor, without sorting every profile."""
    from datetime import date

    from crm.services.archive.competitors import (
        PresenceFilters,
        presence_summary,
        search_presence,
    )
    from models import CompetitorProfile

    rivals = [make_competitor("Rival Telecom"), make_competitor("Other Telecom")]
    today = date(2026, 12, 7)
    for i in range(40):
        customer = make_customer(org["m1" if i % 2 else "m3"])
        for rival in rivals[: 1 + i % 2]:
            expiry = None if i % 4 == 0 else today + timedelta(days=i)
            db.session.add(
                CompetitorProfile(customer=customer, competitor=rival, contract_expiry=expiry)
            )
    db.session.commit()
    admin = org["admin"]
    first = search_presence(admin, PresenceFilters(), today).limit(55)
    expiries = [p.contract_expiry for p in db.session.scalars(first).unique()]
    dated = [e for e in expiries if e is not None]
    assert len(expiries) == 55 and len(dated) == 50 and dated == sorted(dated)
    assert expiries.index(None) == len(dated)  # no date last
    summary = {row["name"]: row["customers"] for row in presence_summary(admin, 90, today)}
    assert summary == {"Rival Telecom": 40, "Other Telecom": 20}
    if db.engine.dialect.name == "sqlite":
        _assert_read_in_order(first, "competitor_profiles", "ix_competitor_profiles_expiry_order")
    else:
        definitions = postgresql_indexes("competitor_profiles")
        assert (
            "(((contract_expiry IS NULL)), contract_expiry, id)"
            in (definitions["ix_competitor_profiles_expiry_order"])
        )
        assert (
            "(competitor_id, contract_expiry)"
            in (definitions["ix_competitor_profiles_competitor_id_contract_expiry"])
        )


def test_the_apis_competitor_profiles_are_read_in_keyset_order_from_an_index(
    org, make_customer, make_competitor
):
    """The API's expiry order (no date last, a stand-in date a cursor can compare), page by
    page: every profile once, from the index on that order."""
    from datetime import date

    from sqlalchemy import select

    from blueprints.api.competitors import ORDERS
    from models import CompetitorProfile

    rival = make_competitor("Rival Telecom")
    today = date(2026, 12, 7)
    for i in range(30):
        expiry = None if i % 3 == 0 else today + timedelta(days=i % 7)
        db.session.add(
            CompetitorProfile(
                customer=make_customer(org["m1"]), competitor=rival, contract_expiry=expiry
            )
        )
    db.session.commit()
    order = ORDERS["expiry"]
    base = select(CompetitorProfile).order_by(*order.clauses())
    seen, values = [], None
    while True:
        stmt = base if values is None else base.where(order.after(values))
        page = list(db.session.scalars(stmt.limit(7)))
        if not page:
            break
        seen += page
        values = [key.value(page[-1]) for key in order.keys]
    expiries = [p.contract_expiry for p in seen]
    assert len({p.id for p in seen}) == len(seen) == 30
    dated = [e for e in expiries if e is not None]
    assert dated == sorted(dated) and expiries[len(dated) :] == [None] * 10
    if db.engine.dialect.name == "sqlite":
        _assert_read_in_order(
            base.limit(101), "competitor_profiles", "ix_competitor_profiles_api_expiry_order"
        )
    else:
        definitions = postgresql_indexes("competitor_profiles")
        assert (
            "COALESCE(contract_expiry, '9999-12-31'::date)"
            in (definitions["ix_competitor_profiles_api_expiry_order"])
        )


def test_an_admins_latest_plans_are_read_from_the_index_on_their_change_time(org):
    """The plans page of an admin: the newest changed plans of everyone, without sorting
    them all (PostgreSQL sorted a province's 64,000 plans: 42 ms)."""
    from datetime import date

    from crm.services.plans.overview import latest_plans, latest_plans_query
    from models import PlanKind, PlanStatus, WorkPlan

    now = datetime.now(UTC)
    monday = date(2026, 1, 5)
    rows = [
        {"owner_id": org[owner].id, "kind": PlanKind.WEEK, "starts_on": monday + timedelta(weeks=i),
         "status": PlanStatus.DRAFT, "version": 1, "created_at": now,
         "updated_at": now - timedelta(minutes=(i * 7) % 50)}
        for owner in ("m1", "m2") for i in range(50)
    ]  # fmt: skip
    db.session.execute(insert(WorkPlan), rows)
    db.session.commit()
    latest = latest_plans(org["admin"], limit=30)
    stamps = [(p.updated_at, p.id) for p in latest]
    assert len(latest) == 30 and stamps == sorted(stamps, reverse=True)
    newest = max(row["updated_at"] for row in rows)
    assert stamps[0][0] == newest  # both aware: compared as instants
    if db.engine.dialect.name == "sqlite":
        _assert_read_in_order(
            latest_plans_query(org["admin"]), "work_plans", "ix_work_plans_updated_at_id"
        )
    else:
        definitions = postgresql_indexes("work_plans")
        assert "(updated_at, id)" in definitions["ix_work_plans_updated_at_id"]


def test_an_opportunitys_documents_are_read_through_the_index_of_the_set_ones(
    org, make_customer, make_opportunity
):
    """Most documents are the customer's own: an opportunity's are found through an index
    of only the documents that have one, not by scanning them all (an admin's opportunity
    page, whose scope adds no condition to narrow by)."""
    from crm.services.documents.library import documents_on, documents_on_query
    from models import Document, DocumentKind

    customer = make_customer(org["m1"])
    opportunity = make_opportunity(customer)
    kind = db.session.scalars(select(DocumentKind)).first()
    now = datetime.now(UTC)
    rows = [
        {"customer_id": customer.id, "kind_id": kind.id, "title": f"照片{i}",
         "created_by_id": org["m1"].id, "current_version": 0, "version": 1,
         "created_at": now, "updated_at": now}
        for i in range(2_000)
    ]  # fmt: skip
    db.session.execute(insert(Document), rows)
    on_it = Document(
        customer=customer,
        opportunity=opportunity,
        kind=kind,
        title="方案书",
        created_by=org["m1"],
        current_version=0,
    )
    db.session.add(on_it)
    db.session.commit()
    assert [d.title for d in documents_on(opportunity, viewer=org["admin"])] == ["方案书"]
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE documents"))
        plan = sqlite_plan(documents_on_query(opportunity, viewer=org["admin"]))
        assert "INDEX ix_documents_opportunity_id_set" in plan, plan
    else:
        definitions = postgresql_indexes("documents")
        for column in ("opportunity_id", "visit_id"):
            assert f"WHERE ({column} IS NOT NULL)" in definitions[f"ix_documents_{column}_set"]


def test_the_customers_lost_in_a_period_are_read_through_the_index_of_the_lost_ones(
    org, make_customer
):
    """Few customers are lost: the "lost this quarter" list finds them through an index of
    the lost customers alone. Over every customer, PostgreSQL's planner probed that index
    for the range's end through the NULL entry of each customer not lost (and of each row
    a rolled-back import left), and an import wrote an entry per new customer."""
    from zoneinfo import ZoneInfo

    from crm.services.reporting import lost, metrics
    from models import Customer, CustomerStatus

    now = datetime.now(UTC)
    gone = make_customer(org["m1"], status=CustomerStatus.LOST, lost_at=now - timedelta(days=1))
    rows = [
        {"name": f"在用客户{i}", "owner_id": org["m1"].id, "status": "active", "tier": "C",
         "version": 1, "created_at": now, "updated_at": now}
        for i in range(2_000)
    ]  # fmt: skip
    db.session.execute(insert(Customer), rows)
    db.session.commit()
    period = metrics.last_days(now.date(), ZoneInfo("UTC"), 30)
    found = lost.lost_in(period, viewer=org["admin"])
    assert [c.name for c in found.customers] == [gone.name]
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE customers"))
        plan = sqlite_plan(lost.lost_ids_query(period, viewer=org["admin"]))
        assert "INDEX ix_customers_lost_at_set" in plan, plan
        definition = db.session.scalar(
            text("SELECT sql FROM sqlite_master WHERE name = 'ix_customers_lost_at_set'")
        )
        assert "WHERE lost_at IS NOT NULL" in definition, definition
    else:
        definitions = postgresql_indexes("customers")
        assert "ix_customers_lost_at" not in definitions
        assert "WHERE (lost_at IS NOT NULL)" in definitions["ix_customers_lost_at_set"]
