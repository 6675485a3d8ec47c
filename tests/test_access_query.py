"""Ids in the query string: every key the code reads is classified, and an id of the other
team's record answers 404 or shows nothing of it, while one's own record shows.

The registry is tests/routes.py QUERY_PARAMS; a new `request.args.get("x")` (or a new field
of a filters class) that it does not classify fails `test_every_query_key_is_classified`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crm.extensions import db
from crm.services.activity.work_log import iso_week, week_monday
from tests.routes import (
    DYNAMIC_READS,
    FORMS_FROM_QUERY,
    QUERY_PARAMS,
    WHOLE_QUERY_READS,
    QueryCase,
)

ROOT = Path(__file__).resolve().parent.parent
REQUEST_DICTS = {"request.args", "request.values", "request.form"}
HELPER_GETTERS = {"get", "_date_arg"}  # local wrappers around args.get(name)


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.right, ast.Constant):
        return node.right.value  # prefix + "ids"
    return None


def scan_query_reads() -> tuple[set, set, set, set]:
    """(keys, dynamic reads, forms built from the query, other uses) of blueprints/ and crm/."""
    keys, dynamic, forms, other = set(), set(), set(), set()
    files = sorted([*ROOT.glob("blueprints/**/*.py"), *ROOT.glob("crm/**/*.py")])
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        handled: set[int] = set()
        readers = _readers(tree, rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _fills_from_fields(node):
                keys |= {
                    (rel, item.target.id)
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                }
            if isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("get", "getlist")
                    and _reads(func.value, readers)
                    and node.args
                ):
                    handled.add(id(func.value))
                    key = _literal(node.args[0])
                    if key is None:
                        dynamic.add((rel, ast.unparse(node.args[0])))
                    else:
                        keys.add((rel, key))
                elif isinstance(func, ast.Name) and func.id in HELPER_GETTERS and node.args:
                    key = _literal(node.args[0])
                    if key is not None:
                        keys.add((rel, key))
                for arg in node.args:
                    if ast.unparse(arg) in REQUEST_DICTS:
                        handled.add(id(arg))  # the callee's reads are scanned themselves
                        if isinstance(func, ast.Name) and func.id.endswith("Form"):
                            forms.add(func.id)
            elif isinstance(node, ast.Subscript) and _reads(node.value, readers):
                handled.add(id(node.value))
                key = _literal(node.slice)
                if key is not None:
                    keys.add((rel, key))
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and ast.unparse(node) in REQUEST_DICTS
                and id(node) not in handled
            ):
                other.add((rel, lines[node.lineno - 1].strip()))
    for name in forms:
        keys |= _form_fields(name)
    return keys, dynamic, forms, other


def _readers(tree: ast.Module, rel: str) -> set[int]:
    """Ids of the `args` names that hold a query string: in views and in from_args helpers.

    Elsewhere in services `args` and `values` are plain dicts of keyword arguments. The
    JSON API's views get theirs from webargs, validated by the OpenAPI document's schemas;
    every integer field of that document is classified in tests/routes.py API_ID_FIELDS
    (tests/test_api_access.py), so they are not query reads of this scan.
    """
    names: set[int] = set()
    if rel.startswith("blueprints/api/"):
        return names
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef) and (
            rel.startswith("blueprints/") or "from_args" in function.name
        ):
            names |= {
                id(n) for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == "args"
            }
    return names


def _reads(node: ast.AST, readers: set[int]) -> bool:
    return ast.unparse(node) in REQUEST_DICTS or id(node) in readers


def _fills_from_fields(node: ast.ClassDef) -> bool:
    """A filters dataclass whose from_args reads one query key per field."""
    return any(
        isinstance(item, ast.FunctionDef)
        and item.name == "from_args"
        and "fields(cls)" in ast.unparse(item)
        for item in node.body
    )


def _form_fields(form_name: str) -> set[tuple[str, str]]:
    rel = FORMS_FROM_QUERY.get(form_name)
    if rel is None:
        return {("?", form_name)}
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    form = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == form_name)
    return {
        (rel, target.id)
        for item in form.body
        if isinstance(item, ast.Assign)
        for target in item.targets
        if isinstance(target, ast.Name)
    }


def test_every_query_key_is_classified():
    keys, dynamic, _forms, other = scan_query_reads()
    missing = sorted(keys - set(QUERY_PARAMS))
    assert not missing, f"query keys read but not classified in tests/routes.py: {missing}"
    stale = sorted(set(QUERY_PARAMS) - keys)
    assert not stale, f"classified in tests/routes.py but no longer read: {stale}"
    unexplained = sorted(dynamic - set(DYNAMIC_READS))
    assert not unexplained, f"query reads with a computed key, not in DYNAMIC_READS: {unexplained}"
    whole = sorted(
        (rel, line)
        for rel, line in other
        if not any(rel == f and part in line for f, part in WHOLE_QUERY_READS)
    )
    assert not whole, f"request.args/form used in a way the scan cannot follow: {whole}"


def test_the_scan_finds_a_new_key(tmp_path, monkeypatch):
    """The scan is not vacuous: an unclassified read in a blueprint is found."""
    (tmp_path / "blueprints" / "x").mkdir(parents=True)
    (tmp_path / "blueprints" / "x" / "routes.py").write_text(
        'from flask import request\n\ndef view():\n    return request.args.get("customer_x")\n'
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    keys, *_ = scan_query_reads()
    assert keys == {("blueprints/x/routes.py", "customer_x")}


# The world: the owner's (m1, Team One) records and the other team's (m3, Team Two) ----------


@dataclass
class Side:
    customer: Any
    opportunity: Any
    contact: Any
    visit: Any
    reminder: Any
    request: Any
    user: Any
    team: Any
    ticket: Any = None  # a service ticket on the customer


@pytest.fixture
def two_teams(
    org, make_customer, make_opportunity, make_contact, make_visit, make_reminder
) -> dict[str, Side]:
    from crm.services.handover.requests import request_handover
    from crm.services.tickets.lifecycle import open_ticket

    # Names no page shows by chance.
    org["m1"].display_name, org["m3"].display_name = "本队经理甲", "外队经理丙"
    sides = {}
    for side, user, team in (("own", org["m1"], org["team1"]), ("other", org["m3"], org["team2"])):
        customer = make_customer(user, name=f"{side}客户有限公司")
        pending = request_handover(customer, actor=user, note="Access matrix")
        db.session.commit()
        sides[side] = Side(
            customer=customer,
            opportunity=make_opportunity(customer, title=f"{side}商机"),
            contact=make_contact(customer, name=f"{side}联系人"),
            visit=make_visit(customer),
            reminder=make_reminder(customer),
            request=pending,
            user=user,
            team=team,
            ticket=open_ticket(
                customer,
                actor=user,
                kind="complaint",
                category="billing",
                severity="high",
                title=f"{side}工单",
            ),
        )
        db.session.commit()
    return sides


def _shown_text(side: Side, case: QueryCase) -> str:
    """What of a side's record a page would show."""
    return {
        "customer": side.customer.name,
        "opportunity": side.opportunity.title,
        "contact": side.contact.name,
        "user": side.customer.name,  # a user's records: their customer
        "team": side.customer.name,
        "request": side.customer.name,
    }[case.target]


def _record_id(side: Side, case: QueryCase) -> int:
    record = {
        "customer": side.customer,
        "opportunity": side.opportunity,
        "contact": side.contact,
        "user": side.user,
        "team": side.team,
        "request": side.request,
    }[case.target]
    return record.id


PERSONA_USERS = {"owner": "m1", "supervisor": "sup1", "admin": "admin"}
ID_CASES = [
    pytest.param(key, url, persona, id=f"{key[1]}-{url.split('?')[0]}-{persona}")
    for key, case in QUERY_PARAMS.items()
    if isinstance(case, QueryCase)
    for url in case.urls
    for persona in case.personas
    # Handing over is for supervisors and admins: a manager gets 403 there (test_access_matrix).
    if not (url.startswith("/handovers/new") and persona == "owner")
]


def _url(template: str, record_id: int, sides: dict[str, Side]) -> str:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    week = iso_week(week_monday(None, ZoneInfo("Asia/Shanghai"), datetime.now(UTC)))
    return template.format(id=record_id, own_customer=sides["own"].customer.id, week=week)


def _selected(body: str, value: int) -> bool:
    return bool(
        re.search(rf'<option[^>]*\bselected\b[^>]*value="{value}"', body)
        or re.search(rf'<option[^>]*value="{value}"[^>]*\bselected\b', body)
    )


@pytest.mark.parametrize(("key", "template", "persona"), ID_CASES)
def test_the_other_teams_id_in_the_query_shows_nothing_of_it(
    client, login, org, two_teams, key, template, persona
):
    case = QUERY_PARAMS[key]
    other = two_teams["other"]
    login(client, org[PERSONA_USERS[persona]])

    response = client.get(_url(template, _record_id(other, case), two_teams))

    body = response.get_data(as_text=True)
    if persona == "admin":
        return  # an admin's scope has no outside; the own-id test checks what they see
    if case.refusal == "404":
        assert response.status_code == 404, (template, persona, response.status_code)
    else:
        assert response.status_code == 200, (template, persona, response.status_code)
        assert not _selected(body, _record_id(other, case))
    assert _shown_text(other, case) not in body, f"{persona} sees the other team's record"
    assert other.user.display_name not in body


@pytest.mark.parametrize(("key", "template", "persona"), ID_CASES)
def test_ones_own_id_in_the_query_shows_the_record(
    client, login, org, two_teams, key, template, persona
):
    case = QUERY_PARAMS[key]
    own = two_teams["own"]
    login(client, org[PERSONA_USERS[persona]])

    response = client.get(_url(template, _record_id(own, case), two_teams))

    assert response.status_code == 200, (template, persona, response.status_code)
    body = response.get_data(as_text=True)
    if case.shows == "selected":
        assert _selected(body, _record_id(own, case)), f"{template}: not preselected"
    elif template.startswith(("/?", "/reports/")):
        assert response.status_code == 200  # figures, not names: the status is the check
    else:
        assert _shown_text(own, case) in body, f"{persona} does not see their own record"
    if case.refusal == "hidden" and case.target in ("user", "team", "customer"):
        # The filter narrows: the other team's record is not listed beside one's own.
        assert two_teams["other"].customer.name not in body


@pytest.mark.parametrize("odd", ["²", "١٢", "9" * 30, "-1", " 7"])
def test_an_id_that_is_no_record_id_is_dropped_from_the_filters_not_a_server_error(
    client, login, org, odd
):
    """Digits other than ASCII ("²" passes str.isdigit() and fails int()), too long for the
    id columns, signed or padded: each list answers as without the filter."""
    login(client, org["admin"])
    for url in (
        "/customers/?owner={}",
        "/service/?customer={}",
        "/service/?owner={}",
        "/opportunities/?owner={}",
        "/customers/at-risk?owner={}",
        "/admin/users?team={}",
        "/handovers/new?request={}",
    ):
        assert client.get(url.format(odd)).status_code == 200, url
