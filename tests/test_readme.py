"""The README stays true to the code: commands, demo logins and every CRM_* setting."""

from pathlib import Path

from crm.config import ENV_SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    head = README[: README.index("## What is in it")]
    assert "scripts/serve" in head and "scripts/test" in head


def test_every_setting_is_documented():
    missing = [f"CRM_{name}" for name in ENV_SETTINGS if f"`CRM_{name}`" not in README]
    assert not missing, f"README configuration table lacks {missing}"


def test_demo_logins_are_documented():
    from crm.services.demo.organisation import DEMO_PASSWORD, DEMO_USERS

    assert DEMO_PASSWORD in README
    for username, *_ in DEMO_USERS:
        if username.startswith("manager"):
            continue  # documented as a range: manager1 … manager8
        assert f"`{username}`" in README
    assert "manager1` … `manager8" in README
