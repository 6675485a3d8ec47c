"""The customer search narrowed by its bigram index finds exactly what its LIKEs find.

The index (models/search_grams.py) is kept by triggers on every write; each test compares
the search with the index against the same search without it (the LIKEs over every
customer in scope, as before the index), and names the customers it expects.
"""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import delete, select, text, update

from crm.extensions import db
from crm.services.archive import search_backlog, search_index
from crm.services.archive.identity import normalise_name
from crm.services.archive.merge import merge_customers
from crm.services.archive.search import CustomerFilters, search_customers
from crm.services.imports import batch as imports
from models import Contact, Customer, SearchGram, SearchGramBacklog
from tests.search_support import keyed_customer, same_as_likes_alone


def own_grams(customer: Customer) -> set[str]:
    """The customer's own rows: the bigrams of its name and key as they are now, no others."""
    stmt = select(SearchGram.gram).where(
        SearchGram.customer_id == customer.id, SearchGram.contact_id == 0
    )
    return set(db.session.scalars(stmt))


def found(user, q: str, **filters) -> set[str]:
    stmt = search_customers(user, CustomerFilters(q=q, **filters))
    return {customer.name for customer in db.session.scalars(stmt)}


def same_as_before(user, q: str, monkeypatch, **filters) -> set[str]:
    """The search's customers, checked against the LIKEs over every customer in scope."""
    return same_as_likes_alone(found, monkeypatch, user, q, **filters)


@pytest.fixture
def archive(org, make_customer, make_contact):
    m1, m3 = org["m1"], org["m3"]
    customer = partial(keyed_customer, make_customer)

    customers = {
        "life": customer(m1, "中国人寿保险股份有限公司"),
        "hospital": customer(m1, "东湖人民医院"),
        "bank": customer(m1, "ACME Bank 银行"),
        "steel": customer(m1, "宝山钢铁集团"),
        "other_team": customer(m3, "西湖人寿分公司"),
    }
    make_contact(customers["steel"], "王小明", mobile="13800138000")
    make_contact(customers["hospital"], "李医生", mobile="13912345678")
    make_contact(customers["other_team"], "赵人寿", mobile="13700001111")
    return customers


QUERIES = (
    "人",  # one character: the LIKEs alone
    "人寿",
    "医院",
    "银行",
    "人民医",
    "寿保险股",
    "acme",  # Latin, folded as SQLite's LIKE folds ASCII
    "ACME",
    "Bank",
    "ba",
    "王小",  # a contact's name
    "小明",
    "13800138000",  # a contact's mobile
    "0013",
    "东湖",
    "宝山 钢铁",  # the name key drops the space (and 集团): found by the key only
    "Acme Bank",
    "股份有限公司",
    "%寿",  # a LIKE pattern: the LIKEs alone
    "人_",
    "不存在",
    "钢铁集团有限公司",
)


@pytest.mark.parametrize("probe", [False, True], ids=["by-id", "probed"])
@pytest.mark.parametrize("persona", ["admin", "sup1", "m1"])
def test_the_index_finds_what_the_likes_find(archive, org, monkeypatch, persona, probe):
    if probe:  # every candidate set "many": a narrowed search probes each customer it finds
        monkeypatch.setattr(search_index, "FEW", 0)
    for q in QUERIES:
        same_as_before(org[persona], q, monkeypatch)
    admin = org["admin"]
    assert found(admin, "人寿") == {"中国人寿保险股份有限公司", "西湖人寿分公司"}
    assert found(admin, "医院") == {"东湖人民医院"}
    assert found(admin, "银行") == {"ACME Bank 银行"}
    assert found(admin, "小明") == {"宝山钢铁集团"}
    assert found(admin, "13912345678") == {"东湖人民医院"}
    assert found(admin, "宝山 钢铁") == {"宝山钢铁集团"}
    assert found(admin, "acme bank") == {"ACME Bank 银行"}
    assert found(admin, "人") == {"中国人寿保险股份有限公司", "东湖人民医院", "西湖人寿分公司"}


def test_a_filtered_admin_search_probes_the_customers_its_filters_find(archive, org, monkeypatch):
    monkeypatch.setattr(search_index, "FEW", 0)
    admin = org["admin"]
    region = archive["life"].region
    for q in QUERIES:
        same_as_before(admin, q, monkeypatch, region=region)
        same_as_before(admin, q, monkeypatch, owner=str(org["m3"].id))
    assert found(admin, "人寿", owner=str(org["m3"].id)) == {"西湖人寿分公司"}
    if db.engine.dialect.name == "sqlite":
        stmt = search_customers(admin, CustomerFilters(q="人寿", owner=str(org["m3"].id)))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        details = " | ".join(
            row.detail for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
        assert "SEARCH search_grams USING PRIMARY KEY (gram=? AND customer_id=?)" in details


def test_another_teams_customers_stay_out_of_the_search(archive, org, monkeypatch):
    # 西湖人寿分公司 belongs to team two; its name and its contact both hold 人寿.
    for persona in ("sup1", "m1"):
        assert same_as_before(org[persona], "人寿", monkeypatch) == {"中国人寿保险股份有限公司"}
        assert found(org[persona], "赵人寿") == set()
    assert found(org["m2"], "人寿") == set()  # m2's team-mate owns it, m2 does not
    assert found(org["sup2"], "人寿") == {"西湖人寿分公司"}


def test_a_rename_is_found_by_its_new_name_only(archive, org, monkeypatch):
    steel = archive["steel"]
    steel.name, steel.name_key = "宝武特钢集团", normalise_name("宝武特钢集团")
    db.session.commit()
    admin = org["admin"]
    assert same_as_before(admin, "特钢", monkeypatch) == {"宝武特钢集团"}
    assert same_as_before(admin, "宝山", monkeypatch) == set()
    # Core statements too (a bulk UPDATE, as a merge or a script writes).
    db.session.execute(
        update(Customer).where(Customer.id == steel.id).values(name="宝山钢铁", name_key="宝山钢铁")
    )
    db.session.commit()
    assert same_as_before(admin, "宝山", monkeypatch) == {"宝山钢铁"}
    assert same_as_before(admin, "特钢", monkeypatch) == set()
    assert own_grams(steel) == {"宝山", "山钢", "钢铁"}  # the old name's bigrams are gone


def test_contacts_added_renamed_and_deleted(archive, org, monkeypatch, make_contact):
    admin, bank = org["admin"], archive["bank"]
    contact = make_contact(bank, "钱多多", mobile="18600000001")
    assert same_as_before(admin, "多多", monkeypatch) == {"ACME Bank 银行"}
    assert same_as_before(admin, "0000001", monkeypatch) == {"ACME Bank 银行"}
    contact.name, contact.mobile = "孙悟空", "18600000002"
    db.session.commit()
    assert same_as_before(admin, "多多", monkeypatch) == set()
    assert same_as_before(admin, "悟空", monkeypatch) == {"ACME Bank 银行"}
    assert same_as_before(admin, "0000001", monkeypatch) == set()
    # Moved to another customer by a core UPDATE, as a merge moves contacts.
    db.session.execute(
        update(Contact).where(Contact.id == contact.id).values(customer_id=archive["life"].id)
    )
    db.session.commit()
    assert same_as_before(admin, "悟空", monkeypatch) == {"中国人寿保险股份有限公司"}
    db.session.execute(delete(Contact).where(Contact.id == contact.id))
    db.session.commit()
    assert same_as_before(admin, "悟空", monkeypatch) == set()
    assert not db.session.scalar(select(SearchGram).where(SearchGram.contact_id == contact.id))


def test_a_merge_moves_the_duplicates_contacts_and_drops_its_name(
    archive, org, monkeypatch, make_customer, make_contact
):
    admin = org["admin"]
    duplicate = make_customer(org["m1"], "宝山钢铁集团分部")
    make_contact(duplicate, "周星星", mobile="13500000000")
    merge_customers(archive["steel"], duplicate, actor=admin)
    db.session.commit()
    assert same_as_before(admin, "星星", monkeypatch) == {"宝山钢铁集团"}
    assert same_as_before(admin, "分部", monkeypatch) == set()
    leftovers = select(SearchGram).where(SearchGram.customer_id == duplicate.id)
    assert db.session.scalars(leftovers).all() == []


def _import(kind: str, lines: list[str], actor) -> None:
    report = imports.run_import(
        imports.parse_file(kind, "\r\n".join([*lines, ""]).encode()), actor=actor
    )
    assert report.ok and report.imported == len(lines) - 1


def backlog() -> set[tuple[int, int]]:
    return set(
        db.session.execute(select(SearchGramBacklog.customer_id, SearchGramBacklog.contact_id))
    )


@pytest.mark.parametrize("probe", [False, True], ids=["by-id", "probed"])
def test_imported_customers_and_contacts_are_found_before_and_after_the_fold(
    archive, org, monkeypatch, probe
):
    """An import lists its rows in the backlog instead of cutting their bigrams; the search
    finds them there until the scheduler's fold has cut them, and by their bigrams after."""
    if probe:
        monkeypatch.setattr(search_index, "FEW", 0)
    admin, m1 = org["admin"], org["m1"]
    _import("customers", ["name", "江夏农商银行", "武昌中心医院"], m1)
    _import("contacts", ["customer,name,mobile", "武昌中心医院,吴护士长,15000000000"], m1)
    db.session.commit()
    bank = db.session.scalar(select(Customer).where(Customer.name == "江夏农商银行"))
    hospital = db.session.scalar(select(Customer).where(Customer.name == "武昌中心医院"))
    nurse = db.session.scalar(select(Contact).where(Contact.name == "吴护士长"))
    # Listed, not cut: without the backlog the search would not find them. The mark is gone.
    assert backlog() == {(bank.id, 0), (hospital.id, 0), (hospital.id, nurse.id)}
    assert own_grams(bank) == own_grams(hospital) == set()

    def searches() -> None:
        assert same_as_before(admin, "银行", monkeypatch) == {"ACME Bank 银行", "江夏农商银行"}
        assert same_as_before(admin, "护士", monkeypatch) == {"武昌中心医院"}
        assert same_as_before(admin, "医院", monkeypatch) == {"东湖人民医院", "武昌中心医院"}
        # A manager's search is narrowed by scope: probed when FEW is 0 (银行 has a row).
        assert same_as_before(m1, "银行", monkeypatch) == {"ACME Bank 银行", "江夏农商银行"}
        assert same_as_before(org["m3"], "农商", monkeypatch) == set()  # another team's

    searches()
    assert search_backlog.fold(batch=2) == 3  # two transactions
    assert backlog() == set()
    assert own_grams(bank) == set(search_index.bigrams(bank.name)) | set(
        search_index.bigrams(bank.name_key)
    )
    searches()
    assert search_backlog.fold() == 0


def test_the_scheduler_job_folds_the_backlog(app, org):
    from crm.scheduler import build_scheduler, run_fold_search_backlog

    job = build_scheduler(app).get_job(search_backlog.FOLD_JOB_ID)
    assert job is not None and job.func is run_fold_search_backlog
    _import("customers", ["name", "江夏农商银行"], org["m1"])
    db.session.commit()
    assert backlog()
    run_fold_search_backlog(app)
    db.session.expire_all()
    assert backlog() == set()
    bank = db.session.scalar(select(Customer).where(Customer.name == "江夏农商银行"))
    assert own_grams(bank) == set(search_index.bigrams(bank.name))


def test_a_listed_customer_renamed_before_the_fold_is_found_by_its_new_name(
    archive, org, monkeypatch
):
    admin, m1 = org["admin"], org["m1"]
    _import("customers", ["name", "江夏农商银行"], m1)
    db.session.commit()
    bank = db.session.scalar(select(Customer).where(Customer.name == "江夏农商银行"))
    bank.name, bank.name_key = "江夏信用合作社", normalise_name("江夏信用合作社")
    db.session.commit()
    assert same_as_before(admin, "合作", monkeypatch) == {"江夏信用合作社"}
    search_backlog.fold()
    assert own_grams(bank) == set(search_index.bigrams(bank.name)) | set(
        search_index.bigrams(bank.name_key)
    )
    assert same_as_before(admin, "农商", monkeypatch) == set()
    assert same_as_before(admin, "合作", monkeypatch) == {"江夏信用合作社"}


def test_only_the_bulk_writes_own_inserts_are_listed(archive, org, make_customer):
    """Outside `bulk_writes` an insert cuts its bigrams at once; inside, a failure leaves
    nothing listed once rolled back, and a mark committed by mistake is removed by the fold."""
    m1 = org["m1"]
    plain = make_customer(m1, "青山热电厂")
    assert own_grams(plain) and backlog() == set()
    with search_backlog.bulk_writes():
        listed = Customer(name="青山钢铁厂", name_key="青山钢铁厂", owner=m1)
        db.session.add(listed)
        db.session.flush()
        assert backlog() == {(0, 0), (listed.id, 0)}
    assert backlog() == {(listed.id, 0)}
    db.session.rollback()
    assert backlog() == set()
    db.session.execute(db.insert(SearchGramBacklog).values(customer_id=0, contact_id=0))
    db.session.commit()  # a caller that committed without leaving the block
    search_backlog.fold()
    assert backlog() == set()
    assert own_grams(make_customer(m1, "青山水泥厂"))


def test_a_deleted_customer_leaves_no_grams(archive, org):
    bank = archive["bank"]
    db.session.execute(delete(Customer).where(Customer.id == bank.id))
    db.session.commit()
    assert (
        db.session.scalars(select(SearchGram).where(SearchGram.customer_id == bank.id)).all() == []
    )


def test_the_grams_are_the_folded_bigrams_of_name_key_and_contacts(archive):
    steel = archive["steel"]
    grams = set(
        db.session.scalars(
            select(SearchGram.gram).where(
                SearchGram.customer_id == steel.id, SearchGram.contact_id == 0
            )
        )
    )
    assert grams == set(search_index.bigrams(steel.name)) | set(
        search_index.bigrams(steel.name_key)
    )
    bank = archive["bank"]
    bank_grams = set(
        db.session.scalars(select(SearchGram.gram).where(SearchGram.customer_id == bank.id))
    )
    assert {"ac", "ba", "银行"} <= bank_grams and "AC" not in bank_grams


def test_the_search_reads_the_gram_index(archive, org):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; the bench times the other database")
    stmt = search_customers(org["admin"], CustomerFilters(q="人寿"))
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    details = " | ".join(row.detail for row in plan)
    assert "SEARCH search_grams USING PRIMARY KEY (gram=?)" in details, details
    assert "SCAN customers" not in details, details


def test_common_words_are_left_to_the_likes_and_still_found(archive, org, monkeypatch):
    # At province scale a bigram held by 20,000 customers narrows too little; here one is
    # "common" from a single row, so every word goes back to the LIKEs, digits excepted.
    monkeypatch.setattr(search_index, "COMMON", 1)
    admin = org["admin"]
    assert search_index.narrowing(["人寿"], None, narrowed=False) is None
    assert search_index.narrowing(["0013"], None, narrowed=False) is not None  # a mobile's
    for q in QUERIES:
        same_as_before(admin, q, monkeypatch)
    assert found(admin, "人寿") == {"中国人寿保险股份有限公司", "西湖人寿分公司"}
    assert found(admin, "13800138000") == {"宝山钢铁集团"}
