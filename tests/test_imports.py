"""CSV import (dry run, all-or-nothing commit, encodings, CLI) and export (scope, Excel, guard)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import delete, func, select

from crm.extensions import db
from crm.services.archive.identity import credit_code_check_char
from crm.services.imports import batch as imports
from models import (
    Attitude,
    AuditAction,
    AuditEntry,
    BuyingRole,
    Contact,
    Customer,
    CustomerStatus,
    Industry,
    Strategy,
    Tier,
)

CUSTOMER_HEADER = "name,credit_code,parent,industry,tier,strategy,status,owner,contract_expiry"


def code(n: int) -> str:
    """A valid unified social credit code, different for each n."""
    first = f"91310115{n:09d}"
    return first + credit_code_check_char(first)


def wrong(valid: str) -> str:
    """The same code with a wrong check digit."""
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def english(problems) -> dict[int, str]:
    """Each line's messages in English, joined (services speak the default zh_CN here)."""
    with force_locale("en"):
        return {p.line: " | ".join(str(m) for m in p.messages) for p in problems}


def rows_of(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def app_overrides(tmp_path):
    # A small body limit: the real one (21 MB) would make the test client spool to disk.
    return {"IMPORT_UPLOAD_DIR": str(tmp_path / "uploads"), "MAX_CONTENT_LENGTH": 64 * 1024}


@pytest.fixture
def en(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()
    return org


def upload(client, text: str | bytes, kind="customers", encoding="auto", name="list.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/customers/import",
        data={"kind": kind, "encoding": encoding, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(
        r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert match, "the result page has no commit form"
    return match.group(1)


# Dry run and commit ---------------------------------------------------------------


def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(client, login, en):
    login(client, en["m1"])
    text = csv_text(
        CUSTOMER_HEADER,
        f"东湖精密制造有限公司,{code(1)},,制造业,A,consolidate,active,,2026-03-31",
        f"西山物流有限公司,{wrong(code(2))},,交通物流,B,,,,",
        "南岭能源有限公司,,,Energy,A+,投入类,活跃客户,,",
        "北辰零售有限公司,,,零售,Z,,,,",
        f"重复代码有限公司,{code(1)},,,,,,,",
        ",,,,,,,,",
        "无名行业有限公司,,,没有这个行业,,,,,31.02.2026",
        "别人的客户有限公司,,,,,,,m3,",
    )

    response = upload(client, text)

    assert response.status_code == 200
    errors = response.get_data(as_text=True)
    assert f"line 3: credit code {wrong(code(2))} has a wrong check digit" in errors
    assert "line 5: tier Z is not one of" in errors
    assert f"line 6: credit code {code(1)} is also on line 2" in errors
    assert "line 8: industry 没有这个行业 is not in the list of industries" in errors
    assert "line 8: contract_expiry must be a date like 2025-06-30, not 31.02.2026" in errors
    assert "line 9: owner m3 is not an active user you may give customers to" in errors
    for good in ("line 2:", "line 4:", "line 7:"):
        assert good not in errors  # a blank line is skipped, good lines have no message
    assert 'id="import-commit"' not in errors
    assert count(Customer) == 0

    # The commit path re-checks and writes nothing either.
    parsed = imports.parse_file("customers", text.encode())
    report = imports.run_import(parsed, actor=en["m1"])
    assert [p.line for p in report.errors] == [3, 5, 6, 8, 9]
    assert report.imported == 0 and count(Customer) == 0


def test_dry_run_writes_nothing_and_the_commit_writes_everything(client, login, en, app):
    login(client, en["m1"])
    text = csv_text(
        CUSTOMER_HEADER,
        f"东湖集团有限公司,{code(1)},,制造业,A,consolidate,active,,2026/3/31",
        f"东湖精密分公司,{code(2)},{code(1)},Manufacturing,b,Harvest,At risk,m1,",
        "东湖物流分公司,,东湖集团有限公司,,,,,,",
    )

    checked = upload(client, text)

    assert checked.status_code == 200
    assert 'id="import-ok"' in checked.get_data(as_text=True)
    assert count(Customer) == 0
    token = token_of(checked)
    stored = Path(app.config["IMPORT_UPLOAD_DIR"]) / f"{token}.csv"
    assert stored.exists()

    done = client.post("/customers/import/commit", data={"token": token})

    assert done.status_code == 302
    assert not stored.exists()
    group = db.session.scalar(select(Customer).where(Customer.credit_code == code(1)))
    precision = db.session.scalar(select(Customer).where(Customer.credit_code == code(2)))
    logistics = db.session.scalar(select(Customer).where(Customer.name == "东湖物流分公司"))
    assert group.tier is Tier.A and group.strategy is Strategy.CONSOLIDATE
    assert group.status is CustomerStatus.ACTIVE and group.contract_expiry == date(2026, 3, 31)
    assert group.industry.name_en == "Manufacturing" and group.version == 1
    assert precision.parent_id == group.id and logistics.parent_id == group.id
    assert precision.tier is Tier.B and precision.status is CustomerStatus.AT_RISK
    assert {c.owner_id for c in (group, precision, logistics)} == {en["m1"].id}
    assert group.name_key == "东湖"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.customer_id == precision.id))
    (entry,) = list(entries)
    assert entry.action is AuditAction.IMPORT and entry.actor_id == en["m1"].id
    assert entry.changes["parent_id"] == group.id and entry.changes["tier"] == "B"

    # The same file again: every credit code is now taken, so nothing is imported twice.
    again = upload(client, text)
    assert f"line 2: credit code {code(1)} already belongs to your customer" in again.get_data(
        as_text=True
    )


def test_the_commit_checks_again_against_the_database(client, login, en, make_customer):
    login(client, en["m1"])
    checked = upload(client, csv_text("name,credit_code", f"甲公司,{code(5)}", "乙公司,"))
    token = token_of(checked)
    en["m3"].display_name = "王小明"  # not "M3", which a random CSRF token may contain
    make_customer(en["m3"], name="抢先公司", credit_code=code(5))

    response = client.post("/customers/import/commit", data={"token": token})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # Out of scope: whom to ask for a handover, but neither the customer nor its owner.
    assert "already belongs to a customer of team Team Two (supervisor: Sup2)" in page
    assert "ask them for a handover" in page
    assert "抢先公司" not in page and en["m3"].display_name not in page
    assert count(Customer) == 1


def test_only_the_uploader_can_commit_the_file(client, login, en):
    login(client, en["m1"])
    token = token_of(upload(client, csv_text("name", "甲公司")))
    login(client, en["m2"])

    response = client.post("/customers/import/commit", data={"token": token})

    assert response.status_code == 302 and count(Customer) == 0
    for forged in ("../../etc/passwd", "x" * 32 + "/", ""):
        assert client.post("/customers/import/commit", data={"token": forged}).status_code == 400


def test_header_problems_are_explained(client, login, en):
    login(client, en["m1"])
    response = upload(client, csv_text("name,colour", "甲公司,red"))
    assert response.status_code == 400
    assert "does not know: colour" in response.get_data(as_text=True)
    response = upload(client, csv_text("credit_code", code(1)))
    assert "lacks the required columns: name" in response.get_data(as_text=True)


def test_upload_page_and_size_limit(client, login, en):
    assert client.get("/customers/import").status_code == 302  # sign in first
    login(client, en["m1"])
    page = client.get("/customers/import").get_data(as_text=True)
    assert "crm import customers" in page and "统一社会信用代码" in page
    big = b"name\r\n" + b"x" * (200 * 1024)
    response = upload(client, big)
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    assert count(Customer) == 0


# Encodings ------------------------------------------------------------------------

CHINESE_FILE = csv_text(
    "客户名称,统一社会信用代码,行业,价值等级,策略类别,客户状态,备注",
    f"华东电网有限公司,{code(7)},能源,A+,巩固类,活跃客户,老客户：十年合作",
    "江南银行股份有限公司,,金融,B,收获类,潜在客户,",
)


@pytest.mark.parametrize(
    ("encoded", "chosen", "read_as"),
    [
        (CHINESE_FILE.encode("gb18030"), "auto", "gb18030"),
        (CHINESE_FILE.encode("gb18030"), "gb18030", "gb18030"),
        (CHINESE_FILE.encode("utf-8-sig"), "auto", "utf-8"),
        (CHINESE_FILE.encode("utf-8"), "utf-8", "utf-8"),
    ],
    ids=["gb18030-detected", "gb18030-chosen", "utf8-bom", "utf8-plain"],
)
def test_gb18030_and_bom_files_import(org, encoded, chosen, read_as):
    parsed = imports.parse_file("customers", encoded, chosen)
    report = imports.run_import(parsed, actor=org["m1"])

    assert report.ok and report.imported == 2 and report.encoding == read_as
    grid = db.session.scalar(select(Customer).where(Customer.credit_code == code(7)))
    assert grid.name == "华东电网有限公司" and grid.notes == "老客户：十年合作"
    assert grid.tier is Tier.A_PLUS and grid.strategy is Strategy.CONSOLIDATE
    assert grid.industry.name_zh == "能源"


def test_a_gb18030_file_read_as_utf8_gets_a_clear_message(client, login, en):
    login(client, en["m1"])
    response = upload(client, CHINESE_FILE.encode("gb18030"), encoding="utf-8")
    assert response.status_code == 400
    assert "not UTF-8 text" in response.get_data(as_text=True)


# Who may import what ---------------------------------------------------------------


def test_owners_and_parents_stay_within_scope(org, make_customer):
    theirs = make_customer(org["m3"], name="别队集团", credit_code=code(20))
    mine = make_customer(org["m1"], name="本队集团")
    text = csv_text(
        "name,parent,owner",
        "子公司一,本队集团,",
        f"子公司二,{code(20)},",
        "子公司三,别队集团,",
        "子公司四,,m2",
    )
    parsed = imports.parse_file("customers", text.encode())

    report = imports.check_import(parsed, actor=org["m1"])
    assert [p.line for p in report.errors] == [3, 4, 5]
    assert "neither one of your customers" in english(report.errors)[3]

    supervisor = imports.check_import(parsed, actor=org["sup1"])
    assert [p.line for p in supervisor.errors] == [3, 4]  # m2 is in sup1's team

    admin = imports.run_import(parsed, actor=org["admin"])
    assert admin.ok and admin.imported == 4
    children = {c.name: c for c in db.session.scalars(select(Customer))}
    assert children["子公司二"].parent_id == theirs.id and children["子公司一"].parent_id == mine.id
    assert children["子公司四"].owner_id == org["m2"].id
    assert children["子公司一"].owner_id == org["admin"].id


def test_parents_may_be_anywhere_in_the_file_but_never_loop(org):
    text = csv_text(
        "name,credit_code,parent",
        "苏州分公司,,华东集团",
        "华东集团,,",
        "甲公司,,乙公司",
        "乙公司,,甲公司",
        f"自己公司,{code(70)},{code(70)}",
    )
    parsed = imports.parse_file("customers", text.encode())

    report = imports.run_import(parsed, actor=org["m1"])

    messages = english(report.errors)
    assert sorted(messages) == [4, 5, 6]
    assert "the group loops: 甲公司 → 乙公司 → 甲公司" in messages[4]
    assert "loops" in messages[5]
    assert "cannot be its own parent" in messages[6]
    fixed = imports.parse_file("customers", "\r\n".join(text.split("\r\n")[:3]).encode())
    assert imports.run_import(fixed, actor=org["m1"]).imported == 2
    branch = db.session.scalar(select(Customer).where(Customer.name == "苏州分公司"))
    assert branch.parent.name == "华东集团"


def test_a_line_marking_a_customer_lost_is_refused_as_the_form_refuses_it(org):
    # Lost needs its reason and competitor ("Mark as lost"); a file carries neither.
    text = csv_text("name,status", "流失公司,流失客户", "正常公司,lost", "合作公司,活跃客户")
    report = imports.run_import(imports.parse_file("customers", text.encode()), actor=org["m1"])

    messages = english(report.errors)
    assert sorted(messages) == [2, 3]
    assert all("Mark as lost" in message for message in messages.values())
    assert report.imported == 0 and count(Customer) == 0


def test_credit_codes_are_read_as_the_form_reads_them(org, make_customer):
    full_width = code(41).translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    make_customer(org["m1"], name="本队集团", credit_code=code(44))
    text = csv_text(
        "name,credit_code,parent",
        f"小写公司,{code(40).lower()},",
        f"全角公司,{full_width},",
        f"空格公司,\u3000{code(42)[:9]} {code(42)[9:]}\u200b,",
        f"子公司,{code(43)},{code(44).lower()}",
    )
    parsed = imports.parse_file("customers", text.encode())

    report = imports.run_import(parsed, actor=org["m1"])

    assert report.ok and report.imported == 4, english(report.errors)
    stored = {
        name: code for name, code in db.session.execute(select(Customer.name, Customer.credit_code))
    }
    assert stored["小写公司"] == code(40) and stored["全角公司"] == code(41)
    assert stored["空格公司"] == code(42)
    child = db.session.scalar(select(Customer).where(Customer.name == "子公司"))
    assert child.parent.name == "本队集团"


def test_a_duplicate_credit_code_in_the_file_says_whom_to_ask(org, make_customer):
    make_customer(org["m3"], name="别队集团", credit_code=code(45))
    make_customer(org["m1"], name="本队集团", credit_code=code(46))
    text = csv_text("name,credit_code", f"甲公司,{code(45)}", f"乙公司,{code(46)}")
    parsed = imports.parse_file("customers", text.encode())

    messages = english(imports.check_import(parsed, actor=org["m1"]).errors)
    assert "a customer of team Team Two (supervisor: Sup2): ask them for a handover" in messages[2]
    assert "别队集团" not in messages[2] and "M3" not in messages[2]
    assert "already belongs to your customer 本队集团" in messages[3]
    in_scope = english(imports.check_import(parsed, actor=org["sup2"]).errors)
    assert "already belongs to your customer 别队集团" in in_scope[2]


def test_an_imported_name_loses_invisible_characters_and_still_warns(org, make_customer):
    make_customer(org["m3"], name="东湖精密制造有限公司", name_key="东湖精密制造")
    text = csv_text("name", "东湖\u200b精密\ufeff制造集团")
    report = imports.run_import(imports.parse_file("customers", text.encode()), actor=org["m1"])
    assert report.ok and report.warnings[0].line == 2
    assert db.session.scalar(select(Customer.name).where(Customer.owner == org["m1"])) == (
        "东湖精密制造集团"
    )


def test_a_similar_name_warns_but_does_not_block(org, make_customer):
    make_customer(org["m1"], name="东湖精密制造有限公司", name_key="东湖精密制造")
    parsed = imports.parse_file("customers", csv_text("name", "东湖 精密制造集团").encode())
    report = imports.check_import(parsed, actor=org["m1"])
    assert report.ok
    assert report.warnings[0].line == 2
    assert "very like your existing customer 东湖精密制造有限公司" in english(report.warnings)[2]


# Contacts --------------------------------------------------------------------------


def test_contacts_import_with_reporting_lines(org, make_customer, make_contact):
    customer = make_customer(org["m1"], name="东湖集团", credit_code=code(30))
    boss = make_contact(customer, name="王总", role=BuyingRole.DECISION_MAKER)
    text = csv_text(
        "customer,name,title,mobile,email,role,attitude,strength,reports_to,active",
        f"{code(30)},李主任,信息中心主任,+86 138 0000 0000,li@example.com,"
        "影响者,supporter,4,王总,是",
        "东湖集团,张工,工程师,,,User,中立,2,李主任,",
        "东湖集团,赵经理,,,,,,,,no",
    )
    report = imports.run_import(imports.parse_file("contacts", text.encode()), actor=org["m1"])

    assert report.ok, report.errors
    people = {c.name: c for c in db.session.scalars(select(Contact))}
    assert people["李主任"].reports_to_id == boss.id and people["李主任"].strength == 4
    assert people["李主任"].role is BuyingRole.INFLUENCER
    assert people["李主任"].attitude is Attitude.SUPPORTER
    assert people["张工"].reports_to_id == people["李主任"].id
    assert people["张工"].role is BuyingRole.USER and people["张工"].attitude is Attitude.NEUTRAL
    assert people["赵经理"].active is False and people["赵经理"].version == 1
    imported = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.IMPORT)
    ).all()
    assert {e.entity_type for e in imported} == {"contacts"}
    assert {e.customer_id for e in imported} == {customer.id}


def test_bad_contact_lines_are_refused(org, make_customer, make_contact):
    customer = make_customer(org["m1"], name="东湖集团")
    make_contact(customer, name="王总")
    make_customer(org["m3"], name="别队客户")
    text = csv_text(
        "customer,name,strength,reports_to,email",
        "别队客户,陈总,,,",
        "不存在的客户,周总,,,",
        "东湖集团,王总,,,",
        "东湖集团,甲,6,乙,",
        "东湖集团,乙,,甲,",
        "东湖集团,丙,,丙,not-an-email",
        "东湖集团,丁,,查无此人,",
    )
    report = imports.run_import(imports.parse_file("contacts", text.encode()), actor=org["m1"])

    messages = english(report.errors)
    assert "别队客户 is not one of your customers" in messages[2]
    assert "不存在的客户 is not one of your customers" in messages[3]
    assert "already has a contact named 王总" in messages[4]
    assert "strength must be a whole number from 1 to 5, not 6" in messages[5]
    assert "the reporting line loops: 甲 → 乙 → 甲" in messages[5]
    assert "loops" in messages[6]
    assert "cannot report to themselves" in messages[7] and "not an email" in messages[7]
    assert "reports_to 查无此人 is not a contact of 东湖集团" in messages[8]
    assert report.imported == 0 and count(Contact) == 1


# Export ------------------------------------------------------------------------------


@pytest.fixture
def portfolios(org, make_customer, make_contact):
    mine = make_customer(org["m1"], name="东湖精密制造有限公司", credit_code=code(40))
    teammates = make_customer(org["m2"], name="东湖物流有限公司")
    theirs = make_customer(org["m3"], name="东湖银行有限公司", credit_code=code(41))
    make_contact(mine, name="王总")
    make_contact(theirs, name="东湖张总")
    return {"mine": mine, "teammates": teammates, "theirs": theirs}


def test_export_opens_in_excel_in_chinese(client, login, org, portfolios):
    login(client, org["m1"])  # zh_CN by default
    response = client.get("/customers/export.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert (
        body.startswith(b"\xef\xbb\xbf")
        and b"\r\n" in body
        and b"\n" not in body.replace(b"\r\n", b"")
    )
    header, *rows = rows_of(response)
    assert header[:3] == ["客户名称", "统一社会信用代码", "上级客户"]
    assert rows == [[cell for cell in rows[0]]] and rows[0][0] == "东湖精密制造有限公司"
    assert rows[0][11] == "潜在客户"  # the status's Chinese label

    english = rows_of(client.get("/customers/export.csv?lang=en"))
    assert english[0][:2] == ["name", "credit_code"] and english[1][11] == "Prospect"


def test_export_never_includes_out_of_scope_rows(client, login, org, portfolios):
    login(client, org["m1"])
    names = [row[0] for row in rows_of(client.get("/customers/export.csv?q=东湖"))[1:]]
    assert names == ["东湖精密制造有限公司"]
    by_code = rows_of(client.get(f"/customers/export.csv?q={code(41)}"))
    assert by_code[1:] == []
    by_contact = rows_of(client.get("/customers/export.csv?q=张总"))
    assert by_contact[1:] == []
    contacts = rows_of(client.get("/contacts/export.csv"))
    assert [row[1] for row in contacts[1:]] == ["王总"]
    theirs = portfolios["theirs"].id
    assert client.get(f"/contacts/export.csv?customer={theirs}").status_code == 404

    login(client, org["sup1"])
    team = [row[0] for row in rows_of(client.get("/customers/export.csv?q=东湖&lang=en"))[1:]]
    assert sorted(team) == ["东湖物流有限公司", "东湖精密制造有限公司"]
    assert client.get("/customers/export.csv").status_code == 200
    client.post("/logout")
    assert client.get("/customers/export.csv").status_code == 302


def test_export_statements_do_not_grow_with_its_rows(
    client, login, org, make_customer, make_contact, count_queries
):
    login(client, org["m1"])

    def statements(rows: int) -> int:
        for n in range(rows):
            # Parents outside the exported list and contacts at many customers: a lazy
            # load per row would show in the count.
            parent = make_customer(org["m1"], tier=Tier.C, industry_id=n % 10 + 1)
            child = make_customer(org["m1"], tier=Tier.B, parent=parent, industry_id=n % 10 + 1)
            make_contact(child, reports_to=make_contact(child))
        db.session.expire_all()
        with count_queries() as seen:
            # The body streams: read it inside the block.
            assert (
                len(rows_of(client.get("/customers/export.csv?tier=B"))) == 1 + count(Customer) // 2
            )
            assert len(rows_of(client.get("/contacts/export.csv"))) == 1 + count(Contact)
        return len(seen)

    assert statements(5) == statements(45)


def test_formulas_are_exported_as_text_and_imported_back(
    client, login, org, make_customer, make_contact
):
    customer = make_customer(
        org["m1"], name='=HYPERLINK("http://evil")', notes="+1 加急", region="@上海"
    )
    make_contact(customer, name="-张三", mobile="+86 138 0000 0000")
    login(client, org["m1"])

    customers = rows_of(client.get("/customers/export.csv?lang=en"))
    contacts = rows_of(client.get("/contacts/export.csv?lang=en"))

    row = dict(zip(customers[0], customers[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("http://evil")'
    assert row["notes"] == "'+1 加急" and row["region"] == "'@上海"
    person = dict(zip(contacts[0], contacts[1], strict=True))
    assert person["name"] == "'-张三" and person["mobile"] == "'+86 138 0000 0000"
    assert person["customer"] == '\'=HYPERLINK("http://evil")'

    db.session.execute(delete(Contact))
    db.session.execute(delete(Customer))
    db.session.commit()
    for kind, grid in (("customers", customers), ("contacts", contacts)):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(grid)
        report = imports.run_import(
            imports.parse_file(kind, buffer.getvalue().encode()), actor=org["m1"]
        )
        assert report.ok, report.errors
    back = db.session.scalar(select(Customer))
    assert back.name == '=HYPERLINK("http://evil")' and back.notes == "+1 加急"
    assert back.contacts[0].name == "-张三" and back.contacts[0].mobile == "+86 138 0000 0000"


def _archive_snapshot() -> tuple[list, list]:
    customers = sorted(
        (
            c.name,
            c.credit_code,
            c.parent.name if c.parent else None,
            c.industry_id,
            c.region,
            c.address,
            c.employees,
            c.annual_revenue,
            c.annual_spend,
            c.tier,
            c.strategy,
            c.status,
            c.products_in_use,
            c.contract_expiry,
            c.owner_id,
            c.notes,
        )
        for c in db.session.scalars(select(Customer))
    )
    contacts = sorted(
        (
            c.customer.name,
            c.name,
            c.title,
            c.department,
            c.mobile,
            c.office_phone,
            c.email,
            c.role,
            c.attitude,
            c.strength,
            c.reports_to.name if c.reports_to else None,
            c.notes,
            c.active,
        )
        for c in db.session.scalars(select(Contact))
    )
    return customers, contacts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_round_trips_through_import(client, login, org, make_customer, make_contact, lang):
    energy = db.session.scalar(select(Industry).where(Industry.name_en == "Energy"))
    group = make_customer(
        org["m1"],
        name="华东能源集团有限公司",
        credit_code=code(50),
        industry=energy,
        region="上海",
        address="浦东新区世纪大道1号",
        employees=12000,
        annual_revenue=Decimal("8800000000.00"),
        annual_spend=Decimal("12500000.50"),
        tier=Tier.A_PLUS,
        strategy=Strategy.INVEST,
        status=CustomerStatus.ACTIVE,
        products_in_use="专线, 云主机\n短信平台",
        contract_expiry=date(2026, 6, 30),
        notes='多行备注，带"引号"和,逗号',
    )
    make_customer(org["m1"], name="华东能源苏州分公司", parent=group, tier=Tier.B)
    make_customer(org["m1"], name="无代码子公司", parent=group, strategy=Strategy.MAINTAIN)
    make_customer(org["m1"], name="无代码孙公司", parent=group.subsidiaries[-1])
    boss = make_contact(group, name="王总", role=BuyingRole.DECISION_MAKER, strength=5)
    make_contact(
        group,
        name="李主任",
        reports_to=boss,
        role=BuyingRole.INFLUENCER,
        attitude=Attitude.OPPONENT,
        title="信息中心主任",
        department="信息中心",
        mobile="13800000000",
        office_phone="021-12345678转8001",
        email="li@example.com",
        notes="喜欢打球",
    )
    make_contact(group, name="前任", active=False, reports_to=boss)
    before = _archive_snapshot()
    login(client, org["m1"])

    exported = {
        kind: client.get(f"/{kind}/export.csv?lang={lang}").get_data()
        for kind in ("customers", "contacts")
    }
    db.session.execute(delete(Contact).where(Contact.reports_to_id.is_not(None)))
    db.session.execute(delete(Contact))
    db.session.execute(delete(Customer).where(Customer.parent_id.is_not(None)))
    db.session.execute(delete(Customer))
    db.session.commit()
    for kind in ("customers", "contacts"):
        login(client, org["m1"])
        token = token_of(upload(client, exported[kind], kind=kind))
        assert client.post("/customers/import/commit", data={"token": token}).status_code == 302

    db.session.expire_all()
    assert _archive_snapshot() == before


# Command line ----------------------------------------------------------------------


def test_cli_import_dry_run_then_real(runner, org, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(
        csv_text(CUSTOMER_HEADER, f"甲公司,{code(60)},,,,,,,", "乙公司,,甲公司,,,,,,").encode(
            "gb18030"
        )
    )
    args = ["crm", "import", "customers", str(good), "--as", "m1"]

    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 customers checked (gb18030); nothing was imported." in dry.output
    assert count(Customer) == 0

    real = runner.invoke(args=args)
    assert real.exit_code == 0, real.output
    assert "2 customers imported" in real.output
    db.session.expire_all()
    child = db.session.scalar(select(Customer).where(Customer.name == "乙公司"))
    assert child.parent.credit_code == code(60) and child.owner_id == org["m1"].id

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text("name,tier", "丙公司,A", "丁公司,Q"), encoding="utf-8")
    refused = runner.invoke(args=["crm", "import", "customers", str(bad), "--as", "m1"])
    assert refused.exit_code == 1
    assert "line 3:" in refused.output and "nothing was imported" in refused.output
    assert count(Customer) == 2

    nobody = runner.invoke(args=["crm", "import", "customers", str(bad), "--as", "ghost"])
    assert nobody.exit_code == 1 and "No active user ghost" in nobody.output


def test_bulk_rows_go_to_sqlite_hundreds_a_statement(org):
    """SQLite gets several hundred rows per INSERT (a table with triggers costs a statement
    journal per statement), the last statement the rest; PostgreSQL gets them by COPY. Every
    row is stored, in order, whatever the split."""
    from sqlalchemy import event

    from crm.services import bulk

    count = 2 * bulk.SQLITE_ROWS_PER_INSERT + 234
    rows = [
        {"id": 910_000 + n, "name": f"多行客户{n}", "name_key": f"多行客户{n}"}
        | {"owner_id": org["m1"].id, "version": 1}
        for n in range(count)
    ]
    seen: list[tuple[str, bool]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, executemany))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        bulk.insert_rows(Customer.__table__, rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    stored = db.session.execute(
        select(Customer.id, Customer.name).where(Customer.id >= 910_000).order_by(Customer.id)
    ).all()
    assert [tuple(row) for row in stored] == [(910_000 + n, f"多行客户{n}") for n in range(count)]
    inserts = [(sql, many) for sql, many in seen if sql.startswith("INSERT INTO customers")]
    if db.session.get_bind().dialect.name == "sqlite":
        assert len(inserts) == 3 and not any(many for _, many in inserts)
        assert [sql.count("), (") + 1 for sql, _ in inserts] == [500, 500, 234]
    else:
        assert inserts == []  # COPY


def test_bulk_rows_are_stored_as_the_orm_stores_them(org):
    """crm/services/bulk.py binds each value as SQLAlchemy would (COPY on PostgreSQL):
    enums by their value, UTC times, JSON, amounts; a column left out gets its model default;
    a value repeated from the row before is converted again when it is another object."""
    from datetime import UTC, datetime, timedelta

    from crm.services import bulk

    owner = org["m1"]
    first = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    later = first.astimezone(UTC) + timedelta(hours=1)
    rows = [
        {
            "id": 900_000 + n,
            "name": f"批量客户{n}",
            "name_key": f"批量客户{n}",
            "tier": tier,
            "status": CustomerStatus.ACTIVE,
            "owner_id": owner.id,
            "annual_revenue": Decimal("12.50"),
            "version": 1,
            "created_at": at,
        }
        for n, (tier, at) in enumerate([(Tier.A, first), (Tier.A, first), (Tier.B, later)])
    ]
    bulk.insert_rows(Customer.__table__, rows)
    bulk.insert_rows(
        AuditEntry.__table__,
        [
            {
                "customer_id": row["id"],
                "entity_type": "customers",
                "entity_id": row["id"],
                "action": AuditAction.IMPORT,
                "changes": {"tier": row["tier"].value},
                "actor_id": owner.id,
            }
            for row in rows
        ],
    )
    db.session.commit()
    stored = db.session.scalars(
        select(Customer).where(Customer.id >= 900_000).order_by(Customer.id)
    ).all()
    assert [(c.tier, c.status, c.created_at) for c in stored] == [
        (Tier.A, CustomerStatus.ACTIVE, first),
        (Tier.A, CustomerStatus.ACTIVE, first),
        (Tier.B, CustomerStatus.ACTIVE, later),
    ]
    assert stored[0].annual_revenue == Decimal("12.50")
    assert stored[0].updated_at is not None  # the model's default, computed
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.customer_id >= 900_000).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.changes, e.entity_label) for e in entries] == [
        (AuditAction.IMPORT, {"tier": "A"}, ""),
        (AuditAction.IMPORT, {"tier": "A"}, ""),
        (AuditAction.IMPORT, {"tier": "B"}, ""),
    ]
