"""First start: a favicon, plain log lines, and an install that prints one line, not pip's."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from crm.logging import LOG_FORMAT, _LineFormatter

ROOT = Path(__file__).resolve().parent.parent
ICO_HEADER = b"\x00\x00\x01\x00"  # reserved 0, type 1 (icon)


def test_favicon_ico_is_an_icon(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype.startswith("image/")
        assert response.data.startswith(ICO_HEADER)


def test_pages_link_their_icons(client):
    page = client.get("/login").get_data(as_text=True)

    assert '<link rel="icon" href="/favicon.ico"' in page
    svg_url = re.search(r'<link rel="icon" href="(/static/favicon\.[0-9a-f]{8}\.svg)"', page)
    with client.get(svg_url[1]) as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_log_lines_carry_no_colour_codes():
    # What Werkzeug's dev server logs for a 404 and at start-up.
    message = '127.0.0.1 - - "\x1b[33mGET /nope HTTP/1.1\x1b[0m" 404 -'
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, None, None)
    record.request_id = "-"
    bold_red = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "\x1b[31m\x1b[1mWARNING: dev\x1b[0m", None, None
    )
    bold_red.request_id = "-"
    formatter = _LineFormatter(LOG_FORMAT)

    assert formatter.format(record).endswith(
        ' INFO werkzeug - 127.0.0.1 - - "GET /nope HTTP/1.1" 404 -'
    )
    assert formatter.format(bold_red).endswith(" WARNING: dev")


# scripts/_setup.sh, run on a copy of the project whose .venv holds a stand-in python:
# it prints what pip prints (60 lines) and fails when asked to.
STAND_IN_PYTHON = """#!/usr/bin/env bash
for i in $(seq 1 60); do echo "Collecting package-$i (from keyaccount-crm)"; done
echo "SetuptoolsDeprecationWarning: project.license as a TOML table is deprecated" >&2
if [ -n "${FAIL_INSTALL:-}" ] && [ "$*" != "-m pip install --upgrade pip" ]; then
  echo "ERROR: No matching distribution found for no-such-package" >&2
  exit 1
fi
"""


def _project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "_setup.sh", project / "scripts" / "_setup.sh")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(STAND_IN_PYTHON)
    python.chmod(0o755)
    return project


def _setup(project: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", 'source scripts/_setup.sh && echo "ready"'],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_installing_prints_one_line_and_keeps_pips_output_in_a_log(tmp_path):
    project = _project_copy(tmp_path)

    done = _setup(project)

    assert done.returncode == 0, done.stderr
    printed = (done.stdout + done.stderr).splitlines()
    assert printed == [
        "==> installing the project (.[dev]) into .venv (log: .venv/install.log)",
        "ready",
    ]
    log = (project / ".venv" / "install.log").read_text()
    assert log.count("Collecting package-") == 120 and "SetuptoolsDeprecationWarning" in log
    again = _setup(project)  # installed: nothing to say
    assert (again.stdout + again.stderr).splitlines() == ["ready"]


def test_a_failed_install_shows_the_end_of_its_log_and_stops(tmp_path):
    project = _project_copy(tmp_path)

    failed = _setup(project, FAIL_INSTALL="1")

    assert failed.returncode == 1 and "ready" not in failed.stdout
    assert "No matching distribution found for no-such-package" in failed.stderr
    assert len(failed.stderr.splitlines()) <= 32, "the end of the log, not all of it"
    assert not (project / ".venv" / ".installed-dev").exists(), "tried again next time"
