"""scripts/bench --growth: every route's cost at a tenth of the province and at the province.

Issue 18: a page whose cost grows more than 1.5x with 10x the data, for the same viewer
scope, is a miss whatever its absolute time. The tenth dataset is the province's shape at
a tenth (generate.SIZES: 10 teams of 10 managers, each manager with the same portfolio as
in the province), so a manager's and a supervisor's scope are the same at both sizes and
only an admin's grows tenfold. An admin's export of everything (timings.Page.whole_scope)
grows with the data by design: reported, not judged.

The verdict is on the CPU time's ratio: on SQLite the database runs in the process, so the
CPU time holds all of a request's work and hardly moves when others load the machine (the
wall time's ratio is printed beside it). With --database-url (PostgreSQL) the database's
work is elsewhere: the wall time's ratio is judged.

Each entry is timed on both datasets in turn (paired, in one process), so that what else
loads the machine weighs on both sides alike; two runs minutes apart disagreed by up to
1.7x on the layout-only reference page, which reads nothing that grows.

Both datasets are kept (bench-results/bench-tenth.sqlite3, bench-province.sqlite3): made
when missing, reused otherwise (never regenerated here; delete a file to regenerate it).
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime

from crm.extensions import db
from scripts.benchmark import app as bench_app
from scripts.benchmark.timings import WHOLE_SCOPE_RUNS, all_pages, full_context, signed_in

SIZES = ("tenth", "province")
LIMIT = 1.5


def run_growth(args, *, prepare, machine) -> int:
    judged_on = "wall" if args.database_url else "cpu"
    sides = {}
    for size in SIZES:
        url = bench_app.default_url(size)
        if args.database_url:  # one PostgreSQL database per size: <url>_tenth, <url>_province
            url = f"{args.database_url}_{size}"
        app, counter, _, _ = prepare(url, size, reuse=True, fresh=False)
        sides[size] = Side(app, counter)
    pages = all_pages(sides["tenth"].app)
    if args.page:
        pages = {name: page for name, page in pages.items() if name in args.page}
    print(f"==> timing {len(pages)} entries at {' and '.join(SIZES)}, {args.runs} runs each")
    started = time.perf_counter()
    measured = {size: {} for size in SIZES}
    for number, (name, page) in enumerate(pages.items(), 1):
        for size, timing in paired(sides, page, args.runs).items():
            measured[size][name] = timing
        if number % 50 == 0:
            print(f"    {number} entries in {time.perf_counter() - started:.0f} s")
    whole = {name for name, page in pages.items() if page.whole_scope}
    rows = compare(measured["tenth"], measured["province"], whole, judged_on)
    print_growth(rows, judged_on)
    result = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": args.runs,
        "judged_on": judged_on,
        "limit": LIMIT,
        "growth": rows,
        "pages": measured,
    }
    bench_app.RESULTS.mkdir(exist_ok=True)
    out = bench_app.RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-growth.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    misses = sum(row["verdict"] == "MISS" for row in rows.values())
    print(f"\n==> {out}  ({misses} of {len(rows)} grow more than {LIMIT}x)")
    for side in sides.values():
        with side.app.app_context():
            db.engine.dispose()
    return 0


class Side:
    """One dataset's app, its statement counter, the context and a client per role."""

    def __init__(self, app, counter) -> None:
        self.app, self.counter = app, counter
        self.ctx = full_context(app)
        with app.app_context():
            self.clients = {role: signed_in(app, u) for role, u in self.ctx["users"].items()}
            db.session.remove()
        self.clients["anonymous"] = app.test_client()

    def client(self, page):
        if page.api:
            from scripts.benchmark import api_pages  # after timings: they import each other

            return api_pages.token_client(self.app, self.ctx["users"][page.role])
        return self.clients[page.role]


def paired(sides: dict, page, runs: int) -> dict:
    """One entry timed on both datasets in turn (tenth, province, province, tenth, ...):
    whatever else loads the machine meanwhile weighs on both sides alike."""
    if page.whole_scope:
        warmup, runs = 1, min(runs, WHOLE_SCOPE_RUNS)
    else:
        warmup = 2
    clients = {size: side.client(page) for size, side in sides.items()}
    urls = {size: page.url(side.ctx) for size, side in sides.items()}
    samples = {size: [] for size in sides}
    for run in range(warmup + runs):
        order = list(sides) if run % 2 == 0 else list(sides)[::-1]
        for size in order:
            sample = _once(clients[size], urls[size], sides[size].counter)
            if sample["status"] != 200:
                return {
                    s: {"url": urls[s], "status": sample["status"], "error": True} for s in sides
                }
            if run >= warmup:
                samples[size].append(sample)
    return {
        size: {
            "url": urls[size],
            "status": 200,
            "median_ms": round(statistics.median(s["ms"] for s in got), 2),
            "cpu_median_ms": round(statistics.median(s["cpu_ms"] for s in got), 2),
            "statements": got[-1]["statements"],
        }
        for size, got in samples.items()
    }


def _once(client, url: str, counter) -> dict:
    before = counter.count
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(url, buffered=True)
    return {
        "ms": (time.perf_counter() - started) * 1000,
        "cpu_ms": (time.process_time() - cpu_started) * 1000,
        "statements": counter.count - before,
        "status": response.status_code,
    }


def compare(tenth: dict, province: dict, whole: set[str], judged_on: str) -> dict:
    """Per entry: both medians (wall and CPU), their ratios, statements, and the verdict."""
    rows = {}
    for name, small in tenth.items():
        big = province.get(name)
        if name == "floor" or big is None:
            continue
        if small.get("error") or big.get("error"):
            rows[name] = {
                "status": [small["status"], big["status"]],
                "verdict": "MISS",
                "why": "not 200",
            }
            continue
        ratio = round(big["median_ms"] / max(small["median_ms"], 0.01), 2)
        cpu_ratio = round(big["cpu_median_ms"] / max(small["cpu_median_ms"], 0.01), 2)
        judged = cpu_ratio if judged_on == "cpu" else ratio
        verdict = "whole scope" if name in whole else "MISS" if judged > LIMIT else "PASS"
        rows[name] = {
            "tenth_ms": small["median_ms"],
            "province_ms": big["median_ms"],
            "ratio": ratio,
            "tenth_cpu_ms": small["cpu_median_ms"],
            "province_cpu_ms": big["cpu_median_ms"],
            "cpu_ratio": cpu_ratio,
            "statements": [small["statements"], big["statements"]],
            "verdict": verdict,
        }
    return rows


def print_growth(rows: dict, judged_on: str) -> None:
    print()
    print(
        f"{'page':<50}{'tenth':>9}{'province':>10}{'ratio':>7}"
        f"{'CPU tenth':>11}{'CPU prov.':>11}{'ratio':>7}{'SQL':>8}  verdict ({judged_on})"
    )
    for name, r in rows.items():
        if "ratio" not in r:
            print(f"{name:<50}  HTTP {r['status']}  MISS")
            continue
        sql = "{}/{}".format(*r["statements"])
        print(
            f"{name:<50}{r['tenth_ms']:>7.1f}ms{r['province_ms']:>8.1f}ms{r['ratio']:>7.2f}"
            f"{r['tenth_cpu_ms']:>9.1f}ms{r['province_cpu_ms']:>9.1f}ms{r['cpu_ratio']:>7.2f}"
            f"{sql:>8}  {r['verdict']}"
        )
