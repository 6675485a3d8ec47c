"""Creating, editing and deleting customers: credit codes, duplicates, versions, groups, owners."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.activity import timeline
from crm.services.archive import customers as customer_service
from crm.services.archive.identity import credit_code_check_char, normalise_name
from crm.services.errors import DomainError, NotAllowed, StaleEdit
from models import AuditAction, AuditEntry, BuyingRole, Customer, Tier


def credit_code(serial: int) -> str:
    body = f"91430100MA{serial:07d}"
    return body + credit_code_check_char(body)


def form_data(**overrides) -> dict:
    data = {
        "name": "江城云图科技有限公司",
        "credit_code": "",
        "parent_id": "0",
        "industry_id": "0",
        "region": "江城市",
        "address": "",
        "employees": "",
        "annual_revenue": "",
        "annual_spend": "",
        "tier": "B",
        "strategy": "",
        "status": "active",
        "products_in_use": "",
        "contract_expiry": "",
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def m1_client(client, org, login):
    org["m1"].locale = "en"
    db.session.commit()
    return login(client, org["m1"])


def customer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


# Credit codes -----------------------------------------------------------------------


def test_a_valid_credit_code_passes():
    assert customer_service.credit_code_error(credit_code(1)) is None
    assert customer_service.credit_code_error("91350100M000100Y43") is None  # a published one


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (credit_code(1)[:17] + ("0" if credit_code(1)[17] != "0" else "1"), "check digit"),
        (credit_code(1)[:17], "has 18 characters; this one has 17"),
        (credit_code(1) + "0", "this one has 19"),
        ("91430100MA000000I" + "0", "other than I, O, S, V and Z"),
    ],
)
def test_a_bad_credit_code_is_explained(app, code, words):
    with force_locale("en"):
        assert words in str(customer_service.credit_code_error(code))


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda code: code.lower(), id="lower case"),
        pytest.param(lambda code: f" {code[:6]} {code[6:12]}\t{code[12:]} ", id="spaces"),
        pytest.param(lambda code: f"{code[:9]}\u3000{code[9:]}\u200b", id="ideographic space"),
        pytest.param(
            lambda code: code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
            id="full width",
        ),
    ],
)
def test_the_form_reads_a_credit_code_however_it_was_typed(m1_client, typed):
    code = credit_code(7)
    response = m1_client.post("/customers/new", data=form_data(credit_code=typed(code)))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(Customer.credit_code)) == code


def test_the_service_and_the_search_read_a_credit_code_as_the_form_does(m1_client, org):
    code = credit_code(8)
    customer_service.create_customer(actor=org["m1"], name="甲", credit_code=code.lower())
    db.session.commit()
    with pytest.raises(customer_service.DuplicateCreditCode):
        customer_service.create_customer(
            actor=org["m1"], name="乙", credit_code=f"{code[:9]}\u3000{code[9:].lower()}"
        )
    db.session.rollback()
    assert db.session.scalar(select(Customer.credit_code)) == code
    page = m1_client.get("/customers/", query_string={"q": code.lower()}).get_data(as_text=True)
    assert "甲" in page


def test_a_credit_code_still_wrong_after_reading_is_refused(m1_client):
    code = credit_code(7)
    bad = code[:17] + ("0" if code[17] != "0" else "1")
    response = m1_client.post("/customers/new", data=form_data(credit_code=bad.lower()))
    assert response.status_code == 400
    assert "check digit" in response.get_data(as_text=True)
    assert customer_count() == 0


def test_a_duplicate_credit_code_is_refused_with_a_link_to_the_customer(m1_client, org):
    existing = customer_service.create_customer(
        actor=org["m1"], name="临江港口有限公司", credit_code=credit_code(3)
    )
    db.session.commit()

    response = m1_client.post(
        "/customers/new", data=form_data(name="另一家公司", credit_code=credit_code(3))
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'href="/customers/{existing.id}"' in page
    assert "already has this credit code" in page
    assert customer_count() == 1


def test_a_duplicate_credit_code_out_of_scope_says_whom_to_ask_not_what(client, login, org):
    existing = customer_service.create_customer(
        actor=org["m3"], name="临江港口有限公司", credit_code=credit_code(3)
    )
    org["m3"].display_name, org["sup2"].display_name = "王小明", "李主管"
    org["m1"].locale = "en"
    db.session.commit()
    login(client, org["m1"])

    response = client.post("/customers/new", data=form_data(credit_code=credit_code(3)))

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and customer_count() == 1
    # Enough to ask for a handover: the owning team and its supervisor ...
    assert "team Team Two (supervisor: 李主管)" in page
    assert "hand the customer over" in page
    # ... but not the customer, nor who owns it.
    assert "临江港口有限公司" not in page
    assert "王小明" not in page
    assert f"/customers/{existing.id}" not in page


def test_a_duplicate_credit_code_in_scope_is_named_and_linked(client, login, org):
    existing = customer_service.create_customer(
        actor=org["m3"], name="临江港口有限公司", credit_code=credit_code(3)
    )
    db.session.commit()
    login(client, org["sup2"])

    response = client.post(
        "/customers/new", data=form_data(credit_code=credit_code(3), owner_id=org["m4"].id)
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400 and customer_count() == 1
    alert = re.search(r'id="duplicate-credit-code">(.*?)</div>', page, re.S).group(1)
    assert f'href="/customers/{existing.id}">临江港口有限公司</a>' in alert


def test_editing_keeps_its_own_credit_code(org):
    customer = customer_service.create_customer(
        actor=org["m1"], name="甲", credit_code=credit_code(4)
    )
    customer_service.update_customer(
        customer, actor=org["m1"], version=customer.version, credit_code=credit_code(4), notes="x"
    )
    assert customer.notes == "x"


# Duplicate names --------------------------------------------------------------------


def test_a_similar_name_warns_and_saves_only_when_confirmed(m1_client, org, make_customer):
    mine = make_customer(org["m1"], name="东湖精密制造有限公司", name_key="东湖精密制造")
    make_customer(org["m3"], name="东湖精密制造股份有限公司", name_key="东湖精密制造")

    response = m1_client.post("/customers/new", data=form_data(name="东湖 精密制造集团"))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="similar-customers"' in page
    assert f'href="/customers/{mine.id}"' in page  # the one in scope is linked
    assert "1 more in other portfolios" in page  # the other is only counted
    assert customer_count() == 2

    confirmed = m1_client.post(
        "/customers/new", data=form_data(name="东湖 精密制造集团", confirm_duplicate="y")
    )
    assert confirmed.status_code == 302
    created = db.session.scalar(select(Customer).where(Customer.name == "东湖 精密制造集团"))
    assert created.name_key == "东湖精密制造" and created.owner == org["m1"]


def test_similar_customers_are_found_across_scopes(org, make_customer):
    other = make_customer(org["m4"], name="ＡＢＣ 物流有限公司", name_key="abc物流")
    assert customer_service.similar_customers("abc物流集团") == [other]
    assert customer_service.similar_customers("abc物流", exclude_id=other.id) == []
    with pytest.raises(customer_service.SimilarNames):
        customer_service.create_customer(actor=org["m1"], name="ABC物流分公司")


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u3000"],
    ids=["zero-width space", "zero-width joiner", "BOM", "word joiner", "soft hyphen", "U+3000"],
)
def test_invisible_characters_do_not_hide_a_similar_name(m1_client, org, make_customer, invisible):
    existing = customer_service.create_customer(actor=org["m3"], name="东湖精密制造有限公司")
    db.session.commit()
    typed = f"东湖{invisible}精密{invisible}制造有限公司"

    response = m1_client.post("/customers/new", data=form_data(name=typed))

    assert response.status_code == 400
    assert 'id="similar-customers"' in response.get_data(as_text=True)
    assert customer_count() == 1
    with pytest.raises(customer_service.SimilarNames) as refused:
        customer_service.create_customer(actor=org["m1"], name=typed)
    assert refused.value.similar == [existing]


def test_names_compare_without_invisible_characters():
    plain = normalise_name("东湖精密制造有限公司")
    for invisible in ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad"):
        assert normalise_name(f"{invisible}东湖{invisible}精密制造有限公司{invisible}") == plain


def test_keys_saved_before_the_fix_are_computed_again(org, make_customer):
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    path = (
        Path(__file__).parents[1]
        / "migrations/versions/0010_name_keys_without_invisible_characters.py"
    )
    spec = spec_from_file_location("migration_0010", path)
    migration = module_from_spec(spec)
    spec.loader.exec_module(migration)
    old = make_customer(org["m3"], name="东湖\u200b精密制造有限公司", name_key="东湖\u200b精密制造")
    plain = make_customer(org["m3"], name="西湖有限公司", name_key="西湖")

    assert migration.recompute_name_keys(db.session.connection()) == 1
    db.session.commit()

    db.session.refresh(old)
    assert old.name_key == "东湖精密制造" and plain.name_key == "西湖"
    assert customer_service.similar_customers("东湖精密制造集团") == [old]


def test_a_name_is_saved_without_invisible_format_characters(org):
    customer = customer_service.create_customer(
        actor=org["m1"], name="\ufeff星河\u200b零售\u200d有限公司", confirm_duplicate=True
    )
    assert customer.name == "星河零售有限公司" and customer.name_key == "星河零售"


def test_renaming_keeps_the_name_key_current(org):
    customer = customer_service.create_customer(actor=org["m1"], name="星河零售有限公司")
    customer_service.update_customer(
        customer, actor=org["m1"], version=customer.version, name="星河 百货 集团"
    )
    assert customer.name_key == "星河百货"


# Version conflicts ------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_nothing_is_lost(m1_client, org):
    customer = customer_service.create_customer(
        actor=org["m1"], name="青禾教育科技有限公司", tier=Tier.B
    )
    db.session.commit()
    page = m1_client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)

    first = m1_client.post(
        f"/customers/{customer.id}/edit",
        data=form_data(name="青禾教育科技有限公司", tier="A", notes="first", version=version),
    )
    second = m1_client.post(
        f"/customers/{customer.id}/edit",
        data=form_data(name="青禾教育科技有限公司", tier="C", notes="second", version=version),
    )

    assert first.status_code == 302
    assert second.status_code == 409
    db.session.expire_all()
    assert customer.notes == "first" and customer.tier is Tier.A
    page = second.get_data(as_text=True)
    assert "Someone else saved this record" in page
    stored = page[page.index('id="stored-values"') :]
    assert "first" in stored  # what the other edit saved, shown beside the form
    assert "second</textarea>" in page  # the refused input is still in the form
    updates = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.UPDATE)
    ).all()
    assert len(updates) == 1 and updates[0].changes["notes"] == [None, "first"]


def test_the_service_refuses_an_old_version(org):
    customer = customer_service.create_customer(actor=org["m1"], name="甲")
    start = customer.version
    customer_service.update_customer(customer, actor=org["m1"], version=start, notes="a")
    with pytest.raises(StaleEdit):
        customer_service.update_customer(customer, actor=org["m1"], version=start, notes="b")
    assert customer.notes == "a"


# Groups -----------------------------------------------------------------------------


def test_a_parent_cycle_is_refused(org):
    group = customer_service.create_customer(actor=org["m1"], name="北辰能源集团")
    branch = customer_service.create_customer(
        actor=org["m1"], name="北辰能源临江", parent_id=group.id
    )
    leaf = customer_service.create_customer(
        actor=org["m1"], name="北辰能源临江营业部", parent_id=branch.id
    )

    with pytest.raises(DomainError) as refused:
        customer_service.update_customer(
            group, actor=org["m1"], version=group.version, parent_id=leaf.id
        )
    assert refused.value.field == "parent_id"
    with pytest.raises(DomainError) as itself:
        customer_service.update_customer(
            group, actor=org["m1"], version=group.version, parent_id=group.id
        )
    assert itself.value.field == "parent_id"
    with force_locale("en"):
        assert "loop" in str(refused.value.message)
        assert "own parent" in str(itself.value.message)
    assert group.parent_id is None


def test_a_parent_must_be_in_scope(org, make_customer):
    foreign = make_customer(org["m3"], name="别人的集团")
    with pytest.raises(DomainError) as refused:
        customer_service.create_customer(actor=org["m1"], name="分公司甲", parent_id=foreign.id)
    assert refused.value.field == "parent_id"


def test_the_group_tree_links_only_customers_in_scope(client, login, org, make_customer):
    top = make_customer(org["m3"], name="远航港务集团有限公司")
    middle = make_customer(org["m1"], name="远航港务集团物流分公司", parent=top)
    mine = make_customer(org["m1"], name="远航港务集团临江营业部", parent=middle)
    teammate = make_customer(org["m2"], name="远航港务集团江城营业部", parent=middle)
    login(client, org["m1"])

    page = client.get(f"/customers/{middle.id}").get_data(as_text=True)
    tree = page[page.index('id="group-tree"') : page.index('id="history"')]

    assert "远航港务集团有限公司" in tree and f"/customers/{top.id}" not in tree
    assert f'href="/customers/{mine.id}"' in tree
    assert "远航港务集团江城营业部" in tree and f"/customers/{teammate.id}" not in tree


# Owners -----------------------------------------------------------------------------


def test_owner_choice_follows_the_role(org):
    with pytest.raises(NotAllowed):
        customer_service.create_customer(actor=org["m1"], name="甲", owner_id=org["m2"].id)
    for_teammate = customer_service.create_customer(
        actor=org["sup1"], name="乙", owner_id=org["m2"].id
    )
    assert for_teammate.owner == org["m2"] and for_teammate.created_by == org["sup1"]
    with pytest.raises(NotAllowed):
        customer_service.create_customer(actor=org["sup1"], name="丙", owner_id=org["m3"].id)
    anyone = customer_service.create_customer(actor=org["admin"], name="丁", owner_id=org["m3"].id)
    assert anyone.owner == org["m3"]


def test_a_manager_creates_for_themselves_in_the_browser(m1_client, org):
    page = m1_client.get("/customers/new").get_data(as_text=True)
    assert 'name="owner_id"' not in page
    response = m1_client.post(
        "/customers/new",
        data=form_data(annual_spend="1200000.5", contract_expiry="2027-03-31", strategy="invest"),
    )
    assert response.status_code == 302
    customer = db.session.scalar(select(Customer))
    assert customer.owner == org["m1"] and customer.created_by == org["m1"]
    assert customer.annual_spend == Decimal("1200000.50")


def test_a_supervisor_may_assign_a_team_member_but_not_another_team(client, login, org):
    org["sup1"].locale = "en"
    login(client, org["sup1"])
    page = client.get("/customers/new").get_data(as_text=True)
    owners = page[page.index('name="owner_id"') :]
    owners = owners[: owners.index("</select>")]
    assert ">M2</option>" in owners and ">M3</option>" not in owners
    refused = client.post("/customers/new", data=form_data(owner_id=org["m3"].id))
    assert refused.status_code == 400 and customer_count() == 0
    done = client.post("/customers/new", data=form_data(owner_id=org["m2"].id))
    assert done.status_code == 302
    assert db.session.scalar(select(Customer)).owner == org["m2"]


# Audit and the customer page ------------------------------------------------------


def test_create_and_change_are_recorded_and_shown(m1_client, org):
    customer = customer_service.create_customer(actor=org["m1"], name="华岳证券股份有限公司")
    customer_service.update_customer(
        customer, actor=org["m1"], version=customer.version, tier=Tier.A, annual_spend=Decimal(5)
    )
    db.session.commit()
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.customer_id == customer.id)
    ).all()
    assert sorted(actions) == [AuditAction.CREATE, AuditAction.UPDATE]

    page = m1_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    history = page[page.index('id="history"') :]
    assert "C → A" in history and "¥5" in history and "M1" in history


def test_the_history_shows_the_latest_few_with_a_link_to_more(m1_client, org):
    customer = customer_service.create_customer(actor=org["m1"], name="甲")
    for number in range(55):
        customer_service.update_customer(
            customer, actor=org["m1"], version=customer.version, notes=f"n{number}"
        )
    db.session.commit()
    page = m1_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert page.count("history-entry") == timeline.LATEST and 'id="timeline-older"' not in page
    more = re.search(r'href="([^"]+)#history" id="timeline-more"', page).group(1)
    rest = m1_client.get(html.unescape(more)).get_data(as_text=True)
    assert rest.count("history-entry") == 56 - timeline.LATEST and 'id="timeline-older"' not in rest


def test_the_page_flags_a_customer_without_a_decision_maker(
    m1_client, org, make_customer, make_contact
):
    customer = make_customer(org["m1"])
    make_contact(customer, role=BuyingRole.CONTACT_PERSON)
    make_contact(customer, role=BuyingRole.DECISION_MAKER, active=False)  # left the company
    page = m1_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="no-decision-maker"' in page
    assert f"/customers/{customer.id}/contacts/new" in page

    make_contact(customer, role=BuyingRole.DECISION_MAKER)
    page = m1_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert 'id="no-decision-maker"' not in page


# Deleting ---------------------------------------------------------------------------


def test_an_admin_deletes_a_bare_customer_and_the_deletion_is_recorded(client, login, org):
    customer = customer_service.create_customer(actor=org["m1"], name="临时客户")
    db.session.commit()
    customer_id = customer.id
    login(client, org["admin"])
    response = client.post(f"/customers/{customer_id}/delete", data={"confirmed": "1"})
    assert response.status_code == 302
    assert db.session.get(Customer, customer_id) is None
    deleted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.DELETE))
    assert deleted.customer_id == customer_id and deleted.changes["name"] == "临时客户"


def test_deleting_is_refused_while_contacts_or_subsidiaries_hang_off(
    org, make_customer, make_contact
):
    with_contact = make_customer(org["m1"])
    make_contact(with_contact)
    group = make_customer(org["m1"])
    make_customer(org["m1"], parent=group)
    for customer in (with_contact, group):
        with pytest.raises(DomainError) as refused:
            customer_service.delete_customer(customer, actor=org["admin"])
        with force_locale("en"):
            assert "merge them instead" in str(refused.value.message)
    with pytest.raises(NotAllowed):
        customer_service.delete_customer(make_customer(org["m1"]), actor=org["m1"])
    assert customer_count() == 4


def test_deleting_is_refused_while_any_record_refers_to_the_customer(
    client, login, org, make_customer, make_visit
):
    """A visit (or an opportunity, a document, a plan …) keeps its customer: the admin is
    told to merge, and nothing is deleted (it was a database error page before)."""
    visited = make_customer(org["m1"])
    make_visit(visited)
    db.session.commit()
    login(client, org["admin"])

    response = client.post(f"/customers/{visited.id}/delete", data={"confirmed": "1"})

    assert response.status_code in (302, 400)
    assert db.session.get(Customer, visited.id) is not None
    with pytest.raises(DomainError):
        customer_service.delete_customer(visited, actor=org["admin"])


def test_the_owner_may_not_delete(m1_client, org, make_customer):
    customer = make_customer(org["m1"])
    assert m1_client.post(f"/customers/{customer.id}/delete").status_code == 403
    assert db.session.get(Customer, customer.id) is not None


def test_a_subsidiary_of_another_teams_group_stays_editable(m1_client, org, make_customer):
    group = make_customer(org["m3"], name="远航港务集团有限公司")
    branch = make_customer(org["m1"], name="远航港务集团临江分公司", parent=group)
    response = m1_client.post(
        f"/customers/{branch.id}/edit",
        data=form_data(name=branch.name, parent_id=group.id, notes="renewal in May", version=1),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert branch.notes == "renewal in May" and branch.parent == group


def test_the_parent_choices_are_the_customers_in_scope(client, login, org, make_customer):
    make_customer(org["m1"], name="Own Parent Group")
    make_customer(org["m3"], name="Other Team Group")
    login(client, org["m1"])

    page = client.get("/customers/new").get_data(as_text=True)

    assert "Own Parent Group" in page
    assert "Other Team Group" not in page
