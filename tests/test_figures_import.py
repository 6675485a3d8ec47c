"""Monthly business figures import: bad lines named, all or nothing, a month re-imported,
customers matched by credit code or id, Chinese and English headers, encodings, the CLI."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.archive.identity import credit_code_check_char
from crm.services.errors import NotAllowed
from crm.services.figures.months import add_months, parse_month
from crm.services.imports import batch as imports
from models import MonthlyFigure

THIS_MONTH = datetime.now(UTC).date().replace(day=1)
LAST_MONTH = add_months(THIS_MONTH, -1)
M = f"{LAST_MONTH:%Y-%m}"  # the month just billed, as the files write it


def code(n: int) -> str:
    first = f"91420100{n:09d}"
    return first + credit_code_check_char(first)


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def figures_of(customer, month=LAST_MONTH) -> MonthlyFigure | None:
    db.session.expire_all()
    return db.session.scalar(
        select(MonthlyFigure).where(
            MonthlyFigure.customer_id == customer.id, MonthlyFigure.month == month
        )
    )


def count_figures() -> int:
    return db.session.scalar(select(func.count()).select_from(MonthlyFigure))


def english(problems) -> dict[int, str]:
    with force_locale("en"):
        return {p.line: " | ".join(str(m) for m in p.messages) for p in problems}


def run(text: str | bytes, actor, encoding="auto", source="billing.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    parsed = imports.parse_file("figures", data, encoding)
    return imports.run_import(parsed, actor=actor, source=source)


def upload(client, text: str | bytes, encoding="auto", name="billing.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/customers/import",
        data={"kind": "figures", "encoding": encoding, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(
        r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert match, "the result page has no commit form"
    return match.group(1)


@pytest.fixture
def app_overrides(tmp_path):
    return {"IMPORT_UPLOAD_DIR": str(tmp_path / "uploads")}


@pytest.fixture
def customers(org, make_customer):
    """Three of m1's customers, two with credit codes, and one of m3's (Team Two).

    Everyone reads English: the pages' messages are asserted in it.
    """
    for person in org.values():
        if hasattr(person, "locale"):
            person.locale = "en"
    db.session.commit()
    return {
        "a": make_customer(org["m1"], name="东湖精密制造有限公司", credit_code=code(1)),
        "b": make_customer(org["m1"], name="西山物流有限公司", credit_code=code(2)),
        "c": make_customer(org["m1"], name="南岭能源有限公司"),
        "other": make_customer(org["m3"], name="北辰零售有限公司", credit_code=code(4)),
    }


# Bad lines and all or nothing ---------------------------------------------------------


def test_every_bad_line_is_named_and_nothing_is_written(org, customers):
    c = customers["c"]
    wrong_digit = code(9)[:17] + ("0" if code(9)[17] != "0" else "1")
    future = f"{add_months(THIS_MONTH, 1):%Y-%m}"
    text = csv_text(
        "month,credit_code,customer_id,revenue,arpu,active_lines,lines_lost",
        f"{M},{code(1)},,1200.50,35.2,34,1",
        f"{M},{wrong_digit},,100,,,",
        f"{M},{code(8)},,100,,,",
        f"{M},,999999,100,,,",
        f"{M},{code(2)},{c.id},100,,,",
        f"{M},{code(2)},,-5,,,",
        f"2025-13,,{c.id},100,,,",
        f"{future},{code(2)},,100,,,",
        f"{M},,{c.id},,,,",
        f"{M},,{c.id},10,abc,3.5,",
        f"{M},{code(1).lower()},,1300,,,",
        f"{M},,,100,,,",
    )

    report = run(text, org["admin"])

    problems = english(report.errors)
    assert sorted(problems) == list(range(3, 14))
    assert f"credit code {wrong_digit} has a wrong check digit" in problems[3]
    assert f"no customer has the credit code {code(8)}" in problems[4]
    assert "no customer has the id 999999" in problems[5]
    assert f"is the code of customer {customers['b'].id}, not of customer {c.id}" in problems[6]
    assert "revenue must be an amount in yuan from 0 to" in problems[7]
    assert "month must be a month like 2025-06 or 202506, not 2025-13" in problems[8]
    assert f"the month {future} has not begun" in problems[9]
    assert "the revenue is missing" in problems[10]
    assert "arpu must be an amount in yuan" in problems[11]
    assert "active_lines must be a whole number from 0 to 2000000000, not 3.5" in problems[11]
    # The same customer and month twice: the later line names the earlier one.
    assert f"the figures of this customer for {M} are also on line 2" in problems[12]
    assert "the customer is missing: give its credit code or its id" in problems[13]
    assert report.imported == 0 and count_figures() == 0


def test_the_web_dry_run_lists_each_bad_line_and_offers_no_import(client, login, org, customers):
    login(client, org["admin"])
    text = csv_text("月份,统一社会信用代码,收入", f"{M},{code(1)},100", f"{M},{code(8)},abc")

    response = upload(client, text)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-line="3"' in page and 'id="import-commit"' not in page
    assert count_figures() == 0


def test_a_file_that_no_longer_passes_at_the_commit_imports_nothing(
    client, login, org, customers, make_customer
):
    login(client, org["admin"])
    text = csv_text("月份,统一社会信用代码,收入", f"{M},{code(1)},100", f"{M},{code(2)},200")
    token = token_of(upload(client, text))
    # Between the dry run and the commit the second customer's code is corrected away.
    customers["b"].credit_code = code(3)
    db.session.commit()

    response = client.post("/customers/import/commit", data={"token": token})

    assert response.status_code == 409
    assert f"no customer has the credit code {code(2)}" in response.get_data(as_text=True)
    assert count_figures() == 0


# A month imported, then imported again ---------------------------------------------------


def test_the_web_import_says_what_it_adds_and_the_commit_writes_it(client, login, org, customers):
    login(client, org["admin"])
    text = csv_text(
        "月份,统一社会信用代码,客户编号,客户名称,收入(元),ARPU,到达数,重点行业解决方案收入,欠费,欠费回收,离网数",
        f'{M},{code(1)},,东湖精密,"1,200.50",35.20,34,300,80,20,1',
        f"{M},,{customers['c'].id},南岭能源,¥800,,12,,,,0",
    )

    checked = upload(client, text, name="账单-06.csv")

    page = checked.get_data(as_text=True)
    assert 'id="import-ok"' in page and 'id="figures-changes"' in page
    assert f"Months in the file: {M}." in page
    assert "adds 2 new monthly figures, replaces 0 that differ" in page
    assert count_figures() == 0

    done = client.post("/customers/import/commit", data={"token": token_of(checked)})

    assert done.status_code == 302
    flashed = client.get(done.location).get_data(as_text=True)
    assert "2 lines of business figures are imported: 2 new, 0 changed" in flashed
    a = figures_of(customers["a"])
    assert a.revenue == Decimal("1200.50") and a.arpu == Decimal("35.20")
    assert a.active_lines == 34 and a.key_solution_revenue == Decimal("300.00")
    assert a.arrears == Decimal("80.00") and a.arrears_recovered == Decimal("20.00")
    assert a.lines_lost == 1 and a.source == "账单-06.csv" and a.imported_at is not None
    c = figures_of(customers["c"])
    assert c.revenue == Decimal("800.00") and c.arpu is None and c.lines_lost == 0


def test_reimporting_a_month_replaces_it_for_the_customers_in_the_file(org, customers):
    first = run(
        csv_text(
            "month,credit_code,customer_id,revenue,arpu,active_lines",
            f"{M},{code(1)},,1000,10,100",
            f"{M},{code(2)},,2000,20,100",
            f"{M},,{customers['c'].id},3000,30,100",
        ),
        org["admin"],
        source="first.csv",
    )
    db.session.commit()
    assert first.figure_counts.added == 3
    kept = figures_of(customers["c"])
    kept_at = kept.imported_at

    # The corrected file: a's revenue changed, b's ARPU column is gone, c is not in it.
    second = run(
        csv_text(
            "month,credit_code,revenue,active_lines",
            f"{LAST_MONTH:%Y年%m月},{code(1)},1100,100",
            f"{LAST_MONTH:%Y%m},{code(2)},2000,100",
        ),
        org["admin"],
        source="second.csv",
    )
    db.session.commit()

    counts = second.figure_counts
    assert (counts.added, counts.changed, counts.unchanged) == (0, 2, 0)
    a, b, c = (figures_of(customers[key]) for key in "abc")
    assert a.revenue == Decimal("1100.00") and a.arpu is None  # the row is replaced whole
    assert b.revenue == Decimal("2000.00") and b.arpu is None and b.source == "second.csv"
    assert c.revenue == Decimal("3000.00") and c.imported_at == kept_at  # not in the file
    assert count_figures() == 3

    # The same file once more changes nothing, and says so.
    third = run(
        csv_text("month,credit_code,revenue,active_lines", f"{M},{code(1)},1100.00,100"),
        org["admin"],
    )
    assert (third.figure_counts.changed, third.figure_counts.unchanged) == (0, 1)
    assert figures_of(customers["a"]).source == "second.csv"


def test_several_months_in_one_file(org, customers):
    earlier = add_months(LAST_MONTH, -1)
    report = run(
        csv_text(
            "账期,客户编号,出账收入",
            f"{earlier:%Y%m},{customers['c'].id},500",
            f"{LAST_MONTH:%Y%m},{customers['c'].id},450",
        ),
        org["admin"],
    )
    assert report.ok and report.figure_counts.months == [earlier, LAST_MONTH]
    assert figures_of(customers["c"], earlier).revenue == Decimal("500.00")


# Matching, headers, encodings --------------------------------------------------------


def test_customers_are_matched_by_credit_code_as_typed_or_by_id(org, customers):
    full_width = code(2).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    report = run(
        csv_text(
            "Month,Credit Code,Customer ID,Revenue",
            f"{M}, {code(1).lower()} ,,100",
            f"{M},{full_width},,200",
            f"{M},,{customers['c'].id},300",
            f"{M},{code(4)},{customers['other'].id},400",
        ),
        org["admin"],
    )
    assert report.ok, english(report.errors)
    db.session.commit()
    assert figures_of(customers["a"]).revenue == 100
    assert figures_of(customers["b"]).revenue == 200
    assert figures_of(customers["c"]).revenue == 300
    assert figures_of(customers["other"]).revenue == 400


@pytest.mark.parametrize(
    "header",
    [
        "month,credit_code,revenue,arpu,active_lines,key_solution_revenue,arrears,"
        "arrears_recovered,lines_lost",
        "月份,统一社会信用代码,收入,ARPU,到达数,重点行业解决方案收入,欠费,欠费回收,离网数",
        "统计月份,信用代码,月收入（元）,arpu(元),到达用户数(户),解决方案收入,欠费金额,回收欠费,离网用户数",
    ],
    ids=["english", "chinese", "billing-aliases"],
)
def test_headers_in_english_or_chinese(org, customers, header):
    report = run(csv_text(header, f"{M},{code(1)},900,30,30,100,50,25,2"), org["admin"])
    assert report.ok, english(report.errors)
    db.session.commit()
    a = figures_of(customers["a"])
    assert (a.revenue, a.arpu, a.active_lines, a.key_solution_revenue) == (900, 30, 30, 100)
    assert (a.arrears, a.arrears_recovered, a.lines_lost) == (50, 25, 2)


def test_header_problems_name_the_columns(org, customers):
    with pytest.raises(imports.ImportFileError) as unknown:
        imports.parse_file("figures", csv_text("月份,信用代码,收人", f"{M},{code(1)},1").encode())
    with pytest.raises(imports.ImportFileError) as missing:
        imports.parse_file("figures", csv_text("月份,收入", f"{M},1").encode())
    with force_locale("en"):
        assert "does not know: 收人" in str(unknown.value.message)
        assert "lacks the required columns: credit_code / customer_id" in str(missing.value.message)


@pytest.mark.parametrize(
    ("encoding", "chosen", "read_as"),
    [("utf-8-sig", "auto", "utf-8"), ("utf-8", "auto", "utf-8"), ("gb18030", "auto", "gb18030")],
    ids=["utf8-bom", "utf8", "gb18030"],
)
def test_utf8_bom_and_gb18030_files(org, customers, encoding, chosen, read_as):
    text = csv_text(
        "月份,统一社会信用代码,客户名称,收入",
        f"{LAST_MONTH:%Y年%m月},{code(1)},东湖精密制造有限公司,1500",
        f"{M},{code(2)},西山物流有限公司,2500",
    )
    report = run(text.encode(encoding), org["admin"], encoding=chosen)
    assert report.ok and report.encoding == read_as and report.figure_counts.added == 2


# Who may import ------------------------------------------------------------------------


def test_only_an_administrator_imports_figures(client, login, org, customers):
    text = csv_text("month,credit_code,revenue", f"{M},{code(1)},100")
    with pytest.raises(NotAllowed):
        run(text, org["sup1"])
    login(client, org["m1"])
    page = client.get("/customers/import").get_data(as_text=True)
    assert 'value="figures"' not in page and "figures-help" not in page
    response = upload(client, text)
    assert response.status_code == 400 and count_figures() == 0
    login(client, org["admin"])
    assert 'value="figures"' in client.get("/customers/import").get_data(as_text=True)


# The revenue trend ---------------------------------------------------------------------


def test_the_import_refreshes_the_revenue_trend_without_touching_the_version(org, customers):
    a, b = customers["a"], customers["b"]
    months = [add_months(LAST_MONTH, offset) for offset in range(-5, 1)]
    lines = ["month,credit_code,revenue"]
    for month, revenue in zip(months, (100, 100, 100, 80, 80, 80), strict=True):
        lines.append(f"{month:%Y-%m},{code(1)},{revenue}")
    for month in months[1:]:  # five months only: no trend
        lines.append(f"{month:%Y-%m},{code(2)},100")
    version, changed_at = a.version, a.updated_at

    assert run(csv_text(*lines), org["admin"]).ok
    db.session.commit()

    db.session.expire_all()
    assert a.revenue_trend == Decimal("-20.00")
    assert a.version == version and a.updated_at == changed_at  # derived, not an edit
    assert b.revenue_trend is None and customers["c"].revenue_trend is None

    # The latest month re-imported higher: the trend follows (80 + 80 + 170 against 300).
    run(csv_text("month,credit_code,revenue", f"{M},{code(1)},170"), org["admin"])
    db.session.commit()
    db.session.expire_all()
    assert a.revenue_trend == Decimal("10.00")

    # An earlier month corrected: the window still ends at the latest month (330 against 600).
    run(csv_text("month,credit_code,revenue", f"{months[1]:%Y-%m},{code(1)},400"), org["admin"])
    db.session.commit()
    db.session.expire_all()
    assert a.revenue_trend == Decimal("-45.00")


def test_months_are_read_as_billing_files_write_them():
    june = date(2025, 6, 1)
    for text in (
        "2025-06",
        "2025/6",
        "2025.06",
        "2025年6月",
        "2025年06月",
        "202506",
        "2025-06-30",
        "2025/6/1",
        "20250615",
        "2025年6月1日",
        " 2025-06 ",
    ):
        assert parse_month(text) == june, text
    for text in ("2025", "2025-13", "25-06", "2025-06-31", "June 2025", "２０２５０６", ""):
        assert parse_month(text) is None, text


# The command line (the nightly job) ------------------------------------------------------


def test_cli_import_checks_then_imports_and_says_what_changed(runner, org, customers, tmp_path):
    path = tmp_path / "billing-202506.csv"
    path.write_bytes(
        csv_text("月份,统一社会信用代码,收入", f"{M},{code(1)},100", f"{M},{code(2)},200").encode(
            "gb18030"
        )
    )
    args = ["crm", "import", "figures", str(path), "--as", "admin"]

    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Importing would add 2, change 0 and leave 0 figures as they are" in dry.output
    assert count_figures() == 0

    real = runner.invoke(args=args)
    assert real.exit_code == 0, real.output
    assert f"2 lines of figures imported (gb18030, {M}): 2 new, 0 changed, 0 unchanged." in (
        real.output
    )
    assert figures_of(customers["a"]).source == "billing-202506.csv"

    path.write_text(csv_text("month,credit_code,revenue", f"{M},{code(1)},150", f"{M},x,1"))
    refused = runner.invoke(args=args)
    assert refused.exit_code == 1
    assert "line 3:" in refused.output and "nothing was imported" in refused.output
    assert figures_of(customers["a"]).revenue == 100

    as_manager = runner.invoke(args=["crm", "import", "figures", str(path), "--as", "m1"])
    assert as_manager.exit_code == 1 and "只有系统管理员可以导入经营数据" in as_manager.output
