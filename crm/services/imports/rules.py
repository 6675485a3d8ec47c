"""What checking an imported row needs, whatever the file holds: the column readers.

Rows are checked in memory against lookups loaded once per file. The rules are
the forms' and services' rules (credit code check digit, unique credit codes,
similar names, owners the actor may assign, reporting lines without loops); the
messages name the value and the column, since the reader looks at a spreadsheet.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from crm.labels import label
from crm.services.control_characters import LINE_BREAKS, code_point, find_control_character
from crm.services.imports.exports import alias_key, enum_names
from models import BuyingRole, Strategy, User

# Names people write that the label catalogue does not use (the terms of docs/domain.md).
EXTRA_ALIASES: dict[enum.Enum, tuple[str, ...]] = {
    BuyingRole.USER: ("使用者",),
    Strategy.CONSOLIDATE: ("巩固",),
    Strategy.INVEST: ("投入",),
    Strategy.HARVEST: ("收获",),
    Strategy.MAINTAIN: ("兼顾",),
}
YES = {"是", "在职", "yes", "y", "true", "1", "active"}
NO = {"否", "离职", "no", "n", "false", "0", "inactive", "left"}
MONEY_LIMIT = Decimal("99999999999999")  # Numeric(16, 2)
CENT = Decimal("0.01")
DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
PHONE = re.compile(r"^[0-9+()\-\s]+((转|ext\.?|x)\s*[0-9]+)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def credit_code_message(problem: str, code: str) -> object:
    """What crm.services.archive.identity.credit_code_problem found, in plain words."""
    if problem == "length":
        return _l("credit code %(code)s does not have 18 characters", code=code)
    if problem == "characters":
        return _l(
            "credit code %(code)s has characters other than digits and capital letters "
            "(I, O, S, V and Z are never used)",
            code=code,
        )
    return _l("credit code %(code)s has a wrong check digit", code=code)


# The columns whose cells may hold line breaks and tabs (as crm/services/imports/batch.py reads
# a file: an address copied from a spreadsheet cell may run over two lines).
MULTILINE_COLUMNS = frozenset({"notes", "address", "products_in_use"})
# The imported columns whose values are not JSON as they are (enums, amounts, dates).
_NOT_JSON = {
    "tier",
    "strategy",
    "status",
    "annual_revenue",
    "annual_spend",
    "contract_expiry",
    "role",
    "attitude",
}


def _plain(value: Any) -> Any:
    """The JSON form the audit log stores (as crm.services.audit.snapshot writes it)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass
class RowPlan:
    """A checked row, ready to insert; `link_line` is the file line of its parent/manager."""

    line: int
    values: dict[str, Any]
    fields: tuple[str, ...]
    link_line: int | None = None

    def audit_values(self) -> dict[str, Any]:
        """The imported values the audit log keeps (empty ones left out)."""
        values = self.values
        changes = {name: values[name] for name in self.fields if values.get(name) is not None}
        for name in _NOT_JSON.intersection(changes):
            changes[name] = _plain(changes[name])
        return changes


def enum_lookup() -> dict[type, dict[str, enum.Enum]]:
    """Each enum's members under their keys and their Chinese and English labels."""
    zh, en = enum_names("zh"), enum_names("en")
    lookup: dict[type, dict[str, enum.Enum]] = defaultdict(dict)
    for member in zh:
        for name in (member.value, zh[member], en[member], *EXTRA_ALIASES.get(member, ())):
            # Exact spellings first: most files repeat a few values thousands of times.
            lookup[type(member)].setdefault(name, member)
            lookup[type(member)].setdefault(alias_key(name), member)
    return lookup


class Checker:
    """Collects each line's errors (which block the import) and warnings (which do not)."""

    fields: tuple[str, ...] = ()

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.errors: dict[int, list[object]] = {}
        self.warnings: dict[int, list[object]] = {}
        self.plans: list[RowPlan] = []
        # Rows whose link (parent, manager) is resolved once every row is read.
        self.pending: list[tuple[RowPlan, str | None]] = []
        self.enums = enum_lookup()
        # Column key → the header as the file wrote it: messages name what the user sees.
        self.headings: dict[str, str] = {}

    def heading(self, column: str) -> str:
        return self.headings.get(column, column)

    def refuse(self, line: int, message: object) -> None:
        self.errors.setdefault(line, []).append(message)

    def refuse_control_characters(self, line: int, values: dict[str, str]) -> None:
        """Refuse each cell holding a control character, naming its column.

        As in the forms: only the multi-line columns (notes, products) hold tabs and
        line breaks; NUL and the other controls are refused everywhere (PostgreSQL
        cannot store NUL: the commit failed after a dry run that had passed).
        """
        if find_control_character("".join(values.values())) is None:
            return  # no cell holds one (the usual row: one test instead of one per cell)
        for column, value in values.items():
            char = find_control_character(value, multiline=column in MULTILINE_COLUMNS)
            if char is None:
                continue
            if char in LINE_BREAKS:
                message = _l(
                    "%(column)s holds one line of text: remove the tab or line break",
                    column=self.heading(column),
                )
            else:
                message = _l(
                    "%(column)s contains an invisible control character (%(code)s) that "
                    "cannot be stored: remove it",
                    column=self.heading(column),
                    code=code_point(char),
                )
            self.refuse(line, message)

    def warn(self, line: int, message: object) -> None:
        self.warnings.setdefault(line, []).append(message)

    def finish(self) -> None:
        """Checks that need every row: links between rows of the file."""

    def refuse_loops(self, message: Callable[[str], object]) -> None:
        """Refuse every line on a loop of links among the file's own rows.

        `message` words the refusal for a chain of names such as "A → B → A".
        """
        link_of = {plan.line: plan.link_line for plan, _ in self.pending if plan.link_line}
        names = {plan.line: plan.values["name"] for plan, _ in self.pending}
        done: set[int] = set()
        for start in link_of:
            path: list[int] = []
            on_path: set[int] = set()
            line: int | None = start
            while line is not None and line not in done and line not in on_path:
                path.append(line)
                on_path.add(line)
                line = link_of.get(line)
            if line in on_path:
                loop = path[path.index(line) :]
                chain = " → ".join(names[n] for n in [*loop, line])
                for member in loop:
                    self.refuse(member, message(chain))
            done.update(path)

    # Columns ---------------------------------------------------------------------

    def text(self, line: int, values: dict[str, str], column: str, limit: int | None):
        value = values.get(column) or None
        if value is not None and limit is not None and len(value) > limit:
            self.refuse(
                line,
                _l(
                    "%(column)s is longer than %(limit)d characters",
                    column=self.heading(column),
                    limit=limit,
                ),
            )
        return value

    def choice(self, line: int, values: dict[str, str], column: str, enum_cls, default):
        raw = values.get(column)
        if not raw:
            return default
        names = self.enums[enum_cls]
        member = names.get(raw) or names.get(alias_key(raw))
        if member is None:
            self.refuse(
                line,
                _l(
                    "%(column)s %(value)s is not one of: %(allowed)s",
                    column=self.heading(column),
                    value=raw,
                    allowed=", ".join(label(m) for m in enum_cls),
                ),
            )
        return member

    def whole_number(self, line: int, values: dict[str, str], column: str, low: int, high: int):
        raw = values.get(column)
        if not raw:
            return None
        try:
            number = int(raw.replace(",", "").replace(" ", ""))
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.refuse(
                line,
                _l(
                    "%(column)s must be a whole number from %(low)d to %(high)d, not %(value)s",
                    column=self.heading(column),
                    low=low,
                    high=high,
                    value=raw,
                ),
            )
        return number

    def amount(self, line: int, values: dict[str, str], column: str) -> Decimal | None:
        raw = values.get(column)
        if not raw:
            return None
        cleaned = raw.replace(",", "").replace(" ", "").lstrip("¥￥")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or not 0 <= number <= MONEY_LIMIT:
            self.refuse(
                line,
                _l(
                    "%(column)s must be an amount in yuan from 0 to 99999999999999, not %(value)s",
                    column=self.heading(column),
                    value=raw,
                ),
            )
            return None
        return number.quantize(CENT)

    def day(self, line: int, values: dict[str, str], column: str) -> date | None:
        # Excel in a Chinese locale re-saves dates as 2025/6/30: accept that too.
        raw = values.get(column)
        if not raw:
            return None
        match = DATE.match(raw)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
        self.refuse(
            line,
            _l(
                "%(column)s must be a date like 2025-06-30, not %(value)s",
                column=self.heading(column),
                value=raw,
            ),
        )
        return None
