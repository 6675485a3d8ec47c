"""Scheduler processes started together: exactly one of them runs the health pass."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.health import job
from models import Customer, HealthSnapshot, SchedulerState

ROOT = Path(__file__).resolve().parent.parent
NIGHT = datetime(2027, 3, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
CUSTOMERS = 300

SCHEDULER = """
import sys
from datetime import datetime
from crm import create_app
from crm.services.health import job

app = create_app("testing", SQLALCHEMY_DATABASE_URI=sys.argv[1])
with app.app_context():
    report = job.run_if_due(datetime.fromisoformat(sys.argv[2]))
    print("ran" if report else "skipped")
"""


@pytest.fixture
def file_database_url(database_url, tmp_path):
    """The processes need a database they can all open (not an in-memory one)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'health.sqlite3'}"
    return database_url


@pytest.fixture
def app_overrides(file_database_url):
    return {"SQLALCHEMY_DATABASE_URI": file_database_url}


def test_three_schedulers_asking_at_once_run_one_pass(app, org, file_database_url):
    db.session.add_all(Customer(name=f"客户{i}", owner=org["m1"]) for i in range(CUSTOMERS))
    db.session.commit()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCHEDULER, file_database_url, NIGHT.isoformat()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outcomes.append(out.strip().splitlines()[-1])
    assert sorted(outcomes) == ["ran", "skipped", "skipped"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HealthSnapshot)) == CUSTOMERS
    info = db.session.scalar(select(SchedulerState.info).where(SchedulerState.name == job.JOB_ID))
    assert info["assessed"] == CUSTOMERS and "leased_until" not in info
