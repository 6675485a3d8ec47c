"""scripts/bench-assessment: every manager's quarter scorecards at province scale, timed.

Builds (or reuses) the province: 1,000 managers in 100 teams, 100,000 customers, their
opportunities, a year of visits and weekly plans (the province dataset's generators),
200,000 service tickets (the health bench's), and 24 months of business figures for
every customer (2.4 million rows); targets for every manager and temporary tasks scored.
Then times, on the dataset as it is:

1. the last finished quarter's cards for all managers computed (set-based: one statement
   per source, whatever the number of managers) — the issue's target: under 30 s on SQLite;
2. the same computed and stored as drafts (what the scheduler's job and
   `flask crm assessment` do), and the last month's;
3. the pages a supervisor and a manager open: the team sheet (stored drafts, then
   published), a manager's scorecard and one line's records, the department's view.

Not a timed test. Writes bench-results/<timestamp>-assessment.json.

    scripts/bench-assessment [--size province|small|tiny] [--database-url URL] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from crm.extensions import db  # noqa: E402
from scripts.benchmark import app as bench_app  # noqa: E402
from scripts.benchmark import generate as base  # noqa: E402
from scripts.benchmark import health as health_bench  # noqa: E402
from scripts.benchmark.main import machine  # noqa: E402
from scripts.benchmark.timings import measure, signed_in  # noqa: E402

TARGET_SECONDS = 30
MONTHS = 24


def build(size: base.Size, *, seed: int = 15, log=print) -> dict:
    """The province with a year of work and two years of business figures."""
    steps = [
        ("users", base._users), ("customers", base._customers),
        ("opportunities", base._opportunities), ("visits", base._visits),
        ("plans", base._plans), ("tickets", health_bench._tickets), ("figures", _figures),
    ]  # fmt: skip
    return base.fill(size, steps, seed=seed, log=log)


def _figures(c: dict) -> None:
    """24 finished months per customer: a drift, noise, one in ten sliding for half a year."""
    rng, w, now, size = c["rng"], c["w"], c["now"], c["size"]
    months = base.months_ending(base.latest_full_month(c["today"]), MONTHS)
    imported = w.ts(now - timedelta(days=3))
    columns = ("id", "customer_id", "month", "revenue", "arpu", "active_lines",
               "key_solution_revenue", "arrears", "arrears_recovered", "lines_lost",
               "source", "imported_at")  # fmt: skip

    def rows():
        id_ = 0
        for customer in range(1, size.customers + 1):
            revenue = rng.randint(5, 500) * 1000.0
            lines = rng.randint(10, 3000)
            drift = rng.uniform(-0.004, 0.01)
            sliding = customer % 10 == 0
            solution = rng.uniform(0, 0.4)
            for index, month in enumerate(months):
                id_ += 1
                revenue *= 1 + drift + rng.uniform(-0.03, 0.03)
                if sliding and index >= MONTHS - 6:
                    revenue *= 0.94
                lost = rng.randint(0, max(1, lines // 100))
                lines = max(1, lines - lost + rng.randint(0, max(1, lines // 90)))
                arrears = revenue * rng.uniform(0, 0.06)
                yield (id_, customer, month.isoformat(), f"{revenue:.2f}",
                       f"{revenue / lines:.2f}", lines, f"{revenue * solution:.2f}",
                       f"{arrears:.2f}", f"{arrears * rng.uniform(0.4, 1):.2f}", lost,
                       "bench-24.csv", imported)  # fmt: skip

    w.insert("monthly_figures", columns, rows())


def targets_and_tasks(quarter) -> dict:
    """Business count targets for every manager, and a scored temporary task each (the
    supervisor's work of a quarter), written set-based."""
    from sqlalchemy import insert

    from crm.services.assessment import store
    from models import AssessmentTarget, TemporaryTask
    from models.base import utcnow

    started = time.perf_counter()
    now = utcnow()
    managers = store.assessed_managers()
    db.session.query(AssessmentTarget).filter_by(period=quarter.key).delete()
    db.session.query(TemporaryTask).filter_by(period=quarter.key).delete()
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    rows = []
    for manager in managers:
        for part, target, share in (("lines", 100_000, 70), ("deals", 5, 30)):
            rows.append({"user_id": manager.id, "period": quarter.key, "indicator": "03",
                         "part": part, "target": target, "share": share, **stamp})  # fmt: skip
    db.session.execute(insert(AssessmentTarget), rows)
    db.session.execute(
        insert(TemporaryTask),
        [
            {
                "user_id": m.id,
                "period": quarter.key,
                "title": "季度专项任务",
                "weight": 1,
                "score": 60 + m.id % 40,
                "comment": "完成",
                "scored_at": now,
                **stamp,
            }  # fmt: skip
            for m in managers
        ],
    )
    db.session.commit()
    return {"managers": len(managers), "seconds": round(time.perf_counter() - started, 2)}


def time_computation(period) -> dict:
    """The period's cards for all managers: computed, then computed and stored as drafts."""
    from crm.services.assessment import scoring, store

    db.session.remove()
    managers = store.assessed_managers()
    # Wall time, and this process's CPU time: SQLite runs in the process, so on a machine
    # shared with other work the CPU time is what the computation itself costs.
    started, cpu = time.perf_counter(), time.process_time()
    cards = scoring.compute(period, managers, everyone=True)
    computed, computed_cpu = time.perf_counter() - started, time.process_time() - cpu
    db.session.rollback()
    started, cpu = time.perf_counter(), time.process_time()
    stored = store.refresh(period)
    db.session.commit()
    refreshed, refreshed_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "period": period.key,
        "managers": len(managers),
        "cards": len(cards),
        "compute_seconds": round(computed, 2),
        "compute_cpu_seconds": round(computed_cpu, 2),
        "compute_and_store_seconds": round(refreshed, 2),
        "compute_and_store_cpu_seconds": round(refreshed_cpu, 2),
        "load_average": os.getloadavg()[0],
        "stored": stored,
        "verdict": "PASS" if computed < TARGET_SECONDS else "MISS",
    }


def time_sources(period) -> dict:
    """Each source statement of the computation alone, for the record."""
    from crm.services.assessment import inputs, store

    managers = store.assessed_managers()
    found = {m.id: inputs.Inputs() for m in managers}
    days = period.days()
    lines = inputs.reports.lines_for(managers)
    out = {}
    for name, call in (
        ("figures", lambda: inputs._figures(period, None, found)),
        ("complaints", lambda: inputs._complaints(days, None, found)),
        ("visits", lambda: inputs._visits(days, None, found)),
        ("opportunities", lambda: inputs._opportunities(days, None, found)),
        ("coverage", lambda: inputs.reports.tier_coverage(lines, days)),
        ("plans", lambda: inputs._plans(days, managers, found, datetime.now(UTC))),
    ):
        started = time.perf_counter()
        call()
        out[name] = round(time.perf_counter() - started, 2)
    db.session.rollback()
    return out


def time_pages(app, counter, quarter, month, *, runs: int) -> dict:
    """The team sheet (drafts, then published), a scorecard, its records, the department."""
    from crm.services.assessment import store
    from models import Role, Team, User

    with app.app_context():
        supervisor = db.session.scalar(
            select(User).where(User.role == Role.SUPERVISOR).order_by(User.id).limit(1)
        )
        team = db.session.scalar(select(Team).where(Team.supervisor_id == supervisor.id))
        manager = db.session.scalar(
            select(User).where(User.team_id == team.id, User.role == Role.MANAGER).limit(1)
        )
        admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
        clients = {
            "supervisor": signed_in(app, supervisor),
            "manager": signed_in(app, manager),
            "admin": signed_in(app, admin),
        }
        ids = {"team": team.id, "manager": manager.id, "supervisor": supervisor.id}
        db.session.remove()
    team_url = f"/assessment/{quarter.key}/team/{ids['team']}"
    card_url = f"/assessment/{quarter.key}/managers/{ids['manager']}"
    pages = {
        "team sheet, drafts (supervisor)": ("supervisor", team_url, 60),
        "scorecard, draft (supervisor)": ("supervisor", card_url, 60),
        "records of 01 (supervisor)": ("supervisor", f"{card_url}/01", 60),
        "department, quarter (admin)": ("admin", f"/assessment/{quarter.key}", 300),
        "department, month (admin)": ("admin", f"/assessment/{month.key}", 300),
    }
    results = {}
    for name, (role, url, target) in pages.items():
        results[name] = {
            **measure(clients[role], url, counter, warmup=2, runs=runs),
            "target": target,
        }
    with app.app_context():
        team_row = db.session.get(Team, ids["team"])
        actor = db.session.get(User, ids["supervisor"])
        again = "bench: published again" if store.publications(quarter, team_row.id) else None
        store.publish(quarter, team_row, reason=again, actor=actor)
        db.session.commit()
        db.session.remove()
    for name, (role, url, target) in {
        "team sheet, published (supervisor)": ("supervisor", team_url, 60),
        "scorecard, published (manager)": ("manager", card_url, 25),
        "records of C1 (manager)": ("manager", f"{card_url}/C1", 25),
    }.items():
        results[name] = {
            **measure(clients[role], url, counter, warmup=2, runs=runs),
            "target": target,
        }
    for result in results.values():
        if not result.get("error"):
            result["verdict"] = "PASS" if result["p95_ms"] <= result["target"] else "MISS"
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(base.SIZES), default="province")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep a dataset built before")
    parser.add_argument("--runs", type=int, default=15, help="requests per page timed")
    options = parser.parse_args(argv)
    url = options.database_url or bench_app.default_url(f"assessment-{options.size}")
    if url.startswith("sqlite:///") and not options.reuse:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app, counter = bench_app.make_app(url)
    report: dict = {"machine": machine(), "size": options.size, "database": url.split(":")[0]}
    with app.app_context():
        from crm.services.assessment import periods
        from models import MonthlyFigure, PeriodKind

        if not (options.reuse and bench_app.has_data()):
            print(f"==> building the {options.size} dataset into {url}")
            bench_app.fresh_schema()
            db.session.remove()
            report["build"] = build(base.SIZES[options.size])
        figures = db.session.scalar(select(func.count()).select_from(MonthlyFigure))
        quarter = periods.current(PeriodKind.QUARTER).previous()
        month = periods.current(PeriodKind.MONTH).previous()
        print(f"==> {figures:,} figure rows; targets and tasks of {quarter.key}")
        report["figures"] = figures
        report["targets_and_tasks"] = targets_and_tasks(quarter)
        print("==> each source alone, for the quarter")
        report["sources"] = time_sources(quarter)
        print("    " + ", ".join(f"{k} {v} s" for k, v in report["sources"].items()))
        for period in (quarter, month):
            result = time_computation(period)
            report[f"computation {period.kind.value}"] = result
            print(
                f"==> {period.key}: {result['cards']} cards computed in "
                f"{result['compute_seconds']} s ({result['compute_cpu_seconds']} s CPU), "
                f"computed and stored in {result['compute_and_store_seconds']} s "
                f"({result['compute_and_store_cpu_seconds']} s CPU; load average "
                f"{result['load_average']:.1f}) (target {TARGET_SECONDS} s: {result['verdict']})"
            )
        db.session.remove()
    report["pages"] = time_pages(app, counter, quarter, month, runs=options.runs)
    print(f"{'page':<38}{'median':>9}{'p95':>9}{'SQL':>5}{'target':>8}  verdict")
    for name, r in report["pages"].items():
        print(
            f"{name:<38}{r.get('median_ms', '-'):>9}{r.get('p95_ms', '-'):>9}"
            f"{r.get('statements', '-'):>5}{r['target']:>8}  {r.get('verdict', r.get('status'))}"
        )
    out = bench_app.RESULTS / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-assessment.json"
    out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print(f"==> {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def prepare_pages() -> float:
    """For scripts/bench: last month's drafts of every manager (the scheduler's hourly job),
    and the month published for the first manager's team, so its manager has a scorecard."""
    from crm.services.assessment import periods, store
    from models import PeriodKind, Role, Team, User

    started = time.perf_counter()
    month = periods.current(PeriodKind.MONTH).previous()
    store.refresh(month)
    manager = db.session.scalar(
        select(User).where(User.role == Role.MANAGER).order_by(User.id).limit(1)
    )
    team = db.session.get(Team, manager.team_id) if manager and manager.team_id else None
    if team is not None and team.supervisor and not store.publications(month, team.id):
        store.publish(month, team, reason=None, actor=team.supervisor)
    db.session.commit()
    seconds = round(time.perf_counter() - started, 2)
    print(f"    assessment drafts of {month.key} (the scheduler's job) in {seconds} s")
    db.session.remove()
    return seconds
