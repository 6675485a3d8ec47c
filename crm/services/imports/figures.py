"""The checks and the write of a monthly business figures file (经营数据), from billing.

A line is one customer's figures for one month, matched by unified social credit code
or by customer id. The file is checked whole before anything is written; then the
months it holds are replaced for the customers in it: one upsert per chunk of lines,
against a lookup of the customers and of the month's stored figures loaded once, so
that the import says how many figures are new, changed or the same as stored. No ORM
object is made per line: a monthly file holds a row for every customer (100,000 at
province scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import today_in, user_zone
from crm.permissions import visible_customers
from crm.services import bulk
from crm.services.archive.identity import credit_code_problem, normalise_credit_code
from crm.services.errors import NotAllowed
from crm.services.figures.months import EARLIEST, parse_month
from crm.services.figures.trend import refresh_revenue_trends
from crm.services.imports.rules import Checker, credit_code_message
from models import Customer, MonthlyFigure, User

# (column key, Chinese header): the layout of the file, as for customers and contacts.
FIGURE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("month", "月份"),
    ("credit_code", "统一社会信用代码"),
    ("customer_id", "客户编号"),
    ("customer_name", "客户名称"),
    ("revenue", "收入"),
    ("arpu", "ARPU"),
    ("active_lines", "到达数"),
    ("key_solution_revenue", "重点行业解决方案收入"),
    ("arrears", "欠费"),
    ("arrears_recovered", "欠费回收"),
    ("lines_lost", "离网数"),
)
# Other headers billing exports use for the same columns.
FIGURE_ALIASES: dict[str, tuple[str, ...]] = {
    "month": ("账期", "统计月份", "数据月份", "年月"),
    "credit_code": ("信用代码", "社会信用代码"),
    "customer_id": ("客户ID", "客户id", "id"),
    "customer_name": ("客户", "name"),
    "revenue": ("月收入", "本月收入", "出账收入"),
    "active_lines": ("到达用户数", "在网数", "到达"),
    "key_solution_revenue": ("解决方案收入", "重点解决方案收入"),
    "arrears": ("欠费金额",),
    "arrears_recovered": ("欠费回收金额", "回收欠费"),
    "lines_lost": ("离网", "离网用户数"),
}
# The month, the revenue, and one of the two ways to name the customer.
FIGURE_REQUIRED: tuple[str | tuple[str, ...], ...] = (
    "month",
    ("credit_code", "customer_id"),
    "revenue",
)
# What a line sets, in the order the checker keeps them.
VALUE_COLUMNS = (
    "revenue",
    "arpu",
    "active_lines",
    "key_solution_revenue",
    "arrears",
    "arrears_recovered",
    "lines_lost",
)
MONEY_LIMITS = {
    "revenue": Decimal("99999999999999.99"),  # Numeric(16, 2)
    "arpu": Decimal("9999999999.99"),  # Numeric(12, 2)
    "key_solution_revenue": Decimal("99999999999999.99"),
    "arrears": Decimal("99999999999999.99"),
    "arrears_recovered": Decimal("99999999999999.99"),
}
COUNT_LIMIT = 2_000_000_000
CENT = Decimal("0.01")
CHUNK_ROWS = 2000


@dataclass
class FigureCounts:
    """What an import of figures does (or, in a dry run, would do) to the stored ones."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    months: list[date] = field(default_factory=list)

    @property
    def month_names(self) -> str:
        """The months as a billing file names them: 2025-05, 2025-06."""
        return ", ".join(f"{month:%Y-%m}" for month in self.months)


class FigureChecker(Checker):
    """Lines of a figures file: the month, the customer, the figures."""

    def __init__(self, actor: User) -> None:
        if not actor.is_admin:
            raise NotAllowed(
                _l(
                    "Only an administrator may import business figures: they come from the "
                    "billing system, and they drive every customer's health."
                )
            )
        super().__init__(actor)
        self.by_code: dict[str, int] = {}
        self.ids: set[int] = set()
        for id_, code in db.session.execute(
            visible_customers(actor).with_only_columns(Customer.id, Customer.credit_code)
        ):
            self.ids.add(id_)
            if code:
                self.by_code[code] = id_
        self.this_month = today_in(user_zone(actor)).replace(day=1)
        # (customer id, month) → the line that holds it: each may be in the file once.
        self.lines: dict[tuple[int, date], int] = {}
        # (line, customer id, month, revenue, arpu, ...) of each line that passed.
        self.rows: list[tuple] = []
        self.counts = FigureCounts()
        # (customer id, month, revenue, arpu, ...) of each line that adds or changes figures.
        self.to_write: list[tuple] = []
        # A month file repeats one month on every line: read each spelling once.
        self.month_cache: dict[str, date | None] = {}

    def check(self, line: int, values: dict[str, str]) -> None:
        month = self._month(line, values.get("month", ""))
        customer_id = self._customer(line, values)
        figures = (
            self._money(line, values, "revenue"),
            self._money(line, values, "arpu"),
            self._count(line, values, "active_lines"),
            self._money(line, values, "key_solution_revenue"),
            self._money(line, values, "arrears"),
            self._money(line, values, "arrears_recovered"),
            self._count(line, values, "lines_lost"),
        )
        if figures[0] is None and not values.get("revenue"):
            self.refuse(line, _l("the revenue is missing"))
        if figures[3] is not None and figures[0] is not None and figures[3] > figures[0]:
            self.warn(
                line,
                _l(
                    "the key-industry solution revenue %(part)s is more than the whole "
                    "revenue %(whole)s",
                    part=figures[3],
                    whole=figures[0],
                ),
            )
        if month is None or customer_id is None:
            return
        key = (customer_id, month)
        other = self.lines.get(key)
        if other is not None:
            self.refuse(
                line,
                _l(
                    "the figures of this customer for %(month)s are also on line %(other)d",
                    month=month.strftime("%Y-%m"),
                    other=other,
                ),
            )
            return
        self.lines[key] = line
        self.rows.append((line, customer_id, month, *figures))

    def _month(self, line: int, raw: str) -> date | None:
        if raw in self.month_cache:
            month = self.month_cache[raw]
        else:
            month = self.month_cache[raw] = parse_month(raw) if raw else None
        if not raw:
            self.refuse(line, _l("the month is missing"))
        elif month is None:
            self.refuse(
                line,
                _l(
                    "%(column)s must be a month like 2025-06 or 202506, not %(value)s",
                    column=self.heading("month"),
                    value=raw,
                ),
            )
        elif month > self.this_month:
            self.refuse(
                line, _l("the month %(month)s has not begun", month=month.strftime("%Y-%m"))
            )
            return None
        elif month < EARLIEST:
            self.refuse(
                line, _l("the month %(month)s is before 2000", month=month.strftime("%Y-%m"))
            )
            return None
        return month

    def _customer(self, line: int, values: dict[str, str]) -> int | None:
        """The customer the credit code or the id names; both, when given, must agree."""
        raw_code, raw_id = values.get("credit_code", ""), values.get("customer_id", "")
        by_code = by_id = None
        if raw_code:
            code = normalise_credit_code(raw_code) or ""
            by_code = self.by_code.get(code)
            if by_code is None:
                problem = credit_code_problem(code)
                if problem:
                    self.refuse(line, credit_code_message(problem, code))
                else:
                    self.refuse(line, _l("no customer has the credit code %(code)s", code=code))
                return None
        if raw_id:
            digits = raw_id.strip()
            by_id = int(digits) if digits.isdigit() and digits.isascii() else None
            if by_id not in self.ids:
                self.refuse(line, _l("no customer has the id %(value)s", value=raw_id))
                return None
        if by_code is None and by_id is None:
            self.refuse(line, _l("the customer is missing: give its credit code or its id"))
            return None
        if by_code is not None and by_id is not None and by_code != by_id:
            self.refuse(
                line,
                _l(
                    "credit code %(code)s is the code of customer %(other)d, not of "
                    "customer %(id)d",
                    code=raw_code,
                    other=by_code,
                    id=by_id,
                ),
            )
            return None
        return by_code if by_code is not None else by_id

    def _money(self, line: int, values: dict[str, str], column: str) -> Decimal | None:
        raw = values.get(column)
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = _lenient_number(raw)
        limit = MONEY_LIMITS[column]
        if number is None or not number.is_finite() or not 0 <= number <= limit:
            self.refuse(
                line,
                _l(
                    "%(column)s must be an amount in yuan from 0 to %(limit)s, not %(value)s",
                    column=self.heading(column),
                    limit=format(limit, ".0f"),
                    value=raw,
                ),
            )
            return None
        return number.quantize(CENT)

    def _count(self, line: int, values: dict[str, str], column: str) -> int | None:
        raw = values.get(column)
        if not raw:
            return None
        try:
            number: int | None = int(raw)
        except ValueError:
            # Excel writes 1,200 or 1200.0 for a whole number.
            lenient = _lenient_number(raw)
            number = int(lenient) if lenient is not None and lenient == int(lenient) else None
        if number is None or not 0 <= number <= COUNT_LIMIT:
            self.refuse(
                line,
                _l(
                    "%(column)s must be a whole number from 0 to %(high)d, not %(value)s",
                    column=self.heading(column),
                    high=COUNT_LIMIT,
                    value=raw,
                ),
            )
            return None
        return number

    def finish(self) -> None:
        """Compare the lines with the stored figures of their months: new, changed or same."""
        months = sorted({row[2] for row in self.rows})
        self.counts = FigureCounts(months=months)
        if not self.rows:
            return
        stored = _stored_figures(months)
        for row in self.rows:
            line, customer_id, month, *figures = row
            before = stored.get((customer_id, month))
            if before is None:
                self.counts.added += 1
            elif tuple(figures) == before:
                self.counts.unchanged += 1
                continue
            else:
                self.counts.changed += 1
            self.to_write.append(row[1:])


def _lenient_number(raw: str) -> Decimal | None:
    """A number as people type it in a spreadsheet: 1,200.50, ¥ 3000, 1 200."""
    cleaned = raw.replace(",", "").replace("，", "").replace(" ", "").lstrip("¥￥")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _stored_figures(months: list[date]) -> dict[tuple[int, date], tuple]:
    """The stored figures of these months, by (customer id, month): one read per month."""
    table = MonthlyFigure.__table__.c
    columns = [table[name] for name in VALUE_COLUMNS]
    stored = {}
    for month in months:
        rows = db.session.execute(select(table.customer_id, *columns).where(table.month == month))
        for customer_id, *figures in rows:
            stored[(customer_id, month)] = tuple(figures)
    return stored


def write_figures(checker: FigureChecker, *, source: str | None, now: datetime) -> FigureCounts:
    """Write the new and changed lines (a month's stored row is replaced whole), then
    refresh the revenue trend of the customers whose figures changed. Core statements
    in chunks, no ORM object per line; the caller commits."""
    if not checker.to_write:
        return checker.counts
    _upsert(checker.to_write, source=(source or "")[:200] or None, now=now)
    table = MonthlyFigure.__table__.c
    written = select(table.customer_id).where(
        table.month.in_(checker.counts.months), table.imported_at == now
    )
    months = checker.counts.months
    refresh_revenue_trends(written, month=months[0] if len(months) == 1 else None)
    return checker.counts


# The columns an import writes, in the order of the checker's rows and then the two that
# are the same for every row.
WRITTEN_COLUMNS = ("customer_id", "month", *VALUE_COLUMNS, "source", "imported_at")


def _upsert(rows: list[tuple], *, source: str | None, now: datetime) -> None:
    """Write the lines: a month's row is inserted, or replaced whole where it is stored.

    PostgreSQL gets the lines by COPY into a temporary table and one INSERT ... SELECT
    ... ON CONFLICT; SQLite (in the process, no round trips) an executemany of the same
    upsert. Both bypass SQLAlchemy's per-row parameter handling, which took longer than
    the database's own work (about 2 s of an import of 100,000 lines); PostgreSQL's
    statement per line cost it a round trip each (8-40 s on a loaded machine, 5 s by COPY).
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy_and_upsert(connection, rows, source, now)
    else:
        _executemany_upsert(connection, rows, source, now)


def _upsert_sql(values: str) -> str:
    """The upsert of the written columns from `values` (VALUES (...) or a SELECT)."""
    # Names from the model; the values are bound parameters or a table's rows.
    replaced = ", ".join(f"{name} = excluded.{name}" for name in WRITTEN_COLUMNS[2:])
    return (
        f"INSERT INTO {MonthlyFigure.__tablename__} ({', '.join(WRITTEN_COLUMNS)}) "
        f"{values} ON CONFLICT (customer_id, month) DO UPDATE SET {replaced}"
    )


def _copy_and_upsert(connection, rows: list[tuple], source: str | None, now: datetime) -> None:
    columns = ", ".join(WRITTEN_COLUMNS)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE figures_import ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {columns} FROM {MonthlyFigure.__tablename__} WITH NO DATA"
    )
    bulk.copy_rows(
        connection, "figures_import", WRITTEN_COLUMNS, ((*row, source, now) for row in rows)
    )
    connection.exec_driver_sql(_upsert_sql(f"SELECT {columns} FROM figures_import"))  # noqa: S608
    connection.exec_driver_sql("DROP TABLE figures_import")


def _executemany_upsert(connection, rows: list[tuple], source: str | None, now: datetime) -> None:
    """Each value bound through its column type's processor for the dialect, as SQLAlchemy
    would (SQLite stores dates and datetimes as text, amounts as floats)."""
    processors = bulk.bind_processors(connection.dialect, MonthlyFigure.__table__, WRITTEN_COLUMNS)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = _upsert_sql(f"VALUES ({', '.join([mark] * len(WRITTEN_COLUMNS))})")
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = ((*row, source, now) for row in rows[start : start + CHUNK_ROWS])
        connection.exec_driver_sql(sql, list(bulk.processed(chunk, processors)))
