"""The admin's settings page: every declared setting by area, changed one at a time, audited."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.services import settings
from crm.services.plans import periods
from models import AppSetting, AuditEntry


@pytest.fixture
def admin_client(client, org, login):
    org["admin"].locale = "en"
    db.session.commit()
    return login(client, org["admin"])


def _stored() -> dict[str, str]:
    db.session.expire_all()
    return {
        row.key: row.value for row in db.session.execute(select(AppSetting.key, AppSetting.value))
    }


def test_the_page_lists_every_declared_setting_by_area(admin_client):
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert settings.SETTINGS, "no setting declared: the page would be empty"
    for key, setting in settings.SETTINGS.items():
        assert f'data-setting="{key}"' in page
        assert str(setting.label) in page
    assert 'data-area="Work plans"' in page
    assert "18:00" in page  # the due time's default, shown as it is typed
    # The Settings menu leads here.
    assert 'href="/admin/settings"' in admin_client.get("/admin/").get_data(as_text=True)


def test_a_change_is_stored_audited_and_shown(admin_client, org):
    response = admin_client.post("/admin/settings/plans.due_time", data={"value": " 17:30 "})
    assert response.status_code == 302
    assert _stored() == {"plans.due_time": "17:30"}
    assert settings.value(periods.DUE_TIME.key) == time(17, 30)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_label == "plans.due_time"))
    assert entry.actor_id == org["admin"].id
    assert entry.changes == {"plans.due_time": ["18:00", "17:30"]}
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "is saved" in page and 'value="17:30"' in page
    # Back to the default: nothing stored, so a later release's default reaches it.
    admin_client.post("/admin/settings/plans.due_time", data={"value": "18:00"})
    assert _stored() == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("plans.due_time", "6pm", "Enter a time as HH:MM"),
        ("plans.due_time", "25:00", "Enter a time as HH:MM"),
        ("plans.week_due_weekday", "8", "Enter a number from 1 to 7"),
        ("plans.week_due_weekday", "", "Enter a whole number"),
    ],
)
def test_a_bad_value_is_refused_with_its_message_and_changes_nothing(
    admin_client, key, value, message
):
    response = admin_client.post(f"/admin/settings/{key}", data={"value": value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    row = page.split(f'data-setting="{key}"')[1].split("</tr>")[0]
    assert message in row and f'value="{value}"' in row  # the typed text, to correct it
    assert _stored() == {}
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "app_settings"))
        is None
    )


def test_an_unknown_setting_is_404(admin_client):
    assert admin_client.post("/admin/settings/no.such", data={"value": "1"}).status_code == 404


@pytest.mark.parametrize("who", ["sup1", "m1"])
def test_only_admins_open_or_change_settings(client, org, login, who):
    login(client, org[who])
    assert client.get("/admin/settings").status_code == 403
    response = client.post("/admin/settings/plans.due_time", data={"value": "09:00"})
    assert response.status_code == 403
    assert _stored() == {}
    assert 'href="/admin/settings"' not in client.get("/").get_data(as_text=True)


def test_the_web_app_loads_every_module_that_declares_a_setting():
    """A setting is declared when its module is imported: the page lists it only if the
    web app imports that module. Asked of a fresh process (this one imports everything)."""
    root = Path(__file__).resolve().parent.parent
    declared = set()
    for path in (root / "crm").rglob("*.py"):
        declared |= set(re.findall(r'Setting\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text("utf-8")))
    assert {"plans.due_time", "plans.week_due_weekday"} <= declared
    script = (
        "from crm import create_app; create_app('testing', SQLALCHEMY_DATABASE_URI='sqlite://');"
        "from crm.services.settings import SETTINGS; print(' '.join(sorted(SETTINGS)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert declared <= set(loaded), declared - set(loaded)
