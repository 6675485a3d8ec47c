"""Reading an imported file: headings as the file wrote them, encodings, broken quotes."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.imports import batch as imports
from models import Customer

TRADITIONAL = (
    "name,credit_code,region\r\n"
    "中國人壽保險股份有限公司,,台北\r\n"
    "臺灣銀行股份有限公司,,高雄\r\n"
    "長榮航空股份有限公司,,桃園\r\n"
)


@pytest.fixture
def app_overrides(tmp_path):
    return {"IMPORT_UPLOAD_DIR": str(tmp_path / "uploads"), "MAX_CONTENT_LENGTH": 64 * 1024}


def upload(client, data: bytes, encoding="auto"):
    return client.post(
        "/customers/import",
        data={"kind": "customers", "encoding": encoding, "file": (io.BytesIO(data), "list.csv")},
        content_type="multipart/form-data",
    )


def customers() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


# Headings ---------------------------------------------------------------------------


def test_the_dry_run_shows_the_files_own_headers(client, login, org):
    login(client, org["m1"])
    text = "客户名称,统一社会信用代码,上级客户,价值等级\r\n东湖精密,,,A\r\n西湖电子,,,Z\r\n"
    page = upload(client, text.encode()).get_data(as_text=True)
    preview = page[page.index('id="import-preview"') :]
    head = preview[: preview.index("</thead>")]
    for heading in ("客户名称", "统一社会信用代码", "上级客户", "价值等级"):
        assert f"<th>{heading}</th>" in head
    for key in ("credit_code", "parent", "tier"):
        assert key not in head
    # The bad value's message names the column as the file does.
    errors = page[page.index('id="import-errors"') :]
    assert "价值等级" in errors and "tier" not in errors


def test_messages_name_english_headers_as_written(org):
    text = "Name,Credit Code,Region\r\nA Ltd," + "x" * 10 + ",North" + "y" * 200 + "\r\n"
    parsed = imports.parse_file("customers", text.encode())
    assert parsed.headings == {"name": "Name", "credit_code": "Credit Code", "region": "Region"}
    report = imports.check_import(parsed, actor=org["m1"])
    messages = " ".join(str(m) for p in report.errors for m in p.messages)
    assert "Region" in messages and "region " not in messages


# Encodings --------------------------------------------------------------------------


def test_a_big5_file_is_read_as_big5_not_garbled_gb18030(org):
    parsed = imports.parse_file("customers", TRADITIONAL.encode("big5"))
    assert parsed.encoding == "big5"
    assert [values["name"] for _, values in parsed.rows][0] == "中國人壽保險股份有限公司"


def test_a_gb18030_file_still_reads_as_gb18030(org):
    text = "客户名称,区域\r\n中国人寿保险股份有限公司,北京\r\n上海银行股份有限公司,上海\r\n"
    parsed = imports.parse_file("customers", text.encode("gb18030"))
    assert parsed.encoding == "gb18030"
    assert parsed.rows[0][1]["name"] == "中国人寿保险股份有限公司"


def test_an_unclear_encoding_asks_with_previews_and_the_choice_imports(client, login, org):
    login(client, org["m1"])
    data = "name\r\n醫院\r\n".encode("big5")  # reads as text in both encodings
    with pytest.raises(imports.EncodingUnsure) as unsure:
        imports.decode(data)
    assert unsure.value.previews["big5"][1] == "醫院"
    assert unsure.value.previews["gb18030"][1] != "醫院"

    page = upload(client, data)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="encoding-unsure"' in html and "醫院" in html
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert customers() == 0

    checked = client.post("/customers/import/encoding", data={"token": token, "encoding": "big5"})
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'id="import-ok"' in body and "醫院" in body
    commit = re.search(r'name="token" type="hidden" value="([^"]+)"', body).group(1)
    client.post("/customers/import/commit", data={"token": commit})
    assert db.session.scalar(select(Customer.name)) == "醫院"


def test_another_users_token_cannot_choose_an_encoding(client, login, org):
    login(client, org["m1"])
    html = upload(client, "name\r\n醫院\r\n".encode("big5")).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    login(client, org["m2"])
    response = client.post("/customers/import/encoding", data={"token": token, "encoding": "big5"})
    assert response.status_code == 302 and customers() == 0


def test_choosing_the_wrong_encoding_explicitly_is_refused_clearly(org):
    with pytest.raises(imports.ImportFileError) as error:
        imports.decode("名称".encode("gb18030") + b"\xff\xff", "big5")
    assert "Big5" in str(error.value.message)


def test_the_cli_lists_both_readings_when_unsure(runner, org, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("name\r\n醫院\r\n".encode("big5"))
    result = runner.invoke(args=["crm", "import", "customers", str(path), "--as", "m1"])
    assert result.exit_code != 0
    assert "--encoding big5:" in result.output and "醫院" in result.output
    result = runner.invoke(
        args=["crm", "import", "customers", str(path), "--as", "m1", "--encoding", "big5"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Customer.name)) == "醫院"


# Broken quotes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # A quote opened and never closed: the rest of the file would vanish into one cell.
        ('name,region\r\nA,North\r\n"B,South\r\nC,East\r\nD,West\r\n', 3),
        # A quote closed lines later: the cell swallows the lines between.
        ('name,region\r\nA,North\r\n"B,South\r\nC",East\r\nD,West\r\n', 3),
        # Text after a closing quote.
        ('name,region\r\nA,North\r\nB,"South"ern\r\n', 3),
    ],
)
def test_a_malformed_line_is_reported_with_its_number(org, text, line):
    with pytest.raises(imports.ImportFileError) as error:
        imports.parse_file("customers", text.encode())
    assert f"Line {line}" in str(error.value.message) or f"第 {line} 行" in str(error.value.message)


def test_line_breaks_inside_quoted_notes_are_kept(org):
    text = 'name,notes\r\nA,"first\nsecond"\r\nB,x\r\n'
    parsed = imports.parse_file("customers", text.encode())
    assert [line for line, _ in parsed.rows] == [2, 3]
    assert parsed.rows[0][1]["notes"] == "first\nsecond"
