"""The checks of an imported customer file: credit codes, parents, industries, owners."""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from crm.extensions import db
from crm.permissions import assignable_owners, customer_scope
from crm.services.archive.customers import LOST_NEEDS_A_REASON, owning_team
from crm.services.archive.customers import PROFILE_FIELDS as CUSTOMER_FIELDS
from crm.services.archive.identity import (
    credit_code_problem,
    normalise_credit_code,
    normalise_name,
    without_format_characters,
)
from crm.services.imports.exports import alias_key
from crm.services.imports.rules import Checker, RowPlan, credit_code_message
from models import Customer, CustomerStatus, Industry, Strategy, Tier, User


class CustomerChecker(Checker):
    """Rows of a customer file: name, credit code, parent, industry, owner, ..."""

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        mine = case((customer_scope(actor), True), else_=False)
        # code -> (id, name, in scope, owner id)
        self.by_code: dict[str, tuple[int, str, bool, int]] = {}
        self.by_key: dict[str, tuple[int, str, bool]] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        rows = db.session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.name_key,
                Customer.credit_code,
                mine.label("in_scope"),
                Customer.owner_id,
            )
        )
        for row in rows:
            in_scope = bool(row.in_scope)
            if row.credit_code:
                self.by_code[row.credit_code] = (row.id, row.name, in_scope, row.owner_id)
            if row.name_key and (row.name_key not in self.by_key or in_scope):
                self.by_key[row.name_key] = (row.id, row.name, in_scope)
            if in_scope:
                self.by_name[row.name].append(row.id)
        self.industries: dict[str, int] = {}
        for industry in db.session.execute(
            select(Industry.id, Industry.name_zh, Industry.name_en).where(Industry.active.is_(True))
        ):
            for name in (industry.name_zh, industry.name_en):
                self.industries[name] = self.industries[alias_key(name)] = industry.id
        self.owners = {
            username.casefold(): id_
            for id_, username in db.session.execute(
                assignable_owners(actor).with_only_columns(User.id, User.username)
            )
        }
        # What the file's lines hold: line numbers (0: on several lines).
        self.file_codes: dict[str, int] = {}
        self.file_keys: dict[str, int] = {}
        self.file_names: dict[str, int] = {}
        self.owning_teams: dict[int, tuple[str | None, str | None]] = {}

    def check(self, line: int, values: dict[str, str]) -> None:
        name = self.text(line, values, "name", 200)
        if name:
            name = without_format_characters(name).strip() or None
        if not name:
            self.refuse(line, _l("the customer name is missing"))
        code = self._credit_code(line, values.get("credit_code", ""))
        industry_id = None
        if values.get("industry"):
            raw = values["industry"]
            industry_id = self.industries.get(raw) or self.industries.get(alias_key(raw))
            if industry_id is None:
                self.refuse(
                    line,
                    _l(
                        "industry %(value)s is not in the list of industries",
                        value=values["industry"],
                    ),
                )
        owner_id = self.actor.id
        if values.get("owner"):
            owner_id = self.owners.get(values["owner"].casefold())
            if owner_id is None:
                self.refuse(
                    line,
                    _l(
                        "owner %(value)s is not an active user you may give customers to",
                        value=values["owner"],
                    ),
                )
        plan = RowPlan(
            line,
            {
                "name": name,
                "name_key": normalise_name(name or ""),
                "credit_code": code,
                "parent_id": None,
                "industry_id": industry_id,
                "region": self.text(line, values, "region", 50),
                "address": self.text(line, values, "address", 300),
                "employees": self.whole_number(line, values, "employees", 0, 2_000_000_000),
                "annual_revenue": self.amount(line, values, "annual_revenue"),
                "annual_spend": self.amount(line, values, "annual_spend"),
                "tier": self.choice(line, values, "tier", Tier, Tier.C),
                "strategy": self.choice(line, values, "strategy", Strategy, None),
                "status": self.choice(
                    line, values, "status", CustomerStatus, CustomerStatus.PROSPECT
                ),
                "products_in_use": self.text(line, values, "products_in_use", None),
                "contract_expiry": self.day(line, values, "contract_expiry"),
                "owner_id": owner_id,
                "notes": self.text(line, values, "notes", None),
                "created_by_id": self.actor.id,
                "updated_by_id": self.actor.id,
            },
            CUSTOMER_FIELDS,
        )
        if plan.values["status"] is CustomerStatus.LOST:
            self.refuse(line, LOST_NEEDS_A_REASON)
        if name:
            self._similar_names(line, name, plan.values["name_key"])
            self.file_names[name] = 0 if name in self.file_names else line
        self.pending.append((plan, values.get("parent") or None))

    def finish(self) -> None:
        """Resolve the parents (in scope, or anywhere in the file) and refuse group loops."""
        for plan, ref in self.pending:
            if ref:
                self._parent(plan, ref)
        self.refuse_loops(lambda chain: _l("the group loops: %(chain)s", chain=chain))
        self.plans = [plan for plan, _ in self.pending if plan.line not in self.errors]

    def _credit_code(self, line: int, raw: str) -> str | None:
        # Case, spaces and full width do not matter, as in the form.
        code = normalise_credit_code(raw)
        if not code:
            return None
        problem = credit_code_problem(code)
        if problem:
            self.refuse(line, credit_code_message(problem, code))
        elif code in self.file_codes:
            self.refuse(
                line,
                _l(
                    "credit code %(code)s is also on line %(other)d",
                    code=code,
                    other=self.file_codes[code],
                ),
            )
        elif code in self.by_code:
            _id, existing, in_scope, owner_id = self.by_code[code]
            if in_scope:
                message = _l(
                    "credit code %(code)s already belongs to your customer %(name)s",
                    code=code,
                    name=existing,
                )
            else:
                message = self._taken_elsewhere(code, owner_id)
            self.refuse(line, message)
        else:
            self.file_codes[code] = line
        return code

    def _taken_elsewhere(self, code: str, owner_id: int) -> object:
        """Whom to ask for a handover, as the customer form says it: never the customer's
        or the owner's name (README: duplicate credit codes)."""
        if owner_id not in self.owning_teams:
            self.owning_teams[owner_id] = owning_team(owner_id)
        team, supervisor = self.owning_teams[owner_id]
        if team and supervisor:
            return _l(
                "credit code %(code)s already belongs to a customer of team %(team)s "
                "(supervisor: %(supervisor)s): ask them for a handover",
                code=code,
                team=team,
                supervisor=supervisor,
            )
        if team:
            return _l(
                "credit code %(code)s already belongs to a customer of team %(team)s: "
                "ask an administrator for a handover",
                code=code,
                team=team,
            )
        return _l(
            "credit code %(code)s already belongs to a customer outside your portfolio: "
            "ask an administrator for a handover",
            code=code,
        )

    def _parent(self, plan: RowPlan, raw: str) -> None:
        """Set the parent's id (a customer in scope) or line (another row of the file)."""
        line = plan.line
        code = normalise_credit_code(raw)
        file_line = self.file_codes.get(code) or self.file_names.get(raw)
        existing = self.by_code.get(code)
        matches = self.by_name.get(raw, [])
        if file_line == line:
            self.refuse(line, _l("a customer cannot be its own parent"))
        elif file_line:
            plan.link_line = file_line
        elif existing and existing[2]:
            plan.values["parent_id"] = existing[0]
        elif raw not in self.file_names and len(matches) == 1:
            plan.values["parent_id"] = matches[0]
        elif raw in self.file_names or matches:
            self.refuse(
                line,
                _l(
                    "parent %(value)s names several customers: give its credit code instead",
                    value=raw,
                ),
            )
        else:
            # Out-of-scope customers answer the same as missing ones.
            self.refuse(
                line,
                _l(
                    "parent %(value)s is neither one of your customers nor a customer in this file",
                    value=raw,
                ),
            )

    def _similar_names(self, line: int, name: str, key: str) -> None:
        if not key:
            return
        if key in self.file_keys:
            self.warn(
                line,
                _l(
                    "name %(name)s is very like the customer on line %(other)d",
                    name=name,
                    other=self.file_keys[key],
                ),
            )
            return
        self.file_keys[key] = line
        if key in self.by_key:
            _id, existing, in_scope = self.by_key[key]
            if in_scope:
                message = _l(
                    "name %(name)s is very like your existing customer %(existing)s",
                    name=name,
                    existing=existing,
                )
            else:
                message = _l(
                    "name %(name)s is very like an existing customer of another manager",
                    name=name,
                )
            self.warn(line, message)
