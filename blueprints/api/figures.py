"""Monthly business figures over the API: a customer's 13 months, and the billing system's
monthly push.

The push goes through the figures import of the web and the command line
(crm/services/imports/batch.py and figures.py), as one more way to hand it a month's
lines: every row checked before anything is written, all or nothing, each bad row named
(`rows.<index>` in the problem's field list; "line N" in a message is rows[N]), a month
pushed again replaces that month's figures of the customers in it, and the answer says
how many are new, changed or the same. Administrators only, as the web import: the
figures drive every customer's health, which the scheduler rescores after an import.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from blueprints.api.auth import api_token, api_user
from blueprints.api.common import ApiBlueprint, load
from blueprints.api.fields import (
    ApiSchema,
    Bool,
    Id,
    Int,
    Money,
    Str,
    between,
    max_length,
)
from blueprints.api.problems import Problem, problem
from crm.services.errors import DomainError
from crm.services.figures import panels
from crm.services.imports import batch
from crm.services.imports.figures import COUNT_LIMIT, FIGURE_COLUMNS
from models import Customer

blp = ApiBlueprint(
    "api_figures",
    __name__,
    url_prefix="/api/v1",
    tag="Business figures",
    description=(
        "Monthly business figures (经营数据) from billing: a customer's last 13 months, and "
        "the month pushed by the billing system (administrators)."
    ),
)

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CHANGE_PATTERN = r"^-?[0-9]+(\.[0-9])?$"
# Errors listed in one problem: a whole month refused (a month not begun) names each row.
MAX_ERRORS = 200


class Change(ma.fields.Decimal):
    """A change in percent, one decimal place, as a string ("-12.5"); null: no base."""

    def __init__(self, **kwargs) -> None:
        metadata = {"type": "string", "pattern": CHANGE_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, allow_none=True, metadata=metadata, **kwargs)


class _Month(ma.fields.Field):
    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime("%Y-%m") if value is not None else None


class _Figure(ma.fields.Field):
    """One of the month's stored figures (null: no figures that month, or not in the file)."""

    def __init__(self, inner: ma.fields.Field, **kwargs) -> None:
        super().__init__(allow_none=True, **kwargs)
        self.inner = inner

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return getattr(obj.figures, attr) if obj.figures is not None else None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else self.inner._serialize(value, attr, obj, **kwargs)


def _money(description: str) -> _Figure:
    return _Figure(
        Money(),
        metadata={
            "type": "string",
            "format": "decimal",
            "pattern": Money().metadata["pattern"],
            "nullable": True,
            "description": description,
        },
    )


def _count(description: str) -> _Figure:
    return _Figure(
        Int(), metadata={"type": "integer", "nullable": True, "description": description}
    )


class MonthSchema(ApiSchema):
    """One month's figures; every figure null in a month without any."""

    month = _Month(metadata={"type": "string", "pattern": MONTH_PATTERN})
    revenue = _money("收入, yuan.")
    revenue_change = Change(
        attribute="change", metadata={"description": "Against the month before, in percent."}
    )
    arpu = _money("ARPU, yuan.")
    active_lines = _count("Lines or accounts in use (到达数).")
    key_solution_revenue = _money("Revenue from key-industry solutions, yuan.")
    arrears = _money("欠费, yuan.")
    arrears_recovered = _money("Arrears recovered, yuan.")
    lines_lost = _count("Lines lost (离网).")


class CustomerFiguresSchema(ApiSchema):
    customer_id = Int()
    items = ma.fields.List(
        ma.fields.Nested(MonthSchema),
        required=True,
        metadata={"description": "13 months, the oldest first, up to the last month billed."},
    )
    year_on_year = Change(metadata={"description": "The last month against a year before."})
    twelve_months = Money(metadata={"description": "Revenue of the last twelve months."})


class FigureRowSchema(ApiSchema):
    """One customer's figures of the month, named by credit code or id (both must agree)."""

    credit_code = Str(validate=max_length(30), metadata={"description": "统一社会信用代码."})
    customer_id = Id()
    customer_name = Str(
        validate=max_length(200), metadata={"description": "For people reading; not matched."}
    )
    revenue = Money(required=True)
    arpu = Money(allow_none=True)
    active_lines = Int(allow_none=True, validate=between(0, COUNT_LIMIT))
    key_solution_revenue = Money(allow_none=True)
    arrears = Money(allow_none=True)
    arrears_recovered = Money(allow_none=True)
    lines_lost = Int(allow_none=True, validate=between(0, COUNT_LIMIT))


class FigurePushSchema(ApiSchema):
    month = Str(
        required=True,
        validate=ma.validate.Regexp(MONTH_PATTERN, error=_l("Enter a month as 2026-05.")),
        metadata={"description": "The month, as 2026-05: begun, and not before 2000."},
    )
    rows = ma.fields.List(
        ma.fields.Nested(FigureRowSchema),
        required=True,
        validate=ma.validate.Length(min=1, error=_l("Send at least one row.")),
    )
    dry_run = Bool(
        load_default=False, metadata={"description": "Check every row and write nothing."}
    )


class RowNoteSchema(ApiSchema):
    row = Int(metadata={"description": "The row's index in `rows`."})
    message = Str()


class FigureImportSchema(ApiSchema):
    imported = Bool(metadata={"description": "False for a dry run."})
    rows = Int()
    added = Int(metadata={"description": "Figures of a customer's month not stored before."})
    changed = Int(metadata={"description": "Replacing stored figures that differ."})
    unchanged = Int(metadata={"description": "The same as stored (not written again)."})
    months = ma.fields.List(Str(), metadata={"description": "The months the rows hold."})
    warnings = ma.fields.List(
        ma.fields.Nested(RowNoteSchema),
        metadata={"description": "Written anyway, but worth a look."},
    )


_COLUMNS = [key for key, _heading in FIGURE_COLUMNS]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _parsed(data: dict[str, Any]) -> batch.ParsedFile:
    """The rows as the import reads a file's lines: text cells by column; line N is rows[N]."""
    rows = [
        (index, {"month": data["month"], **{key: _cell(row.get(key)) for key in _COLUMNS[1:]}})
        for index, row in enumerate(data["rows"])
    ]
    return batch.ParsedFile("figures", "json", _COLUMNS, rows, headings={k: k for k in _COLUMNS})


def _refused(report: batch.ImportReport) -> Problem:
    errors = [
        {"field": f"rows.{row.line}", "location": "json", "message": str(message)}
        for row in report.errors
        for message in row.messages
    ]
    detail = _(
        "%(count)d of %(rows)d rows are refused; nothing was imported.",
        count=len(report.errors),
        rows=report.rows,
    )
    return Problem(problem(422, detail, kind="rule", errors=errors[:MAX_ERRORS]))


@blp.route("/customers/<int:customer_id>/figures")
class CustomerFigures(MethodView):
    @blp.reads
    @blp.response(200, CustomerFiguresSchema)
    def get(self, customer_id: int):
        """A customer's last 13 months of figures, as its figures page shows them."""
        customer = load(Customer, customer_id)
        figures = panels.customer_figures(customer, viewer=api_user())
        return {
            "customer_id": customer.id,
            "items": figures.months,
            "year_on_year": figures.year_on_year,
            "twelve_months": figures.twelve_months,
        }


@blp.route("/figures/")
class FigurePush(MethodView):
    @blp.creates
    @blp.arguments(FigurePushSchema)
    @blp.response(200, FigureImportSchema)
    def post(self, data: dict[str, Any]):
        """Push a month's figures (billing; administrators): all rows or none, a month
        pushed again replaced for the customers in it."""
        parsed = _parsed(data)
        user = api_user()
        if data["dry_run"]:
            report = batch.check_import(parsed, actor=user)
        else:
            try:
                report = batch.run_import(parsed, actor=user, source=f"API {api_token().prefix}")
            except IntegrityError as error:  # another import wrote these months meanwhile
                raise DomainError(
                    _l("The figures changed while they were imported; nothing was imported.")
                ) from error
        if not report.ok:
            raise _refused(report)
        counts = report.figure_counts
        return {
            "imported": not data["dry_run"],
            "rows": report.rows,
            "added": counts.added,
            "changed": counts.changed,
            "unchanged": counts.unchanged,
            "months": [month.strftime("%Y-%m") for month in counts.months],
            "warnings": [
                {"row": row.line, "message": str(message)}
                for row in report.warnings
                for message in row.messages
            ],
        }
