"""Chinese ships complete: every marked string has a translation that keeps its placeholders.

A string added to the code without a translation fails this module; the fix is
`scripts/i18n update`, then a msgstr in crm/translations/zh_Hans_CN/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "crm" / "translations"
MAPPING = TRANSLATIONS / "babel.cfg"
# zh_Hans_CN: Babel parses the app's "zh_CN" as that, and Flask-Babel looks the catalog up by it.
PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")

# %(name)s, %d, %.2f ... and the escaped percent sign %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)


def read_catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN")


def mapping() -> tuple[list, dict]:
    with MAPPING.open() as f:
        return parse_mapping_cfg(f, str(MAPPING))


def extract(root: Path) -> dict[tuple, list[str]]:
    """(msgid, context) -> locations of every string babel.cfg marks for translation."""
    method_map, options_map = mapping()
    found: dict[tuple, list[str]] = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
        root, method_map, options_map
    ):
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def signature(text: str) -> tuple:
    """What formatting needs from a string: named and positional placeholders, stray %."""
    tokens = [m for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%"]
    named = frozenset(m.group(0) for m in tokens if m.group("name") is not None)
    positional = tuple(m.group(0) for m in tokens if m.group("name") is None)
    stray_percent = "%" in PLACEHOLDER.sub("", text)
    return named, positional, stray_percent


@pytest.fixture(scope="module", autouse=True)
def compiled_catalog():
    """Flask-Babel reads the .mo next to the .po (gitignored): build it when missing or stale."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        partial = MO.with_name(f".messages.{os.getpid()}.mo")
        with partial.open("wb") as f:
            write_mo(f, read_catalog())
        os.replace(partial, MO)  # atomic: parallel workers never read half a file


def test_every_marked_string_has_a_chinese_translation():
    catalog = read_catalog()
    extracted = extract(ROOT)
    assert len(extracted) > 50, "extraction found almost nothing: is babel.cfg right?"
    missing = []
    for (msgid, context), places in sorted(extracted.items(), key=lambda item: item[1]):
        message = catalog.get(msgid, context)
        strings = () if message is None else message.string
        strings = (strings,) if isinstance(strings, str) else strings
        if message is None or not strings or not all(strings) or message.fuzzy:
            shown = msgid if isinstance(msgid, str) else msgid[0]
            state = "fuzzy" if message is not None and message.fuzzy else "untranslated"
            missing.append(f"{state}: {shown!r} ({places[0]})")
    assert not missing, (
        f"{len(missing)} string(s) lack a Chinese translation; run scripts/i18n update and "
        f"translate them in {PO.relative_to(ROOT)}:\n  " + "\n  ".join(missing)
    )


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for message in read_catalog():
        if not message.id:
            continue
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:
            # Chinese has one plural form, used for every count: it carries the plural's.
            pairs = [(message.id[-1], string) for string in message.string]
        for msgid, msgstr in pairs:
            if msgstr and signature(msgstr) != signature(msgid):
                wrong.append(f"{msgid!r} -> {msgstr!r}")
    assert not wrong, (
        "placeholders differ (a msgid whose % is not a placeholder, like '15 % off', still "
        "reads as one to Babel: reword the English, e.g. '15 percent off'):\n  "
        + "\n  ".join(wrong)
    )


def test_template_mapping_extracts_strings_as_they_are_looked_up(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        "<h1>{{ _('Welcome, %(name)s', name=user.name) }}</h1>\n"
        "{% trans n=count %}\n  You own\n  {{ n }} customers.\n{% endtrans %}\n"
        "{% trans %}Visits done: 100%{% endtrans %}\n"
        "{{ user.role|label }} {{ form.name.label(class_='form-label') }}\n"
    )
    (tmp_path / "templates" / "email").mkdir()
    (tmp_path / "templates" / "email" / "note.subject.txt").write_text(
        "{{ _('Follow-up due: %(customer)s', customer=name) }}\n"
    )
    assert set(extract(tmp_path)) == {
        ("Welcome, %(name)s", None),
        # trimmed, like the app's ext.i18n.trimmed policy looks it up
        ("You own %(n)s customers.", None),
        # newstyle gettext formats every string, so a literal percent sign stays escaped
        ("Visits done: 100%%", None),
        # plain-text email templates count too
        ("Follow-up due: %(customer)s", None),
    }


def choose_english(client) -> None:
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 302
    # Flask-Babel caches the locale on `g`, and the `app` fixture keeps one app context
    # (one `g`) for the whole test; a real request starts with a fresh one.
    flask_babel.refresh()


def test_sign_in_page_is_chinese_by_default_and_english_when_chosen(client):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r">\s*登录\s*<", page)
    assert "Sign in" not in page

    choose_english(client)
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r">\s*Sign in\s*<", page)
    assert "登录" not in page


def test_pages_declare_their_language(client):
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    choose_english(client)
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
