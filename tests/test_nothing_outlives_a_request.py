"""Nothing that outlives a request holds what belongs to one (issue 11, items 1 and 2).

Jinja keeps the module of a template imported without context for the whole process,
and a form class's unbound fields live as long as the module: a CSRF token, a word in
one language or a user computed there is served to every later request. These tests
read every template and form class so that a new one cannot bring the class back.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from jinja2 import nodes
from sqlalchemy import func, select

import blueprints
from crm.extensions import db
from models import Reminder, ReminderStatus, Visit, VisitKind

# Names a macro may read when its template was imported without the importer's context.
MACRO_NAMES = {"caller", "loop", "varargs", "kwargs", "super", "self"}


def _imports_without_context(env) -> dict[str, list[str]]:
    """template name -> the templates that import it without context."""
    found: dict[str, list[str]] = {}
    for name in env.list_templates(extensions=["html", "txt"]):
        tree = env.parse(env.loader.get_source(env, name)[0])
        for node in tree.find_all((nodes.FromImport, nodes.Import)):
            if not node.with_context and isinstance(node.template, nodes.Const):
                found.setdefault(node.template.value, []).append(name)
    return found


def _top_level_problems(tree: nodes.Template) -> list[str]:
    """Top-level code that runs once per process: anything but macros and constants."""
    problems = []
    for node in tree.body:
        if isinstance(node, nodes.Macro):
            continue
        if isinstance(node, nodes.Output) and all(
            isinstance(child, nodes.TemplateData) for child in node.nodes
        ):
            continue
        for part in node.find_all((nodes.Call, nodes.Filter, nodes.Test, nodes.Getattr)):
            problems.append(f"line {part.lineno}: top-level {type(part).__name__}")
        for name in node.find_all(nodes.Name):
            if name.ctx == "load":
                problems.append(f"line {name.lineno}: top-level code reads {name.name!r}")
        if isinstance(node, nodes.Output):
            problems.append(f"line {node.lineno}: top-level output")
    return problems


def _macro_problems(tree: nodes.Template, env) -> list[str]:
    """Names a macro reads that only the importing page's context could give."""
    top_level = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    top_level |= {m.name for m in tree.find_all(nodes.Macro)}
    problems = []
    for macro in tree.find_all(nodes.Macro):
        known = {n.name for n in macro.find_all(nodes.Name) if n.ctx in ("store", "param")}
        known |= {a.name for a in macro.args} | top_level | MACRO_NAMES | set(env.globals)
        for name in macro.find_all(nodes.Name):
            if name.ctx == "load" and name.name not in known:
                problems.append(f"macro {macro.name} reads {name.name!r} (line {name.lineno})")
    return problems


def test_templates_imported_without_context_compute_nothing_at_import(app):
    """A module cached for the process may define macros and constants, nothing else.

    `{% set token = csrf_token() %}` or `{% set t = {'done': _('Done')} %}` at the top of
    such a template is worked out for the first request and served to all later ones
    (the home page's follow-up forms all answered 400 "the form expired").
    """
    env = app.jinja_env
    imported = _imports_without_context(env)
    assert "reminders/_actions.html" in imported and "_macros.html" in imported
    problems = {}
    for name, importers in sorted(imported.items()):
        tree = env.parse(env.loader.get_source(env, name)[0])
        found = _top_level_problems(tree) + _macro_problems(tree, env)
        if found:
            problems[f"{name} (imported without context by {', '.join(importers)})"] = found
    assert problems == {}


def test_the_guard_sees_a_token_or_a_context_variable_in_a_cached_module(app):
    """The two checks above fail on the shapes that broke the home page."""
    env = app.jinja_env
    token = env.parse("{% set token = csrf_token() %}{% macro m() %}{{ token }}{% endmacro %}")
    words = env.parse("{% set t = {'done': _('Done')} %}")
    kinds = env.parse("{% macro m() %}{% for k in visit_kinds %}{{ k }}{% endfor %}{% endmacro %}")
    fine = env.parse("{% set CSS = {'a': 'b'} %}{% macro m(x) %}{{ _('Done') }}{% endmacro %}")
    assert _top_level_problems(token) and _top_level_problems(words)
    assert _macro_problems(kinds, env) == ["macro m reads 'visit_kinds' (line 1)"]
    assert _top_level_problems(fine) == [] and _macro_problems(fine, env) == []


def _form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(blueprints.__path__, "blueprints."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            # A class a function builds (a form per request, e.g. the weights form) is made
            # inside the request, in its language; another test's may still be alive here.
            if "<locals>" in sub.__qualname__:
                continue
            if sub.__module__.startswith("blueprints.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


def _texts_of(unbound) -> list[tuple[str, object]]:
    """The label, description, choice labels and messages a field was declared with."""
    texts = []
    args, kwargs = list(unbound.args), unbound.kwargs
    if args:
        texts.append(("label", args[0]))
    for key in ("label", "description"):
        if key in kwargs:
            texts.append((key, kwargs[key]))
    for choice in kwargs.get("choices") or ():
        if isinstance(choice, tuple | list) and len(choice) > 1:
            texts.append(("choice", choice[1]))
        elif hasattr(choice, "label"):
            texts.append(("choice", choice.label))
    for validator in kwargs.get("validators") or ():
        if getattr(validator, "message", None) is not None:
            texts.append(("message", validator.message))
    return texts


def test_form_classes_hold_no_text_translated_at_import(app):
    """Labels, choices and messages of a form class are lazy, or set per form in __init__.

    /account showed the lead-time choices in English to a Chinese user: they were turned
    into strings when the module was imported, outside any request.
    """
    translated_at_import = []
    dated_at_import = []
    with app.test_request_context("/"), force_locale("zh_CN"):
        for cls in _form_classes():
            for name, unbound in vars(cls).items():
                if not hasattr(unbound, "field_class"):
                    continue
                default = unbound.kwargs.get("default")
                if isinstance(default, date | datetime):
                    dated_at_import.append(f"{cls.__qualname__}.{name}")
                for what, text in _texts_of(unbound):
                    # A plain string that the catalog translates was meant to be lazy.
                    if isinstance(text, str) and gettext(text) != text:
                        translated_at_import.append(
                            f"{cls.__module__}.{cls.__qualname__}.{name} {what}: {text!r}"
                        )
    assert translated_at_import == []
    assert dated_at_import == []


def test_the_form_guard_sees_choices_built_at_import(app):
    """The shape of the /account bug: options() at class level holds a plain English string."""
    from flask_babel import lazy_gettext as _l
    from wtforms import SelectField

    from crm.labels import options

    with force_locale("en"):  # an import runs outside any request: English
        built_at_import = SelectField(choices=options([(0, _l("At the due time"))]))
    lazy = SelectField(_l("Send reminder emails"))
    with app.test_request_context("/"), force_locale("zh_CN"):
        [(_, text)] = _texts_of(built_at_import)
        assert isinstance(text, str) and gettext(text) != text
        [(_, text)] = _texts_of(lazy)
        assert isinstance(text, LazyString)


# Behaviour: two users, two languages, one process ------------------------------------

LEAD_TIMES = {
    "zh_CN": ["到期时", "提前 15 分钟", "提前 1 小时", "提前 1 天"],
    "en": ["At the due time", "15 minutes before", "1 hour before", "1 day before"],
}


def test_account_lead_times_follow_each_users_language_in_one_process(app, org, login):
    org["m1"].locale, org["m3"].locale = "zh_CN", "en"
    db.session.commit()
    pages = {}
    for _round in range(2):
        for user in (org["m1"], org["m3"]):
            html = login(app.test_client(), user).get("/account").get_data(as_text=True)
            pages[user.locale] = _options_of(html, "reminder_lead_minutes")
    assert [text for _, text in pages["zh_CN"]] == LEAD_TIMES["zh_CN"]
    assert [text for _, text in pages["en"]] == LEAD_TIMES["en"]


class FormsOf(HTMLParser):
    """The forms of a page as a browser would submit them: action, fields, buttons, selects."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._form = self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action"),
                "method": (a.get("method") or "get").lower(),
                "fields": {},
                "buttons": [],
                "selects": {},
                "required": [],
            }
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea") and a.get("name"):
            if a.get("type") == "submit":
                self._form["buttons"].append(a)
            else:
                self._form["fields"][a["name"]] = a.get("value") or ""
            if "required" in a:
                self._form["required"].append(a["name"])
        elif tag == "button":
            self._form["buttons"].append(a)
        elif tag == "select":
            self._select = self._form["selects"].setdefault(a["name"], [])
            self._form["fields"][a["name"]] = ""
            if "required" in a:
                self._form["required"].append(a["name"])
        elif tag == "option" and self._select is not None:
            self._select.append([a.get("value", ""), ""])

    def handle_data(self, data):
        if self._select and data.strip():
            self._select[-1][1] += data.strip()

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _options_of(html: str, name: str) -> list[tuple[str, str]]:
    for form in FormsOf(html).forms:
        for select_name, options in form["selects"].items():
            if select_name.rpartition("-")[2] == name:  # with or without a form prefix
                return [tuple(option) for option in options]
    raise AssertionError(f"no select {name}")


ROW_WORDS = {
    "zh_CN": ("推迟 1 天", "登记拜访、选择日期、改期或忽略", "电话沟通"),
    "en": ("Snooze 1 day", "Log the visit, pick a date, reschedule or dismiss", "Phone call"),
}
DONE_MESSAGES = {
    "zh_CN": "与 {} 的跟进已完成。",
    "en": "The follow-up with {} is done.",
}


def _row_forms(html: str, reminder_id: int) -> dict[str, dict]:
    """The forms of one follow-up row by what they do."""
    found = {}
    for form in FormsOf(html).forms:
        action = form["action"] or ""
        if not action.startswith(f"/reminders/{reminder_id}/"):
            continue
        verb = action.rsplit("/", 1)[1]
        if verb == "done":
            verb = "done_visit" if "log_visit" in form["fields"] else "done"
        elif verb == "snooze":
            verb = "snooze_until" if "until" in form["fields"] else "snooze"
        found[verb] = form
    return found


def _submit(client, form: dict, **filled):
    data = {**form["fields"], **filled}
    response = client.post(form["action"], data=data)
    if response.status_code == 200 and 'name="confirmed"' in response.get_data(as_text=True):
        response = client.post(form["action"], data={**data, "confirmed": "1"})
    return response


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}  # the bug was a stale token: the test needs the check


@pytest.mark.parametrize("page", ["/", "/reminders/"])
def test_follow_up_row_forms_work_for_two_users_in_two_languages_in_one_process(
    app, org, login, make_customer, make_reminder, page
):
    """Home and My follow-ups, rendered for a Chinese and an English manager in turn.

    Every row form posts back with what the page filled in: done, snooze (button and
    date), reschedule, dismiss and done-and-log-the-visit with a kind chosen.
    """
    users = {"zh_CN": org["m1"], "en": org["m3"]}
    rows = {}
    for language, user in users.items():
        user.locale = language
        customer = make_customer(user, name=f"客户 {language}")
        past = datetime.now(UTC) - timedelta(days=2)
        rows[language] = [
            make_reminder(customer, due_at=past, due_on=past.date()) for _ in range(6)
        ]
    db.session.commit()
    clients = {language: login(app.test_client(), user) for language, user in users.items()}

    html = {}
    for _round in range(2):  # the second user's page is the one a cached module spoils
        for language, client in clients.items():
            response = client.get(page)
            assert response.status_code == 200
            html[language] = response.get_data(as_text=True)

    for language, client in clients.items():
        other = "en" if language == "zh_CN" else "zh_CN"
        snooze, more, phone = ROW_WORDS[language]
        assert snooze in html[language] and more in html[language]
        assert ROW_WORDS[other][0] not in html[language]
        assert ROW_WORDS[other][1] not in html[language]
        done, snoozed, snoozed_until, rescheduled, dismissed, visited = rows[language]
        today = datetime.now(UTC).date()

        forms = _row_forms(html[language], done.id)
        response = _submit(client, forms["done"])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        flashed = client.get(response.location).get_data(as_text=True)
        assert DONE_MESSAGES[language].format(done.customer.name) in flashed

        form = _row_forms(html[language], snoozed.id)["snooze"]
        day_button = next(b for b in form["buttons"] if b.get("value") == "1")
        assert _submit(client, form, days=day_button["value"]).status_code == 302

        form = _row_forms(html[language], snoozed_until.id)["snooze_until"]
        until = (today + timedelta(days=5)).isoformat()
        assert _submit(client, form, until=until).status_code == 302

        form = _row_forms(html[language], rescheduled.id)["reschedule"]
        due_on = (today + timedelta(days=9)).isoformat()
        assert form["fields"]["due_on"] == rescheduled.due_on.isoformat()
        assert _submit(client, form, due_on=due_on, due_time="10:30").status_code == 302

        assert (
            _submit(client, _row_forms(html[language], dismissed.id)["dismiss"]).status_code == 302
        )

        form = _row_forms(html[language], visited.id)["done_visit"]
        kinds = form["selects"]["kind"]
        assert kinds[0][0] == "" and "kind" in form["required"]  # nothing chosen for you
        assert ["phone", phone] in kinds
        response = _submit(client, form, kind="phone", outcome=f"通话 {language}")
        assert response.status_code == 302

        db.session.expire_all()
        status = {r.id: db.session.get(Reminder, r.id) for r in rows[language]}
        assert status[done.id].status is ReminderStatus.DONE
        assert status[snoozed.id].due_on > today - timedelta(days=2)
        assert status[snoozed_until.id].due_on.isoformat() == until
        assert status[rescheduled.id].due_on.isoformat() == due_on
        assert status[dismissed.id].status is ReminderStatus.DISMISSED
        assert status[visited.id].status is ReminderStatus.DONE
        visit = db.session.scalar(select(Visit).where(Visit.outcome == f"通话 {language}"))
        assert visit.kind is VisitKind.PHONE and visit.user_id == users[language].id


@pytest.mark.parametrize("kind", [None, "", "teleport"])
def test_done_and_log_the_visit_without_a_kind_is_refused(
    app, org, login, make_customer, make_reminder, kind
):
    """No silent on-site visit: the kind must be chosen, and nothing is saved without it."""
    org["m3"].locale = "en"
    reminder = make_reminder(make_customer(org["m3"]))
    client = login(app.test_client(), org["m3"])
    html = client.get(f"/reminders/{reminder.id}").get_data(as_text=True)
    form = next(f for f in FormsOf(html).forms if f["action"].endswith("/done"))
    assert _options_of(html, "kind")[0] == ("", "— choose —")
    data = {**form["fields"], "log_visit": "y", "outcome": "met"}
    data.pop("kind")
    if kind is not None:
        data["kind"] = kind
    response = client.post(form["action"], data=data)
    assert response.status_code == 400
    assert "Choose the kind of visit." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Reminder, reminder.id).status is ReminderStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


# Calls that give a per-request, per-language or per-day value: never at import time.
PER_REQUEST_CALLS = {
    "_", "gettext", "ngettext", "pgettext", "npgettext", "options", "choices", "label",
    "today", "now", "utcnow", "generate_csrf", "csrf_token", "get_locale", "get_timezone",
    "format_date", "format_datetime", "url_for",
}  # fmt: skip
# Module-level calls that are the same for everyone: language names are written in their
# own language ("中文", "English") and zone names are not translated.
SAME_FOR_EVERYONE = {
    "options(LANGUAGE_NAMES.items())",
    "options(((z, z) for z in COMMON_TIMEZONES))",
}


def _import_time_calls(tree: ast.Module, path: str) -> list[str]:
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # runs per call, not at import (decorators aside: none of these)
            if isinstance(child, ast.Call):
                func = child.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                text = ast.unparse(child)
                if name in PER_REQUEST_CALLS and text not in SAME_FOR_EVERYONE:
                    found.append(f"{path}:{child.lineno} {text[:80]}")
            if isinstance(child, ast.Name) and child.id == "current_user":
                found.append(f"{path}:{child.lineno} current_user")
            visit(child)

    visit(tree)
    return found


def test_no_module_or_class_body_computes_a_per_request_value():
    """Module constants and form class bodies run once per process: lazy strings only."""
    root = Path(blueprints.__file__).resolve().parent.parent
    found = []
    for folder in ("blueprints", "crm", "models"):
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += _import_time_calls(tree, str(path.relative_to(root)))
    assert found == []


def test_the_import_time_guard_sees_a_translated_constant():
    tree = ast.parse(
        "from flask_babel import gettext as _\n"
        "LEAD = options([(0, _l('At the due time'))])\n"
        "class F:\n    title = _('Title')\n    def f(self):\n        return _('fine')\n"
    )
    assert _import_time_calls(tree, "x.py") == [
        "x.py:2 options([(0, _l('At the due time'))])",
        "x.py:4 _('Title')",
    ]
