"""The contact search narrowed by the customers' bigram index (models/search_grams.py).

A customer's rows in the index hold the bigrams of its name and of its contacts' names and
mobiles: every text a contact search without a digit reads. The LIKEs still decide; the
index only picks the customers whose contacts they look at. A query with a digit is also a
phone number, and office phones are not in the index: those read every contact in scope.
"""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import text

from crm.extensions import db
from crm.services.archive import search_backlog, search_index
from crm.services.archive.contacts import ContactFilters, search_contacts
from crm.services.imports import batch as imports
from tests.search_support import keyed_customer, same_as_likes_alone


def found(user, q: str, **filters) -> set[str]:
    stmt = search_contacts(user, ContactFilters(q=q, **filters))
    return {contact.name for contact in db.session.scalars(stmt).unique()}


def same_as_without_index(user, q: str, monkeypatch, **filters) -> set[str]:
    """The search's contacts, checked against the LIKEs over every contact in scope."""
    return same_as_likes_alone(found, monkeypatch, user, q, **filters)


@pytest.fixture
def people(org, make_customer, make_contact):
    m1, m3 = org["m1"], org["m3"]
    customer = partial(keyed_customer, make_customer)

    steel = customer(m1, "宝山钢铁集团")
    hospital = customer(m1, "东湖人民医院")
    bank = customer(m1, "ACME Bank 银行")
    other = customer(m3, "西湖人寿分公司")
    make_contact(steel, "王精密", mobile="13800138000", office_phone="021-5666 8888")
    make_contact(hospital, "李医生", mobile="13912345678", office_phone="027-8888 6666 转总机")
    make_contact(bank, "John Smith", mobile="13511112222")
    make_contact(bank, "Иван Петров")
    make_contact(other, "赵人寿", mobile="13700001111")
    return {"steel": steel, "hospital": hospital, "bank": bank, "other": other}


QUERIES = (
    "精密",  # a contact's name
    "王精",
    "医院",  # the customer's name: all its contacts
    "人民医",
    "人寿",  # another team's customer and contact
    "钢铁",
    "john",  # Latin, any case
    "SMITH",
    "acme",
    "Bank 银",
    "Иван",  # a letter with a case outside ASCII: the LIKEs alone
    "иван",
    "13800138000",  # a mobile
    "0013",
    "8888",  # office phones
    "021-5666",
    "5666 8888",
    "%精",  # a LIKE pattern: the LIKEs alone
    "王_",
    "医",  # one character: the LIKEs alone
    "不存在",
)


@pytest.mark.parametrize("probe", [False, True], ids=["by-id", "probed"])
@pytest.mark.parametrize("persona", ["admin", "sup1", "m1", "m3"])
def test_the_index_finds_the_contacts_the_likes_find(people, org, monkeypatch, persona, probe):
    if probe:  # every candidate set "many": a narrowed search probes each customer it finds
        monkeypatch.setattr(search_index, "FEW", 0)
    for q in QUERIES:
        same_as_without_index(org[persona], q, monkeypatch)
    admin = org["admin"]
    assert found(admin, "精密") == {"王精密"}
    assert found(admin, "医院") == {"李医生"}
    assert found(admin, "SMITH") == {"John Smith"}
    assert found(admin, "acme") == {"John Smith", "Иван Петров"}
    assert found(admin, "8888") == {"王精密", "李医生"}
    assert found(admin, "人寿") == {"赵人寿"}
    assert found(org["m1"], "人寿") == set()  # another team's
    # PostgreSQL's ILIKE folds Cyrillic, SQLite's LIKE only ASCII; the index changes neither.
    cyrillic = {"Иван Петров"} if db.engine.dialect.name == "postgresql" else set()
    assert found(admin, "иван") == cyrillic


def test_an_office_phone_is_found_by_its_number_not_by_its_words(people, org, monkeypatch):
    """A query without a digit reads names and mobiles, which the index holds; an office
    phone's words (转总机: "via the switchboard") are not a way to find a contact."""
    admin = org["admin"]
    assert found(admin, "6666") == {"李医生"}
    assert found(admin, "027-8888 6666") == {"李医生"}
    assert found(admin, "总机") == set()
    # Spaces and dashes are dropped from a number, not from words: 总 机 is no number.
    assert same_as_without_index(admin, "总 机", monkeypatch) == set()
    assert same_as_without_index(admin, "转-总机", monkeypatch) == set()


@pytest.mark.parametrize("probe", [False, True], ids=["by-id", "probed"])
def test_imported_contacts_are_found_before_and_after_the_fold(people, org, monkeypatch, probe):
    """An import lists its contacts in the backlog instead of cutting their bigrams: the
    contact search finds them there until the scheduler has cut them, and by them after."""
    if probe:
        monkeypatch.setattr(search_index, "FEW", 0)
    lines = ["customer,name,mobile", "宝山钢铁集团,吴精密,15000000000"]
    report = imports.run_import(
        imports.parse_file("contacts", "\r\n".join([*lines, ""]).encode()), actor=org["m1"]
    )
    assert report.ok and report.imported == 1
    db.session.commit()
    for persona in ("admin", "sup1", "m1"):
        assert same_as_without_index(org[persona], "精密", monkeypatch) == {"王精密", "吴精密"}
    assert search_backlog.fold() == 1
    for persona in ("admin", "sup1", "m1"):
        assert same_as_without_index(org[persona], "精密", monkeypatch) == {"王精密", "吴精密"}


def _plan(user, q: str) -> str:
    stmt = search_contacts(user, ContactFilters(q=q))
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return " | ".join(row.detail for row in plan)
    return "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())


def test_the_contact_search_reads_the_gram_index(people, org, monkeypatch):
    """The admin's search for a rare word draws the customers from the index, not every
    contact (SQLite's plan names the index's primary key; PostgreSQL's reads the table).
    For a word many customers hold, the LIKEs in the list's order find a page sooner, and
    a manager's few hundred contacts are read sooner than the index is counted."""
    plan = _plan(org["admin"], "精密")
    assert "search_grams" in plan, plan
    assert "search_grams" not in _plan(org["m1"], "精密")  # a portfolio: the LIKEs alone
    if db.engine.dialect.name == "sqlite":
        assert "SEARCH search_grams USING PRIMARY KEY (gram=?)" in plan, plan
        assert "SCAN contacts" not in plan, plan
    monkeypatch.setattr(search_index, "FEW", 0)  # every word held by "many"
    assert "search_grams" not in _plan(org["admin"], "精密")
    assert "search_grams" in _plan(org["sup1"], "精密")  # probed per customer of the team
