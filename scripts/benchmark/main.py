"""scripts/bench: generate the reference dataset, time pages and operations, write JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from crm.extensions import db  # noqa: E402
from scripts.benchmark import app as bench_app  # noqa: E402
from scripts.benchmark.generate import SIZES, generate  # noqa: E402
from scripts.benchmark.operations import OPERATIONS, run_operations  # noqa: E402
from scripts.benchmark.timings import PAGES, all_pages, run_pages  # noqa: E402

# The server settings PostgreSQL's timings depend on (README: Production deployment).
POSTGRESQL_SETTINGS = (
    "shared_buffers",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "work_mem",
    "server_version",
)


def database_settings(app) -> dict:
    """PostgreSQL's settings that the timings depend on (none for SQLite)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return {}
        with db.engine.connect() as conn:
            show = conn.exec_driver_sql
            return {name: show(f"SHOW {name}").scalar() for name in POSTGRESQL_SETTINGS}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = [round(x, 1) for x in os.getloadavg()]  # other work on the machine skews timings
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "load": load}


def prepare(url: str, size_name: str, *, reuse: bool, fresh: bool) -> tuple:
    """The app on a database holding the dataset: made now unless --reuse finds one."""
    if url.startswith("sqlite:///") and not reuse:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        fresh = True
    app, counter = bench_app.make_app(url)
    generation = None
    with app.app_context():
        if bench_app.has_data() and reuse:
            print(f"==> reusing the dataset in {url}")
            bench_app.add_missing_schema()
        else:
            if bench_app.has_data() and not fresh:
                sys.exit(f"{url} holds data: pass --fresh to replace it or --reuse to keep it")
            print(f"==> generating the {size_name} dataset into {url}")
            # has_data's read holds a lock on PostgreSQL that drop_all's connection would
            # wait for, forever: end its transaction first.
            db.session.remove()
            bench_app.fresh_schema()
            db.session.remove()
            generation = generate(SIZES[size_name])
            total = sum(generation["rows"].values())
            print(f"    {total:,} rows in {generation['seconds']} s")
            refresh_trends()
        db.session.remove()
        recount_stage_totals()
        snapshot_seconds = refresh_snapshot()
        refresh_health()
        from scripts.benchmark import assessment as assessment_bench

        assessment_bench.prepare_pages()  # drafts and a published month
        if db.engine.dialect.name == "postgresql":
            vacuum()  # after the jobs: the health pass leaves a dead row per customer
        analyse_unanalysed()
    return app, counter, generation, snapshot_seconds


# Tables without planner statistics, per database: those the scheduler's jobs fill after
# the generator's ANALYZE (customer health, the snapshots, the assessment drafts).
UNANALYSED = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "AND name NOT IN (SELECT tbl FROM sqlite_stat1)",
    "postgresql": "SELECT relname FROM pg_stat_user_tables "
    "WHERE last_analyze IS NULL AND last_autoanalyze IS NULL AND n_live_tup > 0",
}


def analyse_unanalysed() -> None:
    """Statistics for the tables the jobs filled, as a database in use has them for every
    table (PostgreSQL's autovacuum gathers them within a minute). With the customers
    analysed and their health not, SQLite read a manager's at-risk list through the band
    index, every at-risk customer of the province, instead of the manager's hundred."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        names = [
            name
            for name in conn.exec_driver_sql(UNANALYSED[conn.dialect.name]).scalars()
            if conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first()
        ]
        for name in names:
            conn.exec_driver_sql(f'ANALYZE "{name}"')
    if names:
        print(f"    analysed {len(names)} tables the jobs filled: {', '.join(sorted(names))}")


def recount_stage_totals() -> None:
    """The totals per stage and status the triggers keep, in a row each (the generator's
    rows added one each on SQLite, and a dataset from before the triggers has none)."""
    from crm.services.pipeline import totals

    totals.recount()
    db.session.commit()
    db.session.remove()


def vacuum() -> None:
    """What autovacuum does by the time a real database is read (it starts on a table
    within a minute of a fifth of its rows changing): after an earlier run's operations
    or the health pass, PostgreSQL's index-only scans would fetch every updated row's
    page, and the planner, probing an index for a range's actual end, would step over
    each dead entry of every statement it plans (a supervisor's home: 4-13 ms of planning
    per statement until the vacuum, under 1 ms after)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def refresh_trends() -> None:
    """What a figures import does after writing: each customer's revenue trend (the lists'
    trend column and the health pass read it)."""
    from sqlalchemy import select

    from crm.services.figures.trend import refresh_revenue_trends
    from models import Customer

    started = time.perf_counter()
    refresh_revenue_trends(select(Customer.id))
    db.session.commit()
    print(f"    revenue trends (as after an import) in {time.perf_counter() - started:.2f} s")
    db.session.remove()


def refresh_snapshot() -> float:
    """What the scheduler does every quarter hour: the admin home's all-teams funnel."""
    from crm.services.reporting import snapshots

    started = time.perf_counter()
    snapshots.refresh()
    db.session.commit()
    seconds = round(time.perf_counter() - started, 2)
    print(f"    stage snapshot (the scheduler's job) in {seconds} s")
    db.session.remove()
    return seconds


def refresh_health() -> float:
    """What the scheduler does nightly: score every customer (the at-risk list reads it);
    scripts/bench-health times it at scale with figures and tickets."""
    from crm.services.health import job

    started = time.perf_counter()
    job.run_pass(notify=False)
    db.session.commit()
    seconds = round(time.perf_counter() - started, 2)
    print(f"    customer health pass (the scheduler's job) in {seconds} s")
    db.session.remove()
    return seconds


def print_table(pages: dict, operations: dict) -> None:
    print()
    width = max([38, *(len(name) + 1 for name in pages)])
    head = f"{'page':<{width}}{'median':>9}{'p95':>9}{'CPU':>8}{'SQL':>5}{'×floor':>8}{'target':>8}"
    print(f"{head}  verdict")
    for name, r in pages.items():
        if r.get("error"):
            print(f"{name:<{width}}  HTTP {r['status']}  {r['url']}  MISS")
            continue
        target = r.get("target_p95_ms") or ""
        print(
            f"{name:<{width}}{r['median_ms']:>7.1f}ms{r['p95_ms']:>7.1f}ms{r['cpu_median_ms']:>6.1f}ms"
            f"{r['statements']:>5}"
            f"{r.get('floor_ratio', 1.0):>8}{target:>8}  {r.get('verdict', '')}"
        )
    print()
    for name, r in operations.items():
        if "todo" in r:
            print(f"{name:<22} TODO  {r['todo']}")
        elif "error" in r:
            print(f"{name:<22} ERROR {r['error']}  MISS")
        else:
            extra = f"{r['rows_per_s']:,} rows/s" if "rows_per_s" in r else ""
            print(
                f"{name:<22} {r['seconds']:>7.2f} s  {r['count']:>7,} done  {extra:<16}"
                f"target {r['target']}  {'PASS' if r['ok'] else 'MISS'}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", help="default: a SQLite file under bench-results/")
    parser.add_argument("--reuse", action="store_true", help="keep a dataset already there")
    parser.add_argument("--fresh", action="store_true", help="drop and regenerate a database")
    parser.add_argument("--runs", type=int, default=25, help="timed requests per page")
    parser.add_argument("--page", action="append", help="only these (names as in the table)")
    parser.add_argument(
        "--all-routes",
        action="store_true",
        help="every GET route for every role that may open it, not only the named pages",
    )
    parser.add_argument(
        "--growth",
        action="store_true",
        help="every route at --size tenth and province (datasets kept); the cost ratio",
    )
    parser.add_argument("--operation", action="append", choices=sorted(OPERATIONS))
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--no-operations", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--profile", help="pyinstrument tree of a page (by its name)")
    parser.add_argument("--http", action="store_true", help="also gunicorn throughput")
    parser.add_argument("--http-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.growth:
        from scripts.benchmark.growth import run_growth

        return run_growth(args, prepare=prepare, machine=machine)

    url = args.database_url or bench_app.default_url(args.size)
    app, counter, generation, snapshot_seconds = prepare(
        url, args.size, reuse=args.reuse, fresh=args.fresh
    )
    result = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": args.size,
        "database": app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1],
        "machine": machine(),
        "database_settings": database_settings(app),
        "generation": generation,
        "stage_snapshot_s": snapshot_seconds,
    }
    pages = all_pages(app) if args.all_routes else PAGES
    unknown = sorted(set(args.page or ()) - set(pages) - set(all_pages(app)))
    if unknown:
        sys.exit(f"no such page: {unknown} (see the table's names; --all-routes lists more)")
    if args.page:
        pages = {name: page for name, page in all_pages(app).items() if name in args.page}
    if args.profile:
        from scripts.benchmark.timings import profile_page

        print(profile_page(app, args.profile))
        return 0
    if not args.generate_only:
        if not args.no_pages:
            result.update(run_pages(app, counter, runs=args.runs, pages=pages))
        if not args.no_operations:
            result["operations"] = run_operations(app, SIZES[args.size], args.operation)
        print_table(result.get("pages", {}), result.get("operations", {}))
        if args.size != "province":
            print("(the targets are for --size province; at this size they only check the script)")
        if args.http:
            from scripts.benchmark.throughput import run_http

            result["http"] = run_http(url, seconds=args.http_seconds)
    bench_app.RESULTS.mkdir(exist_ok=True)
    out = bench_app.RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{args.size}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    where = result["machine"]
    print(
        f"\n==> {out.relative_to(ROOT)}  ({where['nproc']} × {where['cpu']}, load {where['load']})"
    )
    if result["database_settings"]:
        settings = ", ".join(f"{k} {v}" for k, v in result["database_settings"].items())
        print(f"    PostgreSQL: {settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
