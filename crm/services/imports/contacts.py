"""The checks of an imported contact file: the customer, the person, the reporting lines."""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import visible_customers
from crm.services.archive.contacts import FIELDS as CONTACT_FIELDS
from crm.services.archive.identity import normalise_credit_code
from crm.services.imports.rules import EMAIL, NO, PHONE, YES, Checker, RowPlan
from models import Attitude, BuyingRole, Contact, Customer, User


class ContactChecker(Checker):
    """Rows of a contact file: the customer (credit code or exact name), the person, ..."""

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.customer_names: dict[int, str] = {}
        for row in db.session.execute(
            visible_customers(actor).with_only_columns(
                Customer.id, Customer.name, Customer.credit_code
            )
        ):
            if row.credit_code:
                self.by_code[row.credit_code] = row.id
            self.by_name[row.name].append(row.id)
            self.customer_names[row.id] = row.name

    def check(self, line: int, values: dict[str, str]) -> None:
        customer_id = self._customer(line, values.get("customer", ""))
        name = self.text(line, values, "name", 100)
        if not name:
            self.refuse(line, _l("the contact's name is missing"))
        plan = RowPlan(
            line,
            {
                "customer_id": customer_id,
                "name": name,
                "title": self.text(line, values, "title", 100),
                "department": self.text(line, values, "department", 100),
                "mobile": self._phone(line, values, "mobile"),
                "office_phone": self._phone(line, values, "office_phone"),
                "email": self._email(line, values),
                "role": self.choice(line, values, "role", BuyingRole, BuyingRole.CONTACT_PERSON),
                "attitude": self.choice(line, values, "attitude", Attitude, Attitude.NEUTRAL),
                "strength": self.whole_number(line, values, "strength", 1, 5) or 3,
                "reports_to_id": None,
                "notes": self.text(line, values, "notes", 5000),
                "active": self._active(line, values),
            },
            CONTACT_FIELDS,
        )
        if customer_id is not None and name:
            self.pending.append((plan, values.get("reports_to") or None))

    def _customer(self, line: int, raw: str) -> int | None:
        if not raw:
            self.refuse(line, _l("the customer is missing"))
            return None
        code = normalise_credit_code(raw)
        if code in self.by_code:
            return self.by_code[code]
        found = self.by_name.get(raw, [])
        if len(found) == 1:
            return found[0]
        if found:
            self.refuse(
                line,
                _l(
                    "several of your customers are named %(value)s: give the credit code", value=raw
                ),
            )
        else:
            # Never say whether an out-of-scope customer exists.
            self.refuse(line, _l("customer %(value)s is not one of your customers", value=raw))
        return None

    def _phone(self, line: int, values: dict[str, str], column: str) -> str | None:
        value = self.text(line, values, column, 30)
        if value and not PHONE.match(value):
            self.refuse(
                line,
                _l(
                    "%(column)s %(value)s may hold only digits, spaces, + ( ) and -",
                    column=self.heading(column),
                    value=value,
                ),
            )
        return value

    def _email(self, line: int, values: dict[str, str]) -> str | None:
        value = self.text(line, values, "email", 254)
        if value and not EMAIL.match(value):
            self.refuse(line, _l("email %(value)s is not an email address", value=value))
        return value

    def _active(self, line: int, values: dict[str, str]) -> bool:
        raw = (values.get("active") or "").casefold()
        if not raw or raw in YES:
            return True
        if raw in NO:
            return False
        self.refuse(line, _l("active must be yes or no, not %(value)s", value=values["active"]))
        return True

    def finish(self) -> None:
        """Unique names per customer, and reporting lines that exist and do not loop."""
        existing = self._existing_contacts({plan.values["customer_id"] for plan, _ in self.pending})
        in_file: dict[tuple[int, str], int] = {}
        for plan, _ref in self.pending:
            key = (plan.values["customer_id"], plan.values["name"])
            if key in in_file:
                self.refuse(
                    plan.line,
                    _l(
                        "%(name)s at %(customer)s is also on line %(other)d",
                        name=key[1],
                        customer=self.customer_names[key[0]],
                        other=in_file[key],
                    ),
                )
            else:
                in_file[key] = plan.line
            if key in existing:
                self.refuse(
                    plan.line,
                    _l(
                        "%(customer)s already has a contact named %(name)s",
                        customer=self.customer_names[key[0]],
                        name=key[1],
                    ),
                )
        for plan, ref in self.pending:
            if ref:
                self._manager(plan, ref, in_file, existing)
        self.refuse_loops(lambda chain: _l("the reporting line loops: %(chain)s", chain=chain))
        self.plans = [plan for plan, _ in self.pending if plan.line not in self.errors]

    def _existing_contacts(self, customer_ids: set[int]) -> dict[tuple[int, str], list]:
        found: dict[tuple[int, str], list] = defaultdict(list)
        ids = sorted(customer_ids)
        for start in range(0, len(ids), 500):
            rows = db.session.execute(
                select(Contact.customer_id, Contact.name, Contact.id, Contact.active).where(
                    Contact.customer_id.in_(ids[start : start + 500])
                )
            )
            for row in rows:
                found[(row.customer_id, row.name)].append((row.id, row.active))
        return found

    def _manager(self, plan: RowPlan, ref: str, in_file: dict, existing: dict) -> None:
        customer_id = plan.values["customer_id"]
        if ref == plan.values["name"]:
            self.refuse(plan.line, _l("a contact cannot report to themselves"))
        elif (customer_id, ref) in in_file:
            plan.link_line = in_file[(customer_id, ref)]
        elif len(existing.get((customer_id, ref), ())) == 1:
            manager_id, active = existing[(customer_id, ref)][0]
            if not active:
                self.refuse(
                    plan.line,
                    _l("%(name)s has left the company and cannot be chosen as manager", name=ref),
                )
            plan.values["reports_to_id"] = manager_id
        elif existing.get((customer_id, ref)):
            self.refuse(
                plan.line,
                _l(
                    "several contacts of %(customer)s are named %(name)s: rename one first",
                    name=ref,
                    customer=self.customer_names[customer_id],
                ),
            )
        else:
            self.refuse(
                plan.line,
                _l(
                    "reports_to %(name)s is not a contact of %(customer)s (in the database "
                    "or in this file)",
                    name=ref,
                    customer=self.customer_names[customer_id],
                ),
            )
