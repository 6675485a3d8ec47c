"""HTTP throughput: gunicorn (2 workers) on loopback driven by wrk, beside the floor route."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
USER_AGENT = "crm-bench"

# name -> (role, path); the floor needs no session.
TARGETS = {
    "floor": (None, "/_bench/floor?owner={manager_id}"),
    "customer list (manager)": ("manager", "/customers/"),
    "customer list (supervisor)": ("supervisor", "/customers/"),
    "board (manager)": ("manager", "/opportunities/board"),
    "board (supervisor)": ("supervisor", "/opportunities/board"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing (loopback load only)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("==> installing wrk (apt-get install -y wrk)")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk is not available")


def session_cookies(url: str) -> tuple[dict[str, str], dict]:
    """Signed session cookies for a manager and a supervisor, as gunicorn will see them."""
    from flask_login.utils import _create_identifier

    from crm.auth import SIGN_IN_KEY
    from crm.extensions import db
    from crm.services.people.sessions import start_session
    from scripts.benchmark.app import make_app
    from scripts.benchmark.timings import context

    app, _ = make_app(url)
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        ctx = context()
        with app.test_request_context(
            environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
        ):
            identifier = _create_identifier()
        cookies = {
            role: serializer.dumps(
                {
                    "_user_id": user.get_id(),
                    "_fresh": True,
                    "_id": identifier,
                    SIGN_IN_KEY: start_session(user),
                }
            )
            for role, user in ctx["users"].items()
        }
        db.session.commit()
        db.session.remove()
    return cookies, ctx


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": url,
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESSLOG": "",
        "GUNICORN_LOGLEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "scripts/gunicorn.conf.py",
         "scripts.benchmark.wsgi_bench:app"],
        cwd=str(ROOT), env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    sys.exit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the master and its workers
        process.wait(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def probe(url: str, cookie: str | None) -> int:
    """The status of one GET, redirects not followed (a lost session would answer 302)."""
    headers = {"User-Agent": USER_AGENT, **({"Cookie": f"session={cookie}"} if cookie else {})}
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        return opener.open(urllib.request.Request(url, headers=headers), timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def drive(wrk: str, url: str, cookie: str | None, seconds: float, connections: int) -> dict:
    command = [wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
               "-s", str(HERE / "latency.lua")]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: session={cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def run_http(url: str, *, seconds: float = 10, workers: int = 2, connections: int = 4) -> dict:
    wrk = ensure_wrk()
    cookies, ctx = session_cookies(url)
    port = free_port()
    process = start_gunicorn(url, port, workers)
    results = {}
    try:
        for name, (role, path) in TARGETS.items():
            target = f"http://127.0.0.1:{port}{path.format(**ctx)}"
            cookie = cookies[role] if role else None
            status = probe(target, cookie)
            if status != 200:
                results[name] = {"status": status, "rps": 0, "error": True}
                continue
            # A warm-up second, then the measured run.
            drive(wrk, target, cookie, 1, connections)
            results[name] = drive(wrk, target, cookie, seconds, connections)
    finally:
        stop(process)
    floor = results["floor"]["rps"] or 1
    print(
        f"\nHTTP: gunicorn {workers} workers, wrk {connections} connections, {seconds:.0f} s each"
    )
    print(f"{'page':<30}{'req/s':>9}{'p50':>9}{'p95':>9}{'p99':>9}{'non-2xx':>9}{'floor/x':>9}")
    for name, r in results.items():
        if r.get("error"):
            print(f"{name:<30}  HTTP {r['status']} on the probe: not measured")
            continue
        r["floor_ratio"] = round(floor / r["rps"], 1) if r["rps"] else None
        print(
            f"{name:<30}{r['rps']:>9.1f}{r['p50_ms']:>7.1f}ms{r['p95_ms']:>7.1f}ms"
            f"{r['p99_ms']:>7.1f}ms{r['non2xx']:>9}{r['floor_ratio'] or '-':>9}"
        )
    return {"workers": workers, "connections": connections, "seconds": seconds, "pages": results}
