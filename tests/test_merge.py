"""Merging a duplicate customer into the survivor: what moves, what is kept, who may."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services import audit
from crm.services.archive.identity import credit_code_check_char
from crm.services.archive.merge import (
    CUSTOMER_LINKS,
    DROPPED_LINKS,
    SPECIAL_LINKS,
    merge_customers,
)
from crm.services.errors import DomainError, NotAllowed
from models import (
    AuditAction,
    AuditEntry,
    CompetitorProfile,
    Contact,
    Customer,
    Opportunity,
    Reminder,
    Strategy,
    ThreatLevel,
    Visit,
)

CODE = "91310115000000123" + credit_code_check_char("91310115000000123")


@pytest.fixture
def pair(org, make_customer, make_contact, make_competitor, make_profile):
    """A survivor and a duplicate with contacts, profiles, a subsidiary and history."""
    survivor = make_customer(org["m1"], name="东湖精密制造有限公司", notes="老客户")
    duplicate = make_customer(
        org["m3"],
        name="东湖精密制造",
        credit_code=CODE,
        region="武汉",
        strategy=Strategy.INVEST,
        contract_expiry=date(2026, 12, 31),
        notes="另一队也在跟",
    )
    unicom, telecom = make_competitor(name="中国联通"), make_competitor(name="中国电信")
    make_profile(survivor, unicom, products="专线", threat=ThreatLevel.HIGH)
    make_profile(
        duplicate,
        unicom,
        products="云主机",
        offer="八五折",
        discount_percent=Decimal("15.00"),
        threat=ThreatLevel.LOW,
    )
    make_profile(duplicate, telecom, products="宽带")
    make_contact(survivor, name="王总")
    make_contact(duplicate, name="李主任")
    make_contact(duplicate, name="张工")
    branch = make_customer(org["m3"], name="东湖精密武汉分公司", parent=duplicate)
    audit.record(
        AuditAction.CREATE, duplicate, actor=org["m3"], customer_id=duplicate.id, changes={}
    )
    db.session.commit()
    return {"survivor": survivor, "duplicate": duplicate, "branch": branch}


def test_merge_moves_everything_and_records_it(
    client, login, org, pair, make_opportunity, make_visit, make_reminder
):
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    make_opportunity(duplicate)
    make_visit(duplicate)
    make_reminder(duplicate)
    duplicate_id = duplicate.id
    moved_contact = db.session.scalar(select(Contact).where(Contact.name == "李主任"))
    version_before = moved_contact.version
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])

    found = client.get("/customers/merge?q=东湖精密").get_data(as_text=True)
    assert "东湖精密制造有限公司" in found and f"duplicate={duplicate_id}" in found
    assert client.get("/customers/merge?survivor=999999&duplicate=1").status_code == 200

    preview = client.get(f"/customers/merge?survivor={survivor.id}&duplicate={duplicate_id}")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Contacts moved to the survivor: 2" in page
    assert "Subsidiaries moved under the survivor: 1" in page
    assert "Both have a profile for 中国联通" in page
    assert db.session.get(Customer, duplicate_id) is not None  # a preview changes nothing

    response = client.post(
        "/customers/merge", data={"survivor_id": survivor.id, "duplicate_id": duplicate_id}
    )

    assert response.status_code == 302
    assert response.location.endswith(f"/customers/{survivor.id}")
    db.session.expire_all()
    assert db.session.get(Customer, duplicate_id) is None
    assert {c.name for c in survivor.contacts} == {"王总", "李主任", "张工"}
    assert db.session.get(Contact, moved_contact.id).version == version_before + 1
    assert [c.name for c in survivor.subsidiaries] == ["东湖精密武汉分公司"]
    for model in (Opportunity, Visit, Reminder):
        assert db.session.scalar(select(model.customer_id)) == survivor.id
    profiles = {p.competitor.name: p for p in survivor.competitor_profiles}
    assert set(profiles) == {"中国联通", "中国电信"}
    unicom = profiles["中国联通"]
    assert unicom.threat is ThreatLevel.HIGH  # the survivor's own values stay
    assert unicom.products.startswith("专线") and "云主机" in unicom.products
    assert unicom.offer == "八五折" and unicom.discount_percent == Decimal("15.00")
    assert db.session.scalar(select(func.count()).select_from(CompetitorProfile)) == 2
    # Empty fields are filled; both notes are kept.
    assert survivor.credit_code == CODE and survivor.region == "武汉"
    assert survivor.strategy is Strategy.INVEST
    assert survivor.contract_expiry == date(2026, 12, 31)
    assert survivor.notes.startswith("老客户") and "另一队也在跟" in survivor.notes
    assert survivor.owner_id == org["m1"].id and survivor.name == "东湖精密制造有限公司"
    # The duplicate's history now shows on the survivor, with the merge on top.
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.customer_id == survivor.id)
    ).all()
    assert not db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.customer_id == duplicate_id)
    )
    assert any(e.action is AuditAction.CREATE and e.entity_id == duplicate_id for e in history)
    (merge,) = [e for e in history if e.action is AuditAction.MERGE]
    assert merge.actor_id == org["admin"].id and merge.entity_id == survivor.id
    assert merge.changes["duplicate_id"] == duplicate_id
    assert merge.changes["duplicate_name"] == "东湖精密制造"
    assert merge.changes["duplicate_credit_code"] == CODE
    assert merge.changes["moved"]["contacts"] == 2
    assert merge.changes["moved"]["subsidiaries"] == 1
    assert merge.changes["moved"]["competitor_profiles"] == 1
    assert merge.changes["folded_profiles"][0]["products"] == "云主机"
    assert merge.changes["changed"]["credit_code"] == [None, CODE]


def test_merge_is_for_admins_only(client, login, org, pair):
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    form = {"survivor_id": survivor.id, "duplicate_id": duplicate.id}
    for persona in ("m1", "sup1", "sup2"):
        login(client, org[persona])
        assert client.get("/customers/merge").status_code == 403
        assert client.post("/customers/merge", data=form).status_code == 403
    client.post("/logout")
    assert client.get("/customers/merge").status_code == 302
    with pytest.raises(NotAllowed):
        merge_customers(survivor, duplicate, actor=org["sup1"])
    db.session.rollback()
    assert db.session.get(Customer, duplicate.id) is not None


def test_a_customer_cannot_be_merged_into_itself(client, login, org, pair):
    survivor = pair["survivor"]
    with pytest.raises(DomainError):
        merge_customers(survivor, survivor, actor=org["admin"])
    db.session.rollback()
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])

    page = client.get(f"/customers/merge?survivor={survivor.id}&duplicate={survivor.id}")
    assert "cannot be merged into itself" in page.get_data(as_text=True)
    assert 'id="merge-confirm"' not in page.get_data(as_text=True)
    response = client.post(
        "/customers/merge", data={"survivor_id": survivor.id, "duplicate_id": survivor.id}
    )
    assert response.status_code == 302
    assert db.session.get(Customer, survivor.id) is not None
    assert len(survivor.contacts) == 1


def test_a_group_cannot_be_merged_into_its_own_subsidiary(org, pair):
    branch, duplicate = pair["branch"], pair["duplicate"]
    with pytest.raises(DomainError):
        merge_customers(branch, duplicate, actor=org["admin"])
    db.session.rollback()

    # The other way round is fine: the subsidiary folds into its group.
    merge_customers(duplicate, branch, actor=org["admin"])
    db.session.commit()
    assert duplicate.parent_id is None and duplicate.subsidiaries == []


def test_a_subsidiary_of_the_duplicate_can_survive_only_the_other_way(org, make_customer):
    group = make_customer(org["m1"], name="集团")
    branch = make_customer(org["m1"], name="分公司", parent=group)
    grandchild = make_customer(org["m1"], name="孙公司", parent=branch)
    with pytest.raises(DomainError):
        merge_customers(grandchild, group, actor=org["admin"])
    db.session.rollback()
    merge_customers(group, grandchild, actor=org["admin"])
    db.session.commit()
    assert [c.name for c in branch.subsidiaries] == []
    assert group.parent_id is None  # never its own ancestor


def test_every_table_hanging_off_a_customer_is_moved_by_the_merge():
    """A new table with a foreign key to customers must be added to merge.CUSTOMER_LINKS."""
    links = (*CUSTOMER_LINKS, *SPECIAL_LINKS, *DROPPED_LINKS)
    covered = {column.property.columns[0] for _model, column in links}
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == "customers":
                assert key.parent in covered, f"{table.name}.{key.parent.name} is not merged"


def test_merge_keeps_ownership_history_when_one_handover_moved_both(org, make_customer):
    from models import Handover, HandoverCustomer

    survivor = make_customer(org["m1"], name="重复A")
    duplicate = make_customer(org["m1"], name="重复A有限公司")
    other = make_customer(org["m1"], name="别的")
    both = Handover(actor=org["sup1"], to_owner=org["m1"], token="t-both", note="n")
    only_dup = Handover(actor=org["sup1"], to_owner=org["m1"], token="t-dup", note="n")
    db.session.add_all([both, only_dup])
    db.session.flush()
    for handover, customer in (
        (both, survivor),
        (both, duplicate),
        (both, other),
        (only_dup, duplicate),
    ):
        db.session.add(
            HandoverCustomer(handover=handover, customer=customer, from_owner_id=org["m2"].id)
        )
    db.session.commit()

    merge_customers(survivor, duplicate, actor=org["admin"])
    db.session.commit()

    rows = db.session.execute(
        select(HandoverCustomer.handover_id, HandoverCustomer.customer_id).order_by(
            HandoverCustomer.id
        )
    ).all()
    assert sorted(rows) == sorted(
        [(both.id, survivor.id), (both.id, other.id), (only_dup.id, survivor.id)]
    )
