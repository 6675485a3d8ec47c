"""CSV import of customers, contacts and monthly business figures: a dry run that names
every bad row, then an all-or-nothing commit written with set-based SQL.

The file is read whole (uploads are capped), checked row by row against lookups
loaded once (credit codes, name keys, usernames, industries), and written with
bulk INSERTs in chunks. The checks are the forms' rules, worded for a file:
"line 7: credit code 9131… has a wrong check digit". Line numbers count as a
spreadsheet does: the header is line 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, false, func, select, update
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.services import bulk
from crm.services.archive import search_backlog
from crm.services.errors import DomainError, NotAllowed
from crm.services.imports import figures
from crm.services.imports.contacts import ContactChecker
from crm.services.imports.customers import CustomerChecker
from crm.services.imports.exports import COLUMNS as EXPORTED_COLUMNS
from crm.services.imports.exports import alias_key, unguard_cell
from crm.services.imports.rules import MULTILINE_COLUMNS, RowPlan
from crm.services.webhooks import events as webhooks
from models import AuditAction, AuditEntry, Contact, Customer, User
from models.base import utcnow

ENCODINGS = ("auto", "utf-8", "gb18030", "big5")
# What Excel writes on a Chinese Windows: simplified (mainland) or traditional (Taiwan, HK).
LEGACY_ENCODINGS = ("gb18030", "big5")
ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030 (GBK)", "big5": "Big5"}
KINDS = ("customers", "contacts", "figures")
# The columns of each kind of file; business figures come from billing and are not exported.
COLUMNS = {**EXPORTED_COLUMNS, "figures": figures.FIGURE_COLUMNS}
# Other headers a column is known by, beside its key and its Chinese header.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {"figures": figures.FIGURE_ALIASES}
# A tuple names columns of which one is enough (a customer's credit code or id).
REQUIRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "customers": ("name",),
    "contacts": ("customer", "name"),
    "figures": figures.FIGURE_REQUIRED,
}
CHECKERS = {
    "customers": CustomerChecker,
    "contacts": ContactChecker,
    "figures": figures.FigureChecker,
}
# A unit written after a header: 收入(元), ARPU（元）, 到达数(户).
UNIT = re.compile(r"\s*[(（][^()（）]*[)）]$")
PREVIEW_ROWS = 10
CHUNK_ROWS = 1000
# The progress bar moves a step per this many rows checked (drawing it costs more than a row).
PROGRESS_STEP = 500
# Above this many rows the web page recommends the command line (it shows progress).
LARGE_FILE_ROWS = 5000

Progress = Callable[[int], None]


class ImportFileError(DomainError):
    """The file as a whole cannot be read: its encoding, its header, its CSV syntax."""


class EncodingUnsure(ImportFileError):
    """The file reads as text in more than one encoding and nothing tells which is right.

    `previews` holds, per candidate encoding, the first lines as they read in it: the
    user sees which one gives real names and picks it.
    """

    def __init__(self, previews: dict[str, list[str]]) -> None:
        super().__init__(
            _l(
                "The file is not UTF-8, and it reads as text both as GB18030 (simplified "
                "Chinese) and as Big5 (traditional Chinese). Choose the encoding in which "
                "the names below read correctly."
            )
        )
        self.previews = previews


@dataclass
class RowProblem:
    line: int
    messages: list[object]


@dataclass
class ParsedFile:
    """The rows of an uploaded file, each with its spreadsheet line number."""

    kind: str
    encoding: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    overlong_lines: set[int] = field(default_factory=set)
    # Each column's key → its header as written in the file (messages and previews use it).
    headings: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What a dry run found, or what a commit wrote."""

    kind: str
    encoding: str
    columns: list[str]
    rows: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    preview: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    imported: int = 0
    headings: dict[str, str] = field(default_factory=dict)
    # Business figures: how many lines are new, change stored figures, or repeat them.
    figure_counts: figures.FigureCounts | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def large(self) -> bool:
        return self.rows > LARGE_FILE_ROWS


# Reading ------------------------------------------------------------------------


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    Automatic reads UTF-8 (with or without BOM) when the bytes are UTF-8. Otherwise
    GB18030 and Big5 are tried: where only one of them reads the bytes, or
    charset-normalizer clearly prefers one, that one is used; where both read and
    neither is clearly better (short files often are), `EncodingUnsure` lets the
    user choose rather than importing garbled names without a word.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}")
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            if encoding == "utf-8":
                raise ImportFileError(
                    _l(
                        "The file is not UTF-8 text. If Excel saved it on a Chinese Windows, "
                        "choose GB18030 or let the import detect the encoding."
                    )
                )
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            raise ImportFileError(
                _l(
                    "The file is not %(encoding)s text. Choose another encoding or let the "
                    "import detect it.",
                    encoding=ENCODING_NAMES[encoding],
                )
            )
    readings = {}
    for candidate in LEGACY_ENCODINGS:
        try:
            readings[candidate] = data.decode(candidate)
        except UnicodeDecodeError:
            continue
    if not readings:
        raise ImportFileError(
            _l(
                "The file is neither UTF-8 nor GB18030 text. In Excel, save it as "
                "“CSV UTF-8 (comma delimited)” and try again."
            )
        )
    if len(readings) == 1:
        (used, text), *_rest = readings.items()
        return text, used
    used = _clear_winner(data)
    if used is None:
        raise EncodingUnsure(
            {name: text.splitlines()[: PREVIEW_ROWS + 1] for name, text in readings.items()}
        )
    return readings[used], used


def _clear_winner(data: bytes) -> str | None:
    """The legacy encoding charset-normalizer clearly prefers for these bytes, if any."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS))
    ranked = sorted(
        (m for m in matches if m.encoding in LEGACY_ENCODINGS),
        key=lambda m: (m.chaos, -m.coherence),
    )
    if not ranked:
        return None
    if len(ranked) > 1:
        best, second = ranked[0], ranked[1]
        # A tie (both readings look equally plausible) is not a decision.
        if (best.chaos, best.coherence) == (second.chaos, second.coherence):
            return None
    return ranked[0].encoding


def _header_keys(kind: str, header: list[str]) -> list[str | None]:
    """The column key of each header cell (None for empty cells); refuses unknown ones."""
    known = {}
    for key, zh in COLUMNS[kind]:
        for name in (key, zh, *ALIASES.get(kind, {}).get(key, ())):
            known[alias_key(name)] = key
    keys: list[str | None] = []
    unknown: list[str] = []
    for cell in header:
        name = _heading(cell)
        if not name:
            keys.append(None)
            continue
        key = known.get(alias_key(name)) or known.get(alias_key(UNIT.sub("", name)))
        if key is None:
            unknown.append(name)
        elif key in keys:
            raise ImportFileError(
                _l("Line 1 (the header) has the column %(name)s twice.", name=name)
            )
        keys.append(key)
    if unknown:
        raise ImportFileError(
            _l(
                "Line 1 (the header) has columns this import does not know: %(unknown)s. "
                "The columns are: %(known)s.",
                unknown=", ".join(unknown),
                known=", ".join(f"{key} ({zh})" for key, zh in COLUMNS[kind]),
            )
        )
    missing = [
        " / ".join(need) if isinstance(need, tuple) else need
        for need in REQUIRED[kind]
        if not set(need if isinstance(need, tuple) else (need,)) & set(keys)
    ]
    if missing:
        raise ImportFileError(
            _l(
                "Line 1 (the header) lacks the required columns: %(missing)s.",
                missing=", ".join(missing),
            )
        )
    return keys


def parse_file(kind: str, data: bytes, encoding: str = "auto") -> ParsedFile:
    """Decode and split the file; blank rows are skipped (but still counted as lines).

    The reader is strict: a quote that is opened and never closed, or text after a
    closing quote, names the line where its row starts instead of swallowing the
    lines after it. A row that spans several lines only passes where the column may
    hold line breaks (notes, address, products in use).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    text, used = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 1  # the row being read, counted as a spreadsheet counts its rows
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError(_l("The file is empty."))
        keys = _header_keys(kind, header)
        headings = {key: _heading(cell) for key, cell in zip(keys, header, strict=True) if key}
        parsed = ParsedFile(kind, used, [k for k in keys if k], [], headings=headings)
        width = len(keys)
        # A monthly figures file has a line per customer (100,000): each line's cells are
        # tested joined first, and one by one only when the joined text needs it.
        for number, cells in enumerate(reader, start=2):
            joined = "".join(cells)
            if not joined.strip():
                continue
            if len(cells) > width and "".join(cells[width:]).strip():
                parsed.overlong_lines.add(number)
            values = {}
            for key, cell in zip(keys, cells, strict=False):
                if key:
                    value = cell.strip()
                    values[key] = unguard_cell(value).strip() if value[:1] == "'" else value
            broken = "\n" in joined and [
                k for k in values if k not in MULTILINE_COLUMNS and "\n" in values[k]
            ]
            if broken:
                raise ImportFileError(
                    _l(
                        "Line %(line)d: the cell %(column)s runs over several lines; a quote "
                        '(") is probably not closed on that line.',
                        line=number,
                        column=headings[broken[0]],
                    )
                )
            parsed.rows.append((number, values))
    except csv.Error as error:
        raise ImportFileError(
            _l(
                'Line %(line)d cannot be read as CSV: %(error)s. Check its quotes ("): '
                "a quote that opens a cell must close it.",
                line=number + 1,
                error=str(error),
            )
        )
    return parsed


def _heading(cell: str) -> str:
    """A header cell as the file's author wrote it (without a BOM or padding)."""
    return cell.strip().lstrip("\ufeff").strip()


# Checking and writing -----------------------------------------------------------


def _check(parsed: ParsedFile, actor: User, progress: Progress | None) -> tuple[ImportReport, Any]:
    """Check every row; the report lists each bad row, the checker holds the rows to write."""
    if actor is None or not actor.is_active:
        raise NotAllowed(_l("Only an active user may import."))
    report = ImportReport(
        parsed.kind,
        parsed.encoding,
        parsed.columns,
        rows=len(parsed.rows),
        preview=parsed.rows[:PREVIEW_ROWS],
        headings=parsed.headings,
    )
    checker = CHECKERS[parsed.kind](actor)
    checker.headings = parsed.headings
    overlong = parsed.overlong_lines
    for count, (line, values) in enumerate(parsed.rows, start=1):
        if overlong and line in overlong:
            checker.refuse(line, _l("the row has more cells than the header has columns"))
        checker.refuse_control_characters(line, values)
        checker.check(line, values)
        if progress and count % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    if progress and len(parsed.rows) % PROGRESS_STEP:
        progress(len(parsed.rows) % PROGRESS_STEP)
    checker.finish()
    report.errors = [RowProblem(line, msgs) for line, msgs in sorted(checker.errors.items())]
    report.warnings = [RowProblem(line, msgs) for line, msgs in sorted(checker.warnings.items())]
    if isinstance(checker, figures.FigureChecker):
        report.figure_counts = checker.counts
    return report, checker


def check_import(parsed: ParsedFile, *, actor: User, progress: Progress | None = None):
    """The dry run: check every row, write nothing."""
    report, _checker = _check(parsed, actor, progress)
    return report


def run_import(
    parsed: ParsedFile,
    *,
    actor: User,
    progress: Progress | None = None,
    source: str | None = None,
) -> ImportReport:
    """Check again (the database may have changed) and, if no row is bad, write them all.

    A file with any bad row writes nothing. Flushes; the caller commits. `source` (the
    file's name) is kept with imported business figures.
    """
    report, checker = _check(parsed, actor, progress)
    if not report.ok:
        return report
    if parsed.kind == "figures":
        figures.write_figures(checker, source=source, now=utcnow())
        report.imported = report.rows
        if progress:
            progress(report.rows)
    elif parsed.kind == "customers":
        with search_backlog.bulk_writes():  # their search bigrams are cut by the scheduler
            report.imported = _write(Customer, checker.plans, actor, progress, "parent_id")
        # Told as a customer made on the form is, in this transaction (one event each).
        webhooks.customers_created([plan.values for plan in checker.plans], actor=actor)
    else:
        with search_backlog.bulk_writes():
            report.imported = _write(Contact, checker.plans, actor, progress, "reports_to_id")
    return report


def reserve_ids(table: Table, count: int) -> list[int]:
    """Ids for `count` new rows, known before they are inserted (no RETURNING needed).

    PostgreSQL hands them out from the table's sequence. SQLite has one writer at a
    time: once this transaction holds the write lock, the ids after the highest are
    ours. Either way the primary key refuses a clash, so the worst case is a refusal.
    """
    if not count:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        series = func.generate_series(1, count).table_valued("n")
        return list(db.session.scalars(select(func.nextval(sequence)).select_from(series)))
    # A write that changes nothing, to take SQLite's write lock before reading the highest id.
    db.session.execute(update(table).where(false()).values(id=table.c.id))
    highest = db.session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(highest + 1, highest + 1 + count))


def _parents_first(plans: list[RowPlan]) -> list[RowPlan]:
    """The rows ordered so that a row linked to another row of the file comes after it.

    Foreign keys are checked row by row, so a subsidiary (or a contact's manager)
    from the same file must already be there. The checks refused loops.
    """
    by_line = {plan.line: plan for plan in plans}
    depth: dict[int, int] = {}
    for plan in plans:
        path = []
        current: RowPlan | None = plan
        while current is not None and current.line not in depth:
            path.append(current)
            current = by_line.get(current.link_line) if current.link_line else None
        base = depth[current.line] if current is not None else -1
        for offset, member in enumerate(reversed(path), start=1):
            depth[member.line] = base + offset
    return sorted(plans, key=lambda plan: depth[plan.line])


def _write(
    model: type, plans: list[RowPlan], actor: User, progress: Progress | None, link: str
) -> int:
    """Bulk-insert the planned rows (linked rows after their parent), then their audit entries."""
    table = model.__table__
    now = utcnow()
    plans = _parents_first(plans)
    ids = reserve_ids(table, len(plans))
    id_by_line = {plan.line: id_ for plan, id_ in zip(plans, ids, strict=True)}
    for plan, id_ in zip(plans, ids, strict=True):
        plan.values.update(id=id_, version=1, created_at=now, updated_at=now)
        if plan.link_line is not None:
            plan.values[link] = id_by_line[plan.link_line]
    bulk.insert_rows(table, _counted((plan.values for plan in plans), progress))
    entries = (
        {
            "customer_id": plan.values["id" if model is Customer else "customer_id"],
            "entity_type": table.name,
            "entity_id": plan.values["id"],
            "entity_label": plan.values["name"][:200],
            "action": AuditAction.IMPORT,
            "changes": plan.audit_values(),
            "actor_id": actor.id,
            "created_at": now,
        }
        for plan in plans
    )
    bulk.insert_rows(AuditEntry.__table__, entries)
    return len(plans)


def _counted(rows: Iterable, progress: Progress | None) -> Iterator:
    """The rows, telling `progress` each time a chunk of them has been taken."""
    taken = 0
    for taken, row in enumerate(rows, start=1):
        yield row
        if progress and taken % CHUNK_ROWS == 0:
            progress(CHUNK_ROWS)
    if progress and taken % CHUNK_ROWS:
        progress(taken % CHUNK_ROWS)


class ImportNoLongerPasses(DomainError):
    """The database changed since the dry run and the file no longer passes; `report` says why."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(_l("The file no longer passes the checks; nothing was imported."))
        self.report = report


def import_file(
    kind: str, data: bytes, encoding: str, *, actor: User, source: str | None = None
) -> ImportReport:
    """Read a kept upload and import it whole, or refuse: nothing is written unless all rows pass.

    Flushes; the caller commits. A row another import wrote meanwhile (a unique key taken)
    is refused like any other change of the data since the dry run.
    """
    parsed = parse_file(kind, data, encoding)
    try:
        report = run_import(parsed, actor=actor, source=source)
    except IntegrityError as error:
        raise DomainError(
            _l(
                "The customers changed while the file was imported; nothing was imported. "
                "Please upload the file again."
            )
        ) from error
    if not report.ok:
        raise ImportNoLongerPasses(report)
    return report
