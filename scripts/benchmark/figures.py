"""scripts/bench-figures: the monthly business figures import, in lines per second.

Builds a database of `--customers` customers (100,000: province scale; half known to
billing by credit code, half by id) with twelve months of figures already stored (1.2
million rows), then times, as `crm import figures` runs them (parse, check, write, and
the revenue trends refreshed):

- the dry run of the new month's file (one line per customer);
- its import (every line new);
- the same month imported again with a tenth of the lines changed (a correction);
- an older month imported again (not the latest: each customer's trend window is looked up).

Each import is rolled back after it is timed except the first, so every case starts from
the same database. Wall time and this process's CPU time are both shown: on a busy machine
the wall time waits for a CPU; the issue's target is 10,000 lines a second.

    scripts/bench-figures [--customers 100000] [--database-url URL] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from crm import create_app  # noqa: E402
from crm.extensions import db  # noqa: E402
from crm.services.archive.identity import credit_code_check_char  # noqa: E402
from crm.services.figures.months import add_months  # noqa: E402
from crm.services.figures.trend import refresh_revenue_trends  # noqa: E402
from crm.services.imports import batch as imports  # noqa: E402
from crm.services.seed import seed_reference_data  # noqa: E402
from models import Customer, Level, MonthlyFigure, Role, User  # noqa: E402

TARGET = 10_000  # lines a second (issue 14)
HISTORY = 12
CHUNK = 20_000


def code(n: int) -> str:
    first = f"91440300{n:09d}"
    return first + credit_code_check_char(first)


def revenue(n: int, month_index: int) -> Decimal:
    """A customer's revenue: some sliding, most steady (the trend refresh has work to do)."""
    base = 2000 + (n * 37) % 50_000
    slide = 1 - (0.04 * month_index if n % 7 == 0 else 0)
    return Decimal(base * slide).quantize(Decimal("0.01"))


def build(customers: int, last: datetime) -> tuple[User, list[int]]:
    seed_reference_data()
    admin = User(
        username="bench-admin",
        display_name="Bench",
        email="bench@example.com",
        password_hash="-",
        session_token="bench-figures-token",
        role=Role.ADMIN,
        level=Level.SENIOR,
    )
    db.session.add(admin)
    db.session.flush()
    for start in range(0, customers, CHUNK):
        db.session.execute(
            insert(Customer),
            [
                {
                    "name": f"经营客户{n}有限公司",
                    "name_key": f"经营客户{n}",
                    "credit_code": code(n) if n % 2 else None,
                    "owner_id": admin.id,
                    "version": 1,
                }
                for n in range(start, min(customers, start + CHUNK))
            ],
        )
    ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    for index in range(HISTORY):
        month = add_months(last, index - HISTORY)
        for start in range(0, len(ids), CHUNK):
            db.session.execute(
                insert(MonthlyFigure),
                [
                    {
                        "customer_id": ids[n],
                        "month": month,
                        "revenue": revenue(n, index),
                        "active_lines": 20 + n % 300,
                        "source": "history.csv",
                    }
                    for n in range(start, min(len(ids), start + CHUNK))
                ],
            )
    refresh_revenue_trends(select(Customer.id))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load: the planner's row counts.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return admin, ids


def month_file(ids: list[int], month, index: int, changed_every: int = 0) -> bytes:
    """One line per customer; odd ones by credit code, even ones by id."""
    lines = ["月份,统一社会信用代码,客户编号,收入,ARPU,到达数,离网数"]
    for n, customer_id in enumerate(ids):
        value = revenue(n, index)
        if changed_every and n % changed_every == 0:
            value += 1
        who = f"{code(n)}," if n % 2 else f",{customer_id}"
        lines.append(f"{month:%Y%m},{who},{value},{value / (20 + n % 300):.2f},{20 + n % 300},0")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def timed(name: str, data: bytes, admin: User, *, dry_run: bool = False) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = imports.parse_file("figures", data)
    if dry_run:
        report = imports.check_import(parsed, actor=admin)
    else:
        report = imports.run_import(parsed, actor=admin, source=f"{name}.csv")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert report.ok, [str(m) for p in report.errors[:3] for m in p.messages]
    counts = report.figure_counts
    return {
        "case": name,
        "lines": report.rows,
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "lines_per_s": round(report.rows / wall),
        "lines_per_cpu_s": round(report.rows / cpu) if cpu else None,
        "ok": report.rows / wall >= TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-bench-figures-"))
    url = args.database_url or f"sqlite:///{work / 'figures.sqlite3'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    new_month = add_months(datetime.now(UTC).date().replace(day=1), -1)
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        admin, ids = build(args.customers, new_month)
        print(
            f"database: {db.engine.dialect.name}, {len(ids):,} customers, "
            f"{len(ids) * HISTORY:,} monthly figures stored ({time.perf_counter() - started:.0f} s)"
        )
        results = [timed("dry run", month_file(ids, new_month, HISTORY), admin, dry_run=True)]
        db.session.rollback()
        results.append(timed("new month", month_file(ids, new_month, HISTORY), admin))
        db.session.commit()
        corrected = month_file(ids, new_month, HISTORY, changed_every=10)
        results.append(timed("month again, a tenth changed", corrected, admin))
        db.session.rollback()
        older = add_months(new_month, -3)
        older_file = month_file(ids, older, HISTORY - 3, changed_every=10)
        results.append(timed("an older month again", older_file, admin))
        db.session.rollback()
    print(
        f"{'case':32} {'lines':>8} {'new':>7} {'changed':>7} {'s':>6} {'cpu s':>6} "
        f"{'lines/s':>8} {'lines/cpu s':>11}  target {TARGET:,}/s"
    )
    for r in results:
        print(
            f"{r['case']:32} {r['lines']:>8,} {r['added']:>7,} {r['changed']:>7,} "
            f"{r['seconds']:>6} {r['cpu_seconds']:>6} {r['lines_per_s']:>8,} "
            f"{r['lines_per_cpu_s'] or 0:>11,}  {'PASS' if r['ok'] else 'MISS'}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"database": url.split(":")[0], "results": results}))


if __name__ == "__main__":
    main()
