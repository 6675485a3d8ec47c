"""What a page may say: the catalog's words, the data's words, the viewer's customers."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

CATALOG = (
    Path(__file__).resolve().parents[1] / "crm/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
)
# Chinese characters, CJK punctuation and full-width forms.
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\w*\}")


@dataclass
class Catalog:
    """The Chinese catalog: English msgids (as patterns) and their translations."""

    english: list[tuple[re.Pattern, str]]  # msgids whose Chinese differs
    chinese: dict[str, str]  # translation -> msgid
    expired: tuple[str, ...] = ()  # "the form expired" in both languages

    @classmethod
    @functools.cache
    def load(cls, path: Path = CATALOG) -> Catalog:
        from babel.messages.pofile import read_po

        with path.open("rb") as handle:
            catalog = read_po(handle)
        english, chinese = [], {}
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            strings = (
                message.string if isinstance(message.string, tuple | list) else (message.string,)
            )
            for msgid, translation in zip(ids, strings, strict=False):
                if not translation or translation == msgid:
                    continue
                chinese.setdefault(normal(translation), msgid)
                if not re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", msgid)):
                    continue  # "%(count)s" or "·": nothing English to see
                english.append((_pattern(msgid), msgid))
        expired = tuple(
            text
            for message in catalog
            if isinstance(message.id, str) and message.id.startswith("The form expired")
            for text in (message.id, message.string)
            if text
        )
        return cls(english, chinese, expired)

    def english_msgid(self, text: str) -> str | None:
        """The msgid a whole text node is, if it is one."""
        for pattern, msgid in self.english:
            if pattern.fullmatch(text):
                return msgid
        return None


def normal(text: str) -> str:
    return " ".join(text.split()).strip(" :：*")


def _pattern(msgid: str) -> re.Pattern:
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[last : match.start()]))
        parts.append(".+?")
        last = match.end()
    parts.append(re.escape(msgid[last:]))
    source = "".join(parts)
    source = re.sub(r"(\\ |\\\n|\s)+", r"\\s+", source)
    return re.compile(r"\s*" + source.strip() + r"[\s:：*]*", re.S)


class DataText:
    """Every string stored in the database: what a page may show in either language."""

    def __init__(self, app: Flask, extra: Iterable[str] = ()):
        self.app = app
        self.extra = set(extra)  # words of a file format, say, shown as they are
        self.load()

    def load(self) -> None:
        from sqlalchemy import String, Text, select

        from crm.extensions import db

        values: set[str] = set(self.extra)
        named: set[str] = set()  # a record's name in one language (name_zh, name_en)
        with self.app.app_context():
            for table in db.metadata.sorted_tables:
                for column in table.columns:
                    if not isinstance(column.type, String | Text):
                        continue
                    into = named if column.name.endswith(("_zh", "_en")) else values
                    into.update(v for v in db.session.scalars(select(column).distinct()) if v)
        self.values, self.named = values, named
        self.runs = {run for v in values for run in CJK_RUN.findall(v)}
        self.named_runs = {run for v in named for run in CJK_RUN.findall(v)}
        self.corpus = "\x00".join(values)

    def explains_cjk(self, run: str, bilingual: bool = False) -> bool:
        if run in self.runs or (bilingual and run in self.named_runs):
            return True
        core = run.strip("…。，、；：（）()")
        return len(core) >= 4 and core in self.corpus

    def is_value(self, text: str, bilingual: bool = False) -> bool:
        text = text.strip()
        return text in self.values or (bilingual and text in self.named)


@dataclass
class ScopeOracle:
    """Customer names the viewer may see, and those they may not (read from the database).

    Handover and work plan pages may also name the customers that left the viewer's
    scope in a handover (their own history); no other page may.
    """

    app: Flask
    username: str
    inside: list[str] = field(default_factory=list)
    outside: re.Pattern | None = None
    handed_away: frozenset[str] = frozenset()

    def load(self) -> None:
        from sqlalchemy import select

        from crm.extensions import db
        from crm.permissions import owner_scope, visible_customers
        from models import Customer, HandoverCustomer, User

        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == self.username))
            visible = set(
                db.session.scalars(visible_customers(user).with_only_columns(Customer.name))
            )
            every = set(db.session.scalars(select(Customer.name)))
            gave = select(Customer.name).join(
                HandoverCustomer, HandoverCustomer.customer_id == Customer.id
            )
            gave = set(
                db.session.scalars(gave.where(owner_scope(user, HandoverCustomer.from_owner_id)))
            )
        self.inside = sorted(visible, key=len, reverse=True)
        hidden = sorted(every - visible, key=len, reverse=True)
        self.outside = re.compile("|".join(map(re.escape, hidden))) if hidden else None
        self.handed_away = frozenset(gave - visible)

    def leaks(self, text: str, history: bool = False) -> list[str]:
        if self.outside is None or not self.outside.search(text):
            return []
        for name in self.inside:  # an outside name inside a visible one is no leak
            if name in text:
                text = text.replace(name, "\x00")
        return [n for n in self.outside.findall(text) if not (history and n in self.handed_away)]
