"""Multi-worker soak and load test: gunicorn (4 workers) and two schedulers on PostgreSQL.

Managers open their pages, log visits, create and move opportunities and complete
follow-ups, as fast as the server answers, for a bounded time, while a supervisor hands
customers over and a supervisor and an admin browse; afterwards: no 5xx, every write the
clients saw succeed is in the database (and nothing else), no reminder email arrived
twice, the throughput and each page's latency percentiles. Run: scripts/soak [--seconds
30] [--workers 4] [--database-url URL]; `--workers 1` gives the single-worker figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.benchmark.forms import page_forms, submittable  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_soak"
REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-pass"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One signed-in browser: cookies, CSRF tokens from the forms, timings of every request."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base = base
        self.stats = stats
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect
        )

    def request(self, path: str, data: dict | None = None, accept: str | None = None):
        body = None if data is None else urllib.parse.urlencode(submittable(data)).encode()
        req = urllib.request.Request(self.base + path, data=body)
        if accept:
            req.add_header("Accept", accept)
        started = time.perf_counter()
        try:
            response = self.opener.open(req, timeout=60)
            status, text, location = response.status, response.read().decode(), None
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
            location = error.headers.get("Location")
        self.stats.record(data is not None, status, time.perf_counter() - started, path)
        return status, text, location

    def form(self, path: str, action=None, field: str | None = None) -> tuple[str, dict] | None:
        """The first form on `path` whose action matches (and has `field`), with its values."""
        status, text, _ = self.request(path)
        if status != 200:
            return None
        for form_action, values in page_forms(text):
            if action is not None and not re.search(action, form_action or path):
                continue
            if field is None or field in values:
                return (form_action or path), values
        return None

    def submit(self, path: str, overrides: dict, action=None, accept=None, field="csrf_token"):
        found = self.form(path, action, field)
        if found is None:
            return None, None, None
        target, values = found
        values.update(overrides)
        return self.request(target, values, accept)

    def sign_in(self, username: str) -> bool:
        status, _, _ = self.submit(
            "/login", {"username": username, "password": PASSWORD}, field="password"
        )
        return status == 302


def page_key(post: bool, path: str) -> str:
    """A request's page: the method and the path with its ids as <id>, without the query."""
    path = re.sub(r"/\d+", "/<id>", path.split("?", 1)[0])
    return f"{'POST' if post else 'GET'} {path}"


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {"GET": [], "POST": []}
        self.pages: dict[str, list[float]] = {}
        self.statuses: Counter = Counter()
        self.server_errors: list[str] = []
        self.writes: Counter = Counter()  # what the clients saw succeed
        self.refused: Counter = Counter()  # 404/409 after a handover or a concurrent edit
        self.ids: dict[str, set[int]] = {"visit": set(), "opportunity": set(), "done": set()}

    def record(self, post: bool, status: int, seconds: float, path: str) -> None:
        with self.lock:
            self.latencies["POST" if post else "GET"].append(seconds * 1000)
            self.pages.setdefault(page_key(post, path), []).append(seconds * 1000)
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {path}")

    def wrote(self, kind: str, id_: int | None = None) -> None:
        with self.lock:
            self.writes[kind] += 1
            if id_ is not None and kind in self.ids:
                self.ids[kind].add(id_)


def _id_from(location: str | None, pattern: str) -> int | None:
    match = re.search(pattern, location or "")
    return int(match.group(1)) if match else None


# A manager's mix: half of what they do is opening pages, the other half writes.
MANAGER_ACTIONS = ("browse",) * 6 + ("visit", "visit", "opportunity", "move", "move", "done")
MANAGER_PAGES = (
    "/",
    "/customers/",
    "/customers/{customer}",
    "/opportunities/board",
    "/reminders/",
    "/visits/",
    "/plans/",
)
# What a supervisor and an admin open while the managers work.
VIEWER_PAGES = {
    "supervisor1": ("/", "/opportunities/board", "/customers/", "/plans/reviews", "/visits/"),
    "admin": ("/", "/customers/", "/opportunities/", "/customers/at-risk", "/reports/"),
}


def viewer_loop(base: str, username: str, stats: Stats, stop_at: float) -> None:
    """Opens the viewer's pages in turn, as fast as the server answers."""
    client = Client(base, stats)
    if not client.sign_in(username):
        stats.server_errors.append(f"sign-in of {username} failed")
        return
    pages = VIEWER_PAGES[username]
    turn = 0
    while time.monotonic() < stop_at:
        client.request(pages[turn % len(pages)])
        turn += 1


def manager_loop(base: str, username: str, customers: list[int], stats: Stats, stop_at: float):
    client = Client(base, stats)
    if not client.sign_in(username):
        stats.server_errors.append(f"sign-in of {username} failed")
        return
    rng = random.Random(username)
    mine: list[int] = []
    while time.monotonic() < stop_at:
        action = rng.choice(MANAGER_ACTIONS)
        customer = rng.choice(customers)
        if action == "browse":
            client.request(rng.choice(MANAGER_PAGES).format(customer=customer))
        elif action == "visit":
            status, _, location = client.submit(
                f"/visits/new?customer_id={customer}",
                {"purpose": f"soak {username}"},
                field="purpose",
            )
            if status == 302:
                stats.wrote("visit", _id_from(location, r"/visits/(\d+)"))
            elif status in (404, None):
                stats.refused["visit"] += 1
        elif action == "opportunity":
            title = f"soak {username} {rng.randrange(10**9)}"
            status, _, location = client.submit(
                f"/opportunities/new?customer_id={customer}",
                {"title": title, "amount": "1000"},
                field="title",
            )
            if status == 302:
                opportunity = _id_from(location, r"/opportunities/(\d+)")
                stats.wrote("opportunity", opportunity)
                mine.append(opportunity)
            elif status in (404, None):
                stats.refused["opportunity"] += 1
        elif action == "move" and mine:
            opportunity = rng.choice(mine)
            found = client.form(f"/opportunities/{opportunity}", r"/stage$")
            if found is None:
                stats.refused["move"] += 1
                continue
            target, values = found
            choices = values.pop("_choices", {}).get("stage_id") or []
            options = [c for c in choices if c != values.get("stage_id")]
            if not options:
                continue
            values["stage_id"] = rng.choice(options)
            status, text, _ = client.request(target, values, accept="application/json")
            if status == 200 and json.loads(text).get("ok"):
                stats.wrote("move")
            else:
                stats.refused["move"] += 1
        elif action == "done":
            found = client.form("/reminders/", r"/reminders/\d+/done$")
            if found is None:
                continue
            target, values = found
            status, _, _ = client.request(target, values)
            if status == 302:
                stats.wrote("done", _id_from(target, r"/reminders/(\d+)/done"))
            else:
                stats.refused["done"] += 1


def supervisor_loop(
    base: str, username: str, customers: list[int], stats: Stats, stop_at: float
) -> None:
    """Hands one customer at a time over through the preview-then-commit pages."""
    client = Client(base, stats)
    if not client.sign_in(username):
        stats.server_errors.append(f"sign-in of {username} failed")
        return
    while time.monotonic() < stop_at:
        found = client.form(
            f"/handovers/new?ids={random.choice(customers)}", r"/handovers/new", field="to_owner"
        )
        if found is None:
            stats.refused["handover"] += 1
            return  # no handover pages (yet): the managers' part still runs
        target, values = found
        owners = [c for c in values.pop("_choices", {}).get("to_owner", []) if c not in ("", "0")]
        if not owners:
            return
        values.update({"to_owner": random.choice(owners), "note": "soak", "preview": "1"})
        status, text, _ = client.request(target, values)
        forms = [
            v
            for a, v in page_forms(text)
            if a and "/handovers/new" in a and "commit" in v["_buttons"]
        ]
        if status != 200 or not forms:
            stats.refused["handover"] += 1
            time.sleep(1)
            continue
        values = forms[0]
        values.pop("preview", None)
        values.update({"commit": "1", "reason": "soak"})
        status, _, _ = client.request(target, values)
        if status == 302:
            stats.wrote("handover")
        else:
            stats.refused["handover"] += 1
        time.sleep(2)


# Processes and the database ------------------------------------------------------


def prepare_database(url: str) -> None:
    """A fresh schema with the small dataset (it refuses nothing: the soak owns this database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from crm.extensions import db
    from scripts.benchmark.app import fresh_schema, make_app
    from scripts.benchmark.generate import SIZES, generate

    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": base.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{base.database}"'))
    admin.dispose()
    app, _ = make_app(url)
    with app.app_context():
        fresh_schema()
        db.session.remove()
        generate(SIZES["small"], log=lambda *_: None)
        db.engine.dispose()


def production_env(url: str, port: int, smtp_port: int) -> dict:
    return {
        **os.environ,
        "CRM_ENV": "production",
        "CRM_SECRET_KEY": "soak-" + "0" * 59,
        "CRM_DATABASE_URL": url,
        "CRM_SECURE_COOKIES": "0",  # plain http on loopback
        "CRM_RATELIMIT_STORAGE_URI": REDIS_URL,
        "CRM_SMTP_HOST": "127.0.0.1",
        "CRM_SMTP_PORT": str(smtp_port),
        "CRM_BASE_URL": f"http://127.0.0.1:{port}",
        "CRM_LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESSLOG": "",
        "GUNICORN_LOGLEVEL": "warning",
        "FLASK_APP": "wsgi",
    }


def start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=str(ROOT), env=env, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not answer within 60 s")


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def audit(url: str, stats: Stats, started: datetime, mail: dict) -> dict:
    """Compare what the clients saw succeed with what the database holds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql: str, **params):
            return conn.scalar(text(sql), params)

        db_visits = one("SELECT count(*) FROM visits WHERE purpose LIKE 'soak %'")
        db_opps = one("SELECT count(*) FROM opportunities WHERE title LIKE 'soak %'")
        db_moves = one(
            "SELECT count(*) FROM opportunity_history h JOIN opportunities o "
            "ON o.id = h.opportunity_id WHERE o.title LIKE 'soak %' AND h.changes::text <> '{}'"
        )
        db_done = one(
            "SELECT count(*) FROM reminders WHERE status = 'done' AND completed_at >= :t",
            t=started,
        )
        db_handovers = one("SELECT count(*) FROM handovers") if stats.writes["handover"] else 0
        db_sent = one("SELECT count(*) FROM outbox WHERE status = 'sent'")
    engine.dispose()
    checks = {
        "visits": (stats.writes["visit"], db_visits),
        "opportunities": (stats.writes["opportunity"], db_opps),
        "moves": (stats.writes["move"], db_moves),
        "follow-ups done": (stats.writes["done"], db_done),
        "handovers": (stats.writes["handover"], db_handovers),
        "emails (received / sent in the outbox)": (mail["messages"], db_sent),
    }
    return {name: {"clients": c, "database": d, "ok": c == d} for name, (c, d) in checks.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("CRM_SOAK_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--managers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--schedulers", type=int, default=2, help="more than one: no duplicates")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the soak runs on PostgreSQL (--database-url postgresql+psycopg://...)")

    import redis

    from scripts.benchmark.smtp_sink import Sink
    from scripts.benchmark.throughput import free_port

    print(f"==> preparing {args.database_url.split('@')[-1]} (small dataset)")
    prepare_database(args.database_url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    sink = Sink()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(args.database_url, port, sink.port)
    env["GUNICORN_WORKERS"] = str(args.workers)
    processes = [start([sys.executable, "-m", "gunicorn", "-c", "scripts/gunicorn.conf.py",
                        "wsgi:app"], env)]  # fmt: skip
    stats = Stats()
    started = datetime.now(UTC)
    try:
        wait_until_up(base)
        for _ in range(args.schedulers):
            processes.append(start([sys.executable, "-m", "flask", "crm", "scheduler"], env))
        customers_by_manager = customer_map(args.database_url, args.managers)
        everyone = [c for ids in customers_by_manager.values() for c in ids]
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=manager_loop, args=(base, name, ids, stats, stop_at))
            for name, ids in customers_by_manager.items()
        ]
        threads.append(
            threading.Thread(
                target=supervisor_loop,
                args=(base, "supervisor1", everyone, stats, stop_at),
            )
        )
        threads += [
            threading.Thread(target=viewer_loop, args=(base, name, stats, stop_at))
            for name in VIEWER_PAGES
        ]
        print(
            f"==> {len(customers_by_manager)} managers, a supervisor handing customers over, "
            f"a supervisor and an admin browsing, for {args.seconds:.0f} s: gunicorn with "
            f"{args.workers} workers, {args.schedulers} schedulers"
        )
        load_started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_seconds = time.monotonic() - load_started
        # Two ticks at once, beside the schedulers: the handover notices written meanwhile
        # go out now, and three senders race for the same outbox rows.
        racers = [start([sys.executable, "-m", "flask", "crm", "tick"], env) for _ in range(2)]
        for racer in racers:
            racer.wait(timeout=120)
        time.sleep(2)  # let a scheduler's tick in flight finish its sends
    finally:
        for process in reversed(processes):
            stop(process)
        mail = sink.stop()
    accounts = audit(args.database_url, stats, started, mail)
    result = {
        "seconds": args.seconds,
        "statuses": dict(stats.statuses),
        "server_errors": stats.server_errors[:20],
        "writes": dict(stats.writes),
        "refused": dict(stats.refused),
        "accounts": accounts,
        "emails": mail,
        "latency": {k: percentiles(v) for k, v in stats.latencies.items()},
        "workers": args.workers,
        "requests_per_s": round(sum(stats.statuses.values()) / load_seconds, 1),
        # Each page's latency under the whole load, the most requested first.
        "pages": {
            key: percentiles(values)
            for key, values in sorted(stats.pages.items(), key=lambda item: -len(item[1]))
        },
    }
    ok = (
        not stats.server_errors
        and all(a["ok"] for a in accounts.values())
        and not mail["duplicates"]
        and sum(stats.writes.values()) > 0
    )
    print(json.dumps(result, indent=2, default=str))
    print("==> soak", "PASSED" if ok else "FAILED")
    out = ROOT / "bench-results" / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**result, "ok": ok}, indent=2, default=str))
    return 0 if ok else 1


def customer_map(url: str, managers: int) -> dict[str, list[int]]:
    """The first managers of team 1 and their customers (supervisor1 leads team 1)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.username, c.id FROM users u JOIN customers c ON c.owner_id = u.id "
                "WHERE u.role = 'manager' AND u.id IN (SELECT id FROM users WHERE role = "
                "'manager' ORDER BY id LIMIT :n)"
            ),
            {"n": managers},
        ).all()
    engine.dispose()
    found: dict[str, list[int]] = {}
    for username, customer in rows:
        found.setdefault(username, []).append(customer)
    return found


if __name__ == "__main__":
    sys.exit(main())
