"""One way to ask for a role: user.is_admin, is_supervisor, is_manager; never a string."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models import Role, User

ROOT = Path(__file__).resolve().parent.parent
# A role compared as text (role.value == "admin", role.value != 'manager') or, in a view
# or template, as an enum member (role is Role.ADMIN, role in (Role.SUPERVISOR, ...)).
STRING_COMPARISON = re.compile(r"\brole\.value\s*(==|!=)|(==|!=)\s*\w+\.role\.value\b")
MEMBER_COMPARISON = re.compile(r"\.role\s+(is|is not|==|!=|in|not in)\s+\(?Role\.")


def offending_lines(folders: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".py", ".html"}:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if STRING_COMPARISON.search(line) or MEMBER_COMPARISON.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


# In services and permissions `User.role == Role.MANAGER` is SQL (a WHERE clause): only
# the Python tests on a user are checked there.
PYTHON_CHECK = re.compile(r"\.role\s+(is|is not|in|not in)\s+\(?Role\.")


def test_views_and_templates_ask_for_a_role_through_the_user():
    assert offending_lines(("templates", "blueprints")) == []


def test_services_ask_for_a_role_through_the_user():
    found = []
    for path in sorted((ROOT / "crm" / "services").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if STRING_COMPARISON.search(line) or PYTHON_CHECK.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        "{% if current_user.role.value == 'manager' %}",
        "{% if current_user.role.value != 'manager' %}",
        '"teams": choices if current_user.role.value == "admin" else [],',
        "if current_user.role is Role.MANAGER:",
        "if current_user.role is not Role.ADMIN:",
        "sees = current_user.role in (Role.SUPERVISOR, Role.ADMIN)",
    ],
)
def test_the_check_recognises_a_role_compared_by_hand(line):
    assert STRING_COMPARISON.search(line) or MEMBER_COMPARISON.search(line)


@pytest.mark.parametrize("role", list(Role))
def test_each_user_has_exactly_the_role_it_is_asked_for(role):
    user = User(role=role)
    assert (user.is_admin, user.is_supervisor, user.is_manager) == (
        role is Role.ADMIN,
        role is Role.SUPERVISOR,
        role is Role.MANAGER,
    )
