"""The demo organisation: a believable archive for every manager, loaded idempotently."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.identity import credit_code_problem, normalise_name
from crm.services.archive.search import has_decision_maker
from crm.services.demo.organisation import load_demo
from models import (
    AuditEntry,
    BuyingRole,
    Competitor,
    CompetitorProfile,
    Contact,
    Customer,
    Industry,
    Tier,
    User,
)

COUNTED = (User, Customer, Contact, Competitor, CompetitorProfile, AuditEntry, Industry)


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
