"""Reference data (industries, competitor registry): admins only; retiring keeps what uses it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from crm.extensions import db
from crm.services.archive import competitors as competitor_service
from crm.services.archive import reference as reference_service
from crm.services.errors import NotAllowed
from models import AuditAction, AuditEntry, Competitor, CompetitorProfile, Industry


@pytest.fixture
def admin_client(client, org, login):
    org["admin"].locale = "en"
    db.session.commit()
    return login(client, org["admin"])


def _industry(name_zh="测试行业", name_en="Testing", **fields):
    """A new industry beside the defaults the test database is seeded with."""
    industry = Industry(name_zh=name_zh, name_en=name_en, **fields)
    db.session.add(industry)
    db.session.commit()
    return industry


# Who may --------------------------------------------------------------------


PAGES = [
    "/admin/industries",
    "/admin/industries/new",
    "/admin/competitors",
    "/admin/competitors/new",
]


@pytest.mark.parametrize("persona", ["sup1", "m1"])
@pytest.mark.parametrize("url", PAGES)
def test_reference_pages_are_for_admins_only(client, login, org, persona, url):
    login(client, org[persona])
    assert client.get(url).status_code == 403
    industries = db.session.query(Industry).count()
    response = client.post(url, data={"name": "x", "name_zh": "x", "name_en": "x"})
    assert response.status_code in (403, 405)
    assert db.session.query(Industry).count() == industries
    assert db.session.query(Competitor).count() == 0


def test_the_services_refuse_non_admins(org):
    with pytest.raises(NotAllowed):
        reference_service.create_industry(
            actor=org["sup1"], name_zh="新", name_en="New", position=1
        )
    with pytest.raises(NotAllowed):
        competitor_service.create_competitor(actor=org["sup1"], name="中国联通")


@pytest.mark.parametrize("url", PAGES)
def test_admin_opens_every_reference_page(admin_client, url):
    assert admin_client.get(url).status_code == 200


# Industries -------------------------------------------------------------------


def test_default_industries_are_inserted_only_into_an_empty_table(app):
    db.session.execute(delete(Industry))
    assert reference_service.ensure_default_industries() == 10
    db.session.commit()
    names = [i.name_en for i in reference_service.all_industries()]
    assert names[:3] == ["Government", "Finance", "Education"] and names[-1] == "Other"
    assert reference_service.ensure_default_industries() == 0
    assert db.session.query(Industry).count() == 10


def test_admin_adds_and_renames_an_industry_and_it_is_audited(admin_client, org):
    response = admin_client.post(
        "/admin/industries/new", data={"name_zh": "农业", "name_en": "Agriculture", "position": ""}
    )
    assert response.status_code == 302
    industry = db.session.scalar(select(Industry).where(Industry.name_zh == "农业"))
    assert industry.active and industry.name_en == "Agriculture"

    response = admin_client.post(
        f"/admin/industries/{industry.id}",
        data={"name_zh": "农林牧渔", "name_en": "Agriculture", "position": "3"},
    )
    assert response.status_code == 302
    db.session.refresh(industry)
    assert (industry.name_zh, industry.position) == ("农林牧渔", 3)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "industries")
    ).all()
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]


@pytest.mark.parametrize(
    ("name_zh", "name_en", "message"),
    [
        ("金融", "Banking", "An industry named 金融 exists"),
        ("银行", "FINANCE", "named FINANCE exists"),
    ],
)
def test_duplicate_industry_names_are_refused(admin_client, name_zh, name_en, message):
    count = db.session.query(Industry).count()  # the defaults include 金融 Finance

    response = admin_client.post(
        "/admin/industries/new", data={"name_zh": name_zh, "name_en": name_en}
    )

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.query(Industry).count() == count


def test_retiring_an_industry_in_use_keeps_it_on_its_customers(admin_client, org, make_customer):
    finance = _industry("保险", "Insurance")
    customer = make_customer(org["m1"], industry=finance)

    response = admin_client.post(f"/admin/industries/{finance.id}/retire", data={"confirmed": "1"})

    assert response.status_code == 302
    db.session.refresh(finance)
    db.session.refresh(customer)
    assert not finance.active and customer.industry == finance
    assert finance not in reference_service.selectable_industries()
    assert finance in reference_service.selectable_industries(current_id=finance.id)

    page = admin_client.get("/admin/industries").get_data(as_text=True)
    row = re.search(rf'<tr[^>]*id="industry-{finance.id}".*?</tr>', page, re.S).group(0)
    assert "Retired" in row and "Offer again" in row

    admin_client.post(f"/admin/industries/{finance.id}/reactivate")
    db.session.refresh(finance)
    assert finance.active and finance in reference_service.selectable_industries()


def test_an_industry_in_use_cannot_be_deleted_an_unused_one_can(admin_client, org, make_customer):
    used = _industry("保险", "Insurance")
    unused = _industry("航空", "Aviation")
    make_customer(org["m1"], industry=used)

    refused = admin_client.post(
        f"/admin/industries/{used.id}/delete", data={"confirmed": "1"}, follow_redirects=True
    )
    assert "is used by 1 customers and cannot be deleted" in refused.get_data(as_text=True)
    assert db.session.get(Industry, used.id) is not None

    admin_client.post(f"/admin/industries/{unused.id}/delete", data={"confirmed": "1"})
    assert db.session.get(Industry, unused.id) is None


# The competitor registry ------------------------------------------------------


def test_admin_adds_and_edits_a_competitor(admin_client):
    response = admin_client.post(
        "/admin/competitors/new", data={"name": "  China   Unicom ", "notes": "联通"}
    )
    assert response.status_code == 302
    competitor = db.session.scalar(select(Competitor))
    assert competitor.name == "China Unicom" and competitor.active

    admin_client.post(f"/admin/competitors/{competitor.id}", data={"name": "中国联通", "notes": ""})
    db.session.refresh(competitor)
    assert (competitor.name, competitor.notes) == ("中国联通", None)


def test_competitor_names_are_unique_regardless_of_case(admin_client, make_competitor):
    make_competitor("China Unicom")

    response = admin_client.post("/admin/competitors/new", data={"name": "CHINA unicom"})

    assert response.status_code == 400
    assert "A competitor named CHINA unicom exists" in response.get_data(as_text=True)
    assert db.session.query(Competitor).count() == 1


def test_renaming_onto_another_competitor_is_refused(admin_client, make_competitor):
    make_competitor("China Telecom")
    unicom = make_competitor("China Unicom")

    response = admin_client.post(f"/admin/competitors/{unicom.id}", data={"name": "china telecom"})

    assert response.status_code == 400
    db.session.refresh(unicom)
    assert unicom.name == "China Unicom"


def test_retiring_a_competitor_in_use_keeps_its_profiles(
    admin_client, client, login, org, make_customer, make_competitor, make_profile
):
    customer = make_customer(org["m1"])
    bank = make_competitor("Old Bank")
    profile = make_profile(customer, bank)

    assert (
        admin_client.post(
            f"/admin/competitors/{bank.id}/retire", data={"confirmed": "1"}
        ).status_code
        == 302
    )
    db.session.refresh(bank)
    assert not bank.active
    assert db.session.get(CompetitorProfile, profile.id) is not None

    refused = admin_client.post(
        f"/admin/competitors/{bank.id}/delete", data={"confirmed": "1"}, follow_redirects=True
    )
    assert "appears in 1 customer profiles and cannot be deleted" in refused.get_data(as_text=True)
    assert db.session.get(Competitor, bank.id) is not None

    other = make_customer(org["m1"])
    assert bank not in competitor_service.available_competitors(other)
    org["m1"].locale = "en"
    db.session.commit()
    manager = login(client, org["m1"])
    assert f'id="presence-{profile.id}"' in manager.get("/competitors/").get_data(as_text=True)


def test_an_unused_competitor_can_be_deleted(admin_client, make_competitor):
    competitor = make_competitor()
    assert (
        admin_client.post(
            f"/admin/competitors/{competitor.id}/delete", data={"confirmed": "1"}
        ).status_code
        == 302
    )
    assert db.session.get(Competitor, competitor.id) is None
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "competitors", AuditEntry.action == AuditAction.DELETE
        )
    )
    assert entry.entity_id == competitor.id and entry.customer_id is None
