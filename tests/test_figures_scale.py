"""A monthly figures file at province scale: 100,000 lines, one per customer, imported whole.

Not timed (scripts/bench-figures measures the speed): it shows that a file of that size
goes through the same checks and the set-based write, and counts right.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select

from crm.extensions import db
from crm.services.archive.identity import credit_code_check_char
from crm.services.figures.months import add_months
from crm.services.imports import batch as imports
from models import Customer, MonthlyFigure

LINES = 100_000
MONTH = add_months(datetime.now(UTC).date().replace(day=1), -1)


def code(n: int) -> str:
    first = f"91330100{n:09d}"
    return first + credit_code_check_char(first)


def test_a_100000_line_monthly_file_imports_whole(org):
    owner = org["m1"]
    db.session.execute(
        insert(Customer),
        [
            {
                "name": f"规模客户{n}有限公司",
                "name_key": f"规模客户{n}",
                "credit_code": code(n) if n % 2 else None,
                "owner_id": owner.id,
                "version": 1,
            }
            for n in range(LINES)
        ],
    )
    ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    # A tenth is stored already as the file has it, a tenth with other figures.
    db.session.execute(
        insert(MonthlyFigure),
        [
            {
                "customer_id": ids[n],
                "month": MONTH,
                "revenue": Decimal(1000 + n % 500) + (1 if n % 20 >= 10 else 0),
                "active_lines": 10 + n % 40,
            }
            for n in range(0, LINES, 5)
        ],
    )
    db.session.commit()
    lines = ["月份,统一社会信用代码,客户编号,收入,到达数"]
    for n, customer_id in enumerate(ids):
        # Odd customers by credit code (as billing knows them), even ones by id.
        who = f"{code(n)}," if n % 2 else f",{customer_id}"
        lines.append(f"{MONTH:%Y%m},{who},{1000 + n % 500},{10 + n % 40}")
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")

    parsed = imports.parse_file("figures", data)
    report = imports.run_import(parsed, actor=org["admin"], source="province-202x.csv")
    db.session.commit()

    assert report.ok and report.rows == LINES and report.imported == LINES
    counts = report.figure_counts
    assert (counts.added, counts.changed, counts.unchanged) == (80_000, 10_000, 10_000)
    stored = db.session.scalar(
        select(func.count()).select_from(MonthlyFigure).where(MonthlyFigure.month == MONTH)
    )
    assert stored == LINES
    last = db.session.scalar(select(MonthlyFigure).where(MonthlyFigure.customer_id == ids[-1]))
    assert last.revenue == 1000 + (LINES - 1) % 500 and last.source == "province-202x.csv"
