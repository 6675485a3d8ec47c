"""Production pieces: the health check, request ids in logs, gunicorn config, Redis limits."""

from __future__ import annotations

import logging
import runpy
from datetime import timedelta
from pathlib import Path

import pytest

from crm import create_app
from crm.extensions import db, limiter
from crm.services.followups.scheduler_state import record_heartbeat
from models.base import utcnow

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_a_scheduler_that_never_ran(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["scheduler"] == {"last_tick": None, "status": "never"}


@pytest.mark.parametrize(("minutes_ago", "status"), [(1, "ok"), (30, "late")])
def test_healthz_reports_the_schedulers_last_tick(app, client, minutes_ago, status):
    tick = utcnow() - timedelta(minutes=minutes_ago)
    record_heartbeat(tick, reminders=0, digests=0)
    db.session.commit()
    response = client.get("/healthz")
    # A late scheduler is an alert, not a reason to take the web workers out of service.
    assert response.status_code == 200
    assert response.json["scheduler"]["status"] == status
    assert response.json["scheduler"]["last_tick"].startswith(tick.isoformat()[:19])


def test_a_request_id_is_made_sent_back_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="crm.request"):
        response = client.get("/healthz")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    lines = [r for r in caplog.records if r.name == "crm.request"]
    assert [r.request_id for r in lines] == [request_id]
    assert lines[0].getMessage().startswith("GET /healthz 200 ")


def test_a_proxys_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    with caplog.at_level(logging.INFO, logger="crm.request"):
        kept = client.get("/healthz", headers={"X-Request-ID": "edge-42.a"})
        replaced = client.get("/healthz", headers={"X-Request-ID": "bad id; forged"})
    assert kept.headers["X-Request-ID"] == "edge-42.a"
    assert replaced.headers["X-Request-ID"] != "bad id; forged"
    assert [r.request_id for r in caplog.records if r.name == "crm.request"] == [
        "edge-42.a",
        replaced.headers["X-Request-ID"],
    ]


def test_log_lines_carry_the_request_id_in_the_documented_format():
    from crm.logging import LOG_FORMAT, _LineFormatter

    record = logging.LogRecord("crm.x", logging.ERROR, __file__, 1, "one\ntwo", None, None)
    record.request_id = "rid-1"
    line = _LineFormatter(LOG_FORMAT).format(record)
    assert line.endswith(" ERROR crm.x rid-1 one\\ntwo")
    assert "\n" not in line


def test_gunicorn_config_loads_with_sane_values(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    settings = runpy.run_path(str(ROOT / "scripts" / "gunicorn.conf.py"))
    assert settings["workers"] == 3
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["preload_app"] is False  # each worker opens its own connection pool
    assert settings["timeout"] >= 30


def test_production_keeps_rate_limits_in_redis():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app = create_app(
        "production",
        SECRET_KEY="x" * 64,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        RATELIMIT_STORAGE_URI=url,
    )
    try:
        storage = limiter.storage
        assert type(storage).__name__ == "RedisStorage"
        assert storage.check()
        with app.app_context():
            key = "crm-test-deployment"
            storage.clear(key)
            storage.incr(key, 60)
            storage.incr(key, 60)
            assert storage.get(key) == 2  # shared by every worker that points at this Redis
            storage.clear(key)
    finally:
        limiter.reset()
