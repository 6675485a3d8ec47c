"""scripts/serve starts the web server and the scheduler, and Ctrl-C stops both."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _venv_is_current() -> bool:
    """scripts/_setup.sh would pip-install otherwise: not something a test should do."""
    stamp = ROOT / ".venv" / ".installed-dev"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return stamp.exists() and stamp.read_text().strip() == want


def _group(pgid: int) -> list[str]:
    # -ww: never cut the command line to the terminal width; under a long checkout
    # path "flask crm scheduler" was truncated to "flask crm sch".
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "-g", str(pgid)], capture_output=True, text=True
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.mark.skipif(not _venv_is_current(), reason=".venv is not installed for pyproject.toml")
@pytest.mark.parametrize("stop", ["ctrl-c", "term"])
def test_serve_runs_the_scheduler_beside_the_web_server_and_stops_both(tmp_path, stop):
    port = free_port()
    env = {
        **os.environ,
        "CRM_PORT": str(port),
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}",
        "CRM_MAIL_DIR": str(tmp_path / "mail"),
    }
    env.pop("CRM_SMTP_HOST", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's job
            # A terminal delivers SIGINT; pytest's parent may have it ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        status = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    status = r.status
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()
        running = _group(serve.pid)
        assert any("flask crm scheduler" in line for line in running), running
        assert any("flask run" in line for line in running), running
        printed = log.read_text()
        assert f"{tmp_path / 'mail'}/*.eml" in printed
        assert f"http://127.0.0.1:{port}/admin/outbox/" in printed
        # One screen: a few steps above the banner (Alembic's and pip's lines go to logs).
        before_banner = printed.split("Key-account CRM is running at", 1)[0].splitlines()
        assert len(before_banner) <= 6, "\n".join(before_banner)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=5) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("image/")
        with pytest.raises(urllib.error.HTTPError) as not_found:  # Werkzeug paints a 404 yellow
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=5)
        not_found.value.close()

        if stop == "ctrl-c":
            os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
        else:
            serve.terminate()
        assert serve.wait(timeout=30) in (130, 143)
        deadline = time.monotonic() + 10
        while _group(serve.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(serve.pid) == [], "a process outlived scripts/serve"
        assert "stopped the web server and the scheduler" in log.read_text()
        assert "GET /no-such-page" in log.read_text()
        assert "\x1b[" not in log.read_text(), "colour codes in the log"
    finally:
        if serve.poll() is None or _group(serve.pid):
            os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(timeout=30)  # reaped here, not by a later test's garbage collector
