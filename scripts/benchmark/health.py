"""scripts/bench-health: the customer-health pass at province scale, timed.

Builds (or reuses) 100,000 customers with their contacts, competitor profiles and
opportunities (the province dataset's generators), last visits spread over four months,
13 months of business figures for every customer (1.3 million rows; some customers
sliding, losing lines or running up arrears) and 200,000 service tickets; then times:

1. the first pass of an installation (every customer scored and written, every
   history row new);
2. the pass after an import: a new month of figures for every customer arrives, the
   job notices it (timed too) and the pass writes what changed and the emails of the
   customers that entered "at risk";
3. a nightly pass on the next day with nothing new (what most nights are).

Target: each pass under 60 s on SQLite. Writes bench-results/<timestamp>-health.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from crm.extensions import db  # noqa: E402
from scripts.benchmark import app as bench_app  # noqa: E402
from scripts.benchmark import generate as base  # noqa: E402
from scripts.benchmark.main import machine  # noqa: E402

TARGET_SECONDS = 60
MONTHS = 13
TICKETS = 200_000
CATEGORIES = ("network_quality", "billing", "installation", "service_attitude",
              "product_fault", "other")  # fmt: skip
SEVERITIES = ("critical", "high", "medium", "low")
SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}


def build(size: base.Size, *, seed: int = 14, log=print) -> dict:
    """The province's archive and pipeline (no visit log), figures, tickets, last visits."""
    steps = [
        ("users", base._users), ("customers", base._customers),
        ("contacts", base._contacts), ("competitors", base._competitors),
        ("opportunities", base._opportunities), ("last visits", _last_visits),
        ("figures", _figures), ("tickets", _tickets),
    ]  # fmt: skip
    return base.fill(size, steps, seed=seed, log=log)


def _last_visits(c: dict) -> None:
    """Each customer last visited within four months: the A+ and A ones often fall silent."""
    rng, w, now, size = c["rng"], c["w"], c["now"], c["size"]
    cursor = w.connection.cursor()
    rows = [
        (w.ts(now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))), i)
        for i in range(1, size.customers + 1)
    ]
    if w.dialect == "sqlite":
        cursor.executemany("UPDATE customers SET last_visit_at = ? WHERE id = ?", rows)
    else:
        cursor.execute("CREATE TEMP TABLE bench_last (at timestamptz, id int)")
        with cursor.copy("COPY bench_last (at, id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE customers SET last_visit_at = b.at FROM bench_last b WHERE customers.id = b.id"
        )
        cursor.execute("DROP TABLE bench_last")
    # A third of the lost opportunities went to a named competitor.
    cursor.execute(
        "UPDATE opportunities SET lost_to_id = 1 + id % 5, lost_reason = 'competitor' "
        "WHERE status = 'lost' AND id % 3 = 0"
    )
    cursor.close()


def _figures(c: dict) -> None:
    """13 months per customer, the last one left out here: the timed "import" brings it."""
    last = base.add_months(base.latest_full_month(c["today"]), -1)
    months = base.months_ending(last, MONTHS - 1)
    base.write_figures(c, months)
    c["figures_next_id"] = c["size"].customers * len(months) + 1


def _tickets(c: dict) -> None:
    """Complaints and requests over the last year; a few still open past their SLA."""
    rng, w, now, size = c["rng"], c["w"], c["now"], c["size"]
    owners = c["owners"]
    total = TICKETS * size.customers // base.PROVINCE.customers
    columns = ("id", "customer_id", "kind", "category", "severity", "title", "owner_id",
               "status", "opened_at", "due_at", "resolved_at", "closed_at", "reopened_count",
               "satisfaction", "version", "created_at", "updated_at")  # fmt: skip

    def rows():
        for id_ in range(1, total + 1):
            customer = rng.randint(1, size.customers)
            severity = rng.choice(SEVERITIES)
            opened = now - timedelta(minutes=int(365 * 24 * 60 * rng.random() ** 1.5))
            due = opened + timedelta(hours=SLA_HOURS[severity])
            roll = rng.random()
            status = "open" if roll < 0.05 else "in_progress" if roll < 0.08 else (
                "resolved" if roll < 0.2 else "closed")  # fmt: skip
            resolved = w.ts(opened + timedelta(hours=rng.randint(1, 200))) if roll >= 0.08 else None
            closed = w.ts(opened + timedelta(hours=rng.randint(200, 400))) if roll >= 0.2 else None
            satisfaction = rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if closed else None
            yield (id_, customer, "complaint" if rng.random() < 0.4 else "request",
                   rng.choice(CATEGORIES), severity, f"工单{id_}", owners[customer - 1], status,
                   w.ts(opened), w.ts(due), resolved, closed, 0, satisfaction, 1, w.ts(opened),
                   w.ts(opened))  # fmt: skip

    w.insert("service_tickets", columns, rows())


def import_month(now: datetime) -> int:
    """What a monthly import writes: the new month's figures for every customer."""
    from models import MonthlyFigure

    dialect = db.engine.dialect.name
    latest = db.session.scalar(select(func.max(MonthlyFigure.month)))
    month = base.add_months(latest, 1)
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    if dialect != "sqlite":
        stamp += "+00:00"
    c = MonthlyFigure.__table__.c
    # Last month's figures again, a little lower for one customer in eight.
    columns = "customer_id, month, revenue, arpu, active_lines, key_solution_revenue, arrears, "
    columns += "arrears_recovered, lines_lost, source, imported_at"
    factor = "CASE WHEN customer_id % 8 = 0 THEN 0.7 ELSE 1.0 END"
    db.session.execute(
        text(
            f"INSERT INTO monthly_figures ({columns}) "
            f"SELECT customer_id, :month, revenue * {factor}, arpu, active_lines, "
            "key_solution_revenue, arrears, arrears_recovered, lines_lost, 'bench-next.csv', "
            f":stamp FROM monthly_figures WHERE {c.month.name} = :latest"
        ),
        {"month": month.isoformat(), "stamp": stamp, "latest": latest.isoformat()},
    )
    db.session.commit()
    return db.session.scalar(
        select(func.count()).select_from(MonthlyFigure).where(MonthlyFigure.month == month)
    )


def reset() -> None:
    """Back to the dataset as generated: no health, no emails, the new month not imported."""
    for statement in (
        "DELETE FROM customer_health",
        "DELETE FROM customer_health_history",
        "DELETE FROM outbox",
        "DELETE FROM scheduler_state",
        "DELETE FROM monthly_figures WHERE source = 'bench-next.csv'",
    ):
        db.session.execute(text(statement))
    db.session.commit()
    print("==> reusing the dataset (health, emails and the timed import removed)")


def timed(label: str, action, *, judged: bool = True):
    """Wall time (what the target is about) and this process's CPU time: on a machine
    shared with other work, the difference is time spent waiting for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    seconds = round(time.perf_counter() - started, 2)
    cpu_seconds = round(time.process_time() - cpu, 2)
    verdict = ("PASS" if seconds < TARGET_SECONDS else "MISS") if judged else ""
    target = f"target < {TARGET_SECONDS} s  {verdict}" if judged else ""
    print(f"{label:<46} {seconds:>7.2f} s  (CPU {cpu_seconds:>6.2f} s)  {target}")
    return {"wall_s": seconds, "cpu_s": cpu_seconds}, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-health", description=__doc__)
    parser.add_argument("--size", choices=sorted(base.SIZES), default="province")
    parser.add_argument("--database-url", help="default: bench-results/bench-health-<size>")
    parser.add_argument("--reuse", action="store_true", help="keep a dataset already there")
    args = parser.parse_args(argv)
    size = base.SIZES[args.size]
    url = args.database_url or bench_app.default_url(f"health-{args.size}")
    if url.startswith("sqlite:///") and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    app, _ = bench_app.make_app(url)
    result: dict = {"size": args.size, "machine": machine(), "database": url.split("@")[-1]}
    with app.app_context():
        from crm.services.health import job
        from models import CustomerHealth, HealthBand, HealthSnapshot

        if args.reuse and bench_app.has_data():
            reset()
        else:
            print(f"==> generating the health dataset ({args.size}) into {url}")
            bench_app.fresh_schema()
            db.session.remove()
            result["generation"] = build(size)
            db.session.remove()
        counts = {
            name: db.session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
            for name in (
                "customers",
                "monthly_figures",
                "service_tickets",
                "contacts",
                "competitor_profiles",
                "opportunities",
            )  # fmt: skip
        }
        result["rows"] = counts
        print("    " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        now = datetime.now(UTC)

        def first():
            report = job.run_pass(now, notify=False)
            db.session.commit()
            return report

        timing, report = timed("1. first pass (every customer new)", first)
        result["first_pass"] = {**timing, "assessed": report.assessed, "changed": report.changed}
        db.session.remove()

        later = now + timedelta(hours=2)
        rows = import_month(later)
        print(f"    imported a new month: {rows:,} figure rows")
        timing, _ = timed(
            "   the job notices the import (max imported_at)", job.latest_import, judged=False
        )
        result["notice_import"] = timing

        def after_import():
            report = job.assessment.assess_all(later + timedelta(minutes=5))
            scored = time.perf_counter()
            emails = job.alerts.tell_entered(report.entered)
            db.session.commit()
            return report, emails, round(time.perf_counter() - scored, 2)

        timing, (report, emails, email_seconds) = timed(
            "2. pass after the import (with its emails)", after_import
        )
        print(f"   of which the emails of those entering at risk  {email_seconds:>7.2f} s")
        result["after_import_pass"] = {
            **timing,
            "emails_s": email_seconds,
            "changed": report.changed,
            "rewritten": report.rewritten,
            "entered_at_risk": len(report.entered),
            "emails": emails,
        }
        db.session.remove()

        def next_night():
            report = job.run_pass(now + timedelta(days=1), notify=True)
            db.session.commit()
            return report

        timing, report = timed("3. next night, nothing new", next_night)
        result["nightly_pass"] = {
            **timing,
            "changed": report.changed,
            "rewritten": report.rewritten,
            "entered": len(report.entered),
        }
        bands = dict(
            db.session.execute(
                select(CustomerHealth.band, func.count()).group_by(CustomerHealth.band)
            ).all()
        )
        result["bands"] = {str(band): count for band, count in bands.items()}
        result["history_rows"] = db.session.scalar(select(func.count()).select_from(HealthSnapshot))
        after = result["after_import_pass"]
        print(
            f"    bands: {', '.join(f'{b.value} {bands.get(b, 0):,}' for b in HealthBand)}; "
            f"entered at risk after the import: {after['entered_at_risk']:,} "
            f"({after['emails']:,} emails); history rows {result['history_rows']:,}"
        )
        db.session.remove()
    bench_app.RESULTS.mkdir(exist_ok=True)
    out = bench_app.RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-health.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    where = result["machine"]
    print(
        f"\n==> {out.relative_to(ROOT)}  ({where['nproc']} × {where['cpu']}, load {where['load']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
