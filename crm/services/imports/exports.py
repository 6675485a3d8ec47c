"""CSV export of customers and contacts, in the layout the importer reads back.

Excel opens a CSV as UTF-8 only when it starts with a byte-order mark, and
expects CRLF line ends. Headers are Chinese by default (the column keys in
English), values are written as the user reads them (labels, usernames, the
parent's credit code), so an export can be edited in Excel and imported again.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import labels
from crm.extensions import db
from crm.permissions import customer_scope
from crm.services.archive.search import CustomerFilters, search_customers
from models import (
    Attitude,
    BuyingRole,
    Contact,
    Customer,
    CustomerStatus,
    Industry,
    Strategy,
    Tier,
    User,
)

# (column key, Chinese header). The keys are the English headers. This is a file
# format, the same whatever the UI language, so the headers are not translated.
CUSTOMER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "客户名称"),
    ("credit_code", "统一社会信用代码"),
    ("parent", "上级客户"),
    ("industry", "行业"),
    ("region", "区域"),
    ("address", "地址"),
    ("employees", "员工人数"),
    ("annual_revenue", "年营业收入"),
    ("annual_spend", "年预计支出"),
    ("tier", "价值等级"),
    ("strategy", "策略类别"),
    ("status", "客户状态"),
    ("products_in_use", "在用产品"),
    ("contract_expiry", "主合同到期日"),
    ("owner", "客户经理"),
    ("notes", "备注"),
)
CONTACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer", "客户"),
    ("name", "姓名"),
    ("title", "职务"),
    ("department", "部门"),
    ("mobile", "手机"),
    ("office_phone", "办公电话"),
    ("email", "邮箱"),
    ("role", "采购角色"),
    ("attitude", "态度"),
    ("strength", "关系强度"),
    ("reports_to", "汇报对象"),
    ("notes", "备注"),
    ("active", "在职"),
)
COLUMNS = {"customers": CUSTOMER_COLUMNS, "contacts": CONTACT_COLUMNS}
ENUMS: dict[str, type[enum.Enum]] = {
    "tier": Tier,
    "strategy": Strategy,
    "status": CustomerStatus,
    "role": BuyingRole,
    "attitude": Attitude,
}
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def guard_cell(value: str) -> str:
    """Make a spreadsheet show `value` as text: prefix an apostrophe to would-be formulas."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unguard_cell(value: str) -> str:
    """Undo guard_cell, so that an exported file imports back unchanged."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def export_language(requested: str | None, user: User) -> str:
    """'zh' or 'en': the ?lang= argument if valid, else the user's own language."""
    if requested in ("zh", "en"):
        return requested
    return "zh" if (user.locale or "zh").startswith("zh") else "en"


def headers(kind: str, language: str) -> list[str]:
    return [zh if language == "zh" else key for key, zh in COLUMNS[kind]]


def enum_names(language: str) -> dict[enum.Enum, str]:
    """Every exported enum member's label in `language` (the catalogue's, not the UI's)."""
    with force_locale("zh_CN" if language == "zh" else "en"):
        return {m: labels.label(m) for cls in ENUMS.values() for m in cls}


def alias_key(text: str) -> str:
    """Case, spaces, underscores and hyphens do not tell names apart."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


def _text(value: Any) -> str:
    if value is None:
        return ""
    return guard_cell(str(value))


def customer_rows(user: User, filters: CustomerFilters, language: str) -> Iterator[list[str]]:
    """The header and one row per customer of the filtered list (never out of scope)."""
    names = enum_names(language)
    stmt = (
        search_customers(user, filters)
        .options(
            joinedload(Customer.owner),
            joinedload(Customer.industry),
            joinedload(Customer.parent),
        )
        .execution_options(yield_per=ROWS_PER_CHUNK)
    )
    yield headers("customers", language)
    for customer in _scalars(stmt):
        parent = customer.parent
        industry: Industry | None = customer.industry
        yield [
            _text(customer.name),
            _text(customer.credit_code),
            _text(parent and (parent.credit_code or parent.name)),
            _text(industry and (industry.name_zh if language == "zh" else industry.name_en)),
            _text(customer.region),
            _text(customer.address),
            _text(customer.employees),
            _text(customer.annual_revenue),
            _text(customer.annual_spend),
            names[customer.tier],
            names[customer.strategy] if customer.strategy else "",
            names[customer.status],
            _text(customer.products_in_use),
            customer.contract_expiry.isoformat() if customer.contract_expiry else "",
            _text(customer.owner.username),
            _text(customer.notes),
        ]


def contact_rows(user: User, language: str, customer_id: int | None = None) -> Iterator[list[str]]:
    """The header and one row per contact of the user's customers (or of one of them)."""
    names = enum_names(language)
    yes, no = YES_NO[language]
    stmt = (
        select(Contact)
        .join(Contact.customer)
        .where(customer_scope(user))
        .options(joinedload(Contact.customer), joinedload(Contact.reports_to))
        .order_by(Customer.name, Customer.id, Contact.name, Contact.id)
        .execution_options(yield_per=ROWS_PER_CHUNK)
    )
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    yield headers("contacts", language)
    for contact in _scalars(stmt):
        customer = contact.customer
        yield [
            _text(customer.credit_code or customer.name),
            _text(contact.name),
            _text(contact.title),
            _text(contact.department),
            _text(contact.mobile),
            _text(contact.office_phone),
            _text(contact.email),
            names[contact.role],
            names[contact.attitude],
            str(contact.strength),
            _text(contact.reports_to.name if contact.reports_to else None),
            _text(contact.notes),
            yes if contact.active else no,
        ]


def _scalars(stmt) -> Iterator[Any]:
    # Only many-to-one joins are eager-loaded: rows never repeat, and yield_per may stream.
    yield from db.session.scalars(stmt)


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark and CRLF line ends, a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield "\ufeff".encode()
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
