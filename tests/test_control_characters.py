"""Control characters in any text input: 400 (or the form again) with a message, never 500.

PostgreSQL cannot store NUL: every text field, search box and the sign-in username
answered 500 there, and the import's dry run accepted what its commit then failed on.
The forms and inputs tested here are read from the pages the app renders, so a new
form or filter cannot be missed. Run on SQLite and on PostgreSQL
(CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blueprints.forms_base import CrmForm
from crm.extensions import db
from crm.services.control_characters import code_point, find_control_character
from crm.services.imports import batch as imports
from models import Customer
from tests.routes import ADMIN_ONLY, CUSTOMER_SCOPED, TEAM_LED, World

NUL_MESSAGE = "invisible control character (U+0000)"
OTHER_CONTROLS = ("\x01", "\x0b", "\x1b", "\x7f", "\x85", "\x9f")  # C0, DEL, C1
ONE_LINE_MESSAGE = "holds one line of text"
TEXT_TYPES = {"text", "search", "email", "tel", "url", "password", None}


# The rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "multiline", "found"),
    [
        ("平常的文字 plain text", False, None),
        ("a\x00b", True, "\x00"),
        ("a\x1bb", True, "\x1b"),  # escape
        ("a\x7fb", True, "\x7f"),  # DEL
        ("a\x85b", True, "\x85"),  # C1: next line
        ("a\x9fb", True, "\x9f"),
        ("two\r\nlines\tand a tab", True, None),
        ("a\tb", False, "\t"),
        ("a\nb", False, "\n"),
        ("a\u200bb\u00a0c", False, None),  # format characters and spaces are not controls
    ],
)
def test_which_characters_are_refused(text, multiline, found):
    assert find_control_character(text, multiline=multiline) == found


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_the_app_derives_from_the_shared_base(app):
    forms = [c for c in _subclasses(FlaskForm) if c.__module__.startswith("blueprints.")]
    assert len(forms) > 30
    assert [f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, CrmForm)] == []


# Sign-in, before anyone is signed in -------------------------------------------------


@pytest.fixture
def english_visitor(client):
    """A visitor who has not signed in, reading the English pages."""
    client.post("/language", data={"locale": "en"})
    return client


def test_a_nul_in_the_sign_in_username_is_refused_with_a_message(english_visitor, org):
    client = english_visitor
    response = client.post("/login", data={"username": "ad\x00min", "password": "secret"})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert NUL_MESSAGE in client.get("/login?next=/a%00b").get_data(as_text=True)


def test_a_tab_in_the_sign_in_username_is_a_form_error(english_visitor, org):
    client = english_visitor
    response = client.post("/login", data={"username": "ad\tmin", "password": "secret"})
    assert response.status_code == 200
    assert ONE_LINE_MESSAGE in response.get_data(as_text=True)


# Every form and filter the pages render ----------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method and fields as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": [],  # (name, value, kind)
            }
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name") or "disabled" in attrs:
            return
        elif tag == "input":
            kind = attrs.get("type")
            if kind in ("submit", "button", "reset", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._form["fields"].append([attrs["name"], attrs.get("value") or "", kind])
        elif tag == "select":
            self._select = attrs["name"]
            self._form["fields"].append([attrs["name"], None, "select"])
        elif tag == "option" and self._select:
            field = self._form["fields"][-1]
            if field[1] is None or "selected" in attrs:
                field[1] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form["fields"].append([attrs["name"], "", "textarea"])

    def handle_data(self, data):
        if self._textarea and self._form:
            self._form["fields"][-1][1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _pages(app, world: World) -> list[str]:
    """Every page an admin can GET: routes without arguments, and those with a record."""
    builders = {**CUSTOMER_SCOPED, **ADMIN_ONLY, **TEAM_LED}
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if rule.arguments and rule.endpoint not in builders:
                continue  # a token, not a record (tests/routes.py NOT_RECORDS)
            values = builders[rule.endpoint](world) if rule.arguments else {}
            urls.append(url_for(rule.endpoint, **values))
        # Forms that appear once a customer is chosen (the pages above show the picker).
        customer = world.customer().id
        urls += [
            url_for("visits.new", customer_id=customer),
            url_for("opportunities.new", customer_id=customer),
            url_for("reminders.new", customer_id=customer),
            url_for("handovers.new", ids=customer, q="客户"),
            url_for("handovers.new_request", customer=customer),
            url_for("service.new", customer_id=customer),
        ]
    return urls


def _stored_text_containing(marker: str) -> list[str]:
    """Where the marker was stored: every string of every row of every table."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            if marker in repr(tuple(row)):
                found.append(table.name)
    db.session.rollback()
    return found


def _submit(client, form: dict, page: str, field_index: int, value: str):
    action = form["action"] or page
    data = [
        (name, v if i != field_index else value) for i, (name, v, _) in enumerate(form["fields"])
    ]
    data = MultiDict([(name, v) for name, v in data if v is not None])
    if form["method"] == "get":
        return client.get(urlsplit(action).path, query_string=data)
    return client.post(action, data=data)


def test_every_text_input_refuses_control_characters(request, app, client, login, org):
    world = World.build(request)
    org["admin"].locale = "en"
    db.session.commit()
    login(client, org["admin"])
    marker = itertools.count()
    tried: list[str] = []  # "METHOD /path [field]"
    problems: list[str] = []
    for page in _pages(app, world):
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.content_type:
            response.close()  # a file (favicon, CSV export) is streamed: close it
            continue
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            for index, (name, _value, kind) in enumerate(form["fields"]):
                text_input = kind in TEXT_TYPES or kind in ("textarea", "hidden")
                # A filter's select is a text input too: its value is in the URL.
                filter_input = form["method"] == "get" and kind == "select"
                if name == "csrf_token" or not (text_input or filter_input):
                    continue
                n = next(marker)
                action = form["action"] or page
                where = f"{form['method'].upper()} {action} [{name}] from {page}"
                tried.append(f"{form['method'].upper()} {urlsplit(action).path} [{name}]")
                # NUL most of all (PostgreSQL's 500), and in turn the other kinds.
                char = "\x00" if n % 2 == 0 else OTHER_CONTROLS[n // 2 % len(OTHER_CONTROLS)]
                answer = _submit(client, form, page, index, f"h5b{n}{char}x")
                body = answer.get_data(as_text=True)
                if answer.status_code >= 500 or answer.status_code not in (200, 400):
                    problems.append(f"{where}: {answer.status_code}")
                elif f"invisible control character ({code_point(char)})" not in body:
                    problems.append(f"{where}: {answer.status_code} without the message")
                # One line only: a tab in a single-line field of a form that saves.
                if form["method"] == "post" and kind in TEXT_TYPES and kind != "password":
                    n = next(marker)
                    answer = _submit(client, form, page, index, f"h5b{n}\tx")
                    if answer.status_code >= 500:
                        problems.append(f"{where} (tab): {answer.status_code}")
                    # A credit code is read as a code: spaces and tabs fold away.
                    elif name != "credit_code" and ONE_LINE_MESSAGE not in answer.get_data(
                        as_text=True
                    ):
                        problems.append(f"{where} (tab): {answer.status_code} no message")
    stored = _stored_text_containing("h5b")
    assert problems == []
    assert stored == []
    # The walk reached the forms that matter (a broken walk would pass vacuously).
    for expected in (
        "GET /customers/ [q]",
        "POST /customers/new [name]",
        "POST /visits/new [purpose]",
        "POST /opportunities/new [title]",
        "POST /reminders/new [note]",
        "POST /handovers/new [sel_q]",  # a filter carried in a form, read without one
        "POST /handovers/requests/new [note]",
        "POST /account/password [pw-current_password]",
        "POST /service/new [title]",  # a service ticket's subject
    ):
        assert expected in tried, expected
    assert len(tried) > 80


def test_a_control_character_in_a_url_path_is_refused(client, login, org):
    login(client, org["m1"])
    response = client.get("/calendar/abc%00def.ics")
    assert response.status_code == 400


# The import -------------------------------------------------------------------------


def test_the_import_dry_run_names_the_line_and_column_of_a_control_character(org):
    text = (
        "客户名称,备注,区域\r\n"
        "乙\x00公司,,江城\r\n"
        "丙公司,,江\x85城\r\n"
        "丁公司,,江\t城\r\n"
        '甲公司,"第一行\r\n第二行\t第二列",江城\r\n'
    )
    parsed = imports.parse_file("customers", text.encode())

    report = imports.check_import(parsed, actor=org["m1"])

    with force_locale("en"):
        messages = {p.line: " | ".join(str(m) for m in p.messages) for p in report.errors}
    assert sorted(messages) == [2, 3, 4]  # line breaks and tabs in the notes are fine
    assert "客户名称 contains an invisible control character (U+0000)" in messages[2]
    assert "区域 contains an invisible control character (U+0085)" in messages[3]
    assert "区域 holds one line of text" in messages[4]
    done = imports.run_import(parsed, actor=org["m1"])
    assert not done.ok and done.imported == 0
    assert db.session.scalar(select(Customer.id)) is None
