"""The API's schema base and fields: their refusals in the token owner's language.

marshmallow's own messages are English; each field here names its refusals through
gettext, so a validation problem reads like the web form's. Text fields refuse control
characters with the web's message (PostgreSQL cannot store NUL; no other is ever meant).
Timestamps are UTC in RFC 3339; money is a decimal string, never a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from crm.services.control_characters import control_character_message, find_control_character

REQUIRED = _l("This field is required.")
NOT_NULL = _l("This field cannot be null.")
BASE_MESSAGES = {"required": REQUIRED, "null": NOT_NULL, "validator_failed": _l("Invalid value.")}


class ApiSchema(ma.Schema):
    """Every schema of the API: unknown fields are refused, by name."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {
        "type": _l("Send a JSON object."),
        "unknown": _l("Unknown field."),
    }


class Str(ma.fields.String):
    """Text; `multiline` allows tabs and line breaks, as the web's text areas do."""

    default_error_messages = {**BASE_MESSAGES, "invalid": _l("Enter text.")}

    def __init__(self, *args, multiline: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        char = find_control_character(text, multiline=self.multiline)
        if char is not None:
            raise ma.ValidationError(str(control_character_message(char)))
        return text


class Int(ma.fields.Integer):
    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter a whole number."),
        "too_large": _l("This number is too large."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("strict", True)  # 1.5 is not 1
        super().__init__(*args, **kwargs)


class Id(Int):
    """A record's id: a positive whole number (one that fits no row is simply not found)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("validate", validate.Range(min=1, error=_l("Enter a record's id.")))
        super().__init__(*args, **kwargs)


# A money amount as the document shows it: a decimal string (a JSON number is taken too).
DECIMAL_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,2})?$"


class Money(ma.fields.Decimal):
    """An amount in yuan as a decimal string ("1200000.00"); a JSON number is taken too.

    Documented as a string with a pattern (registered in blueprints/api/__init__.py): a
    float would lose cents, and a range validator would print its bounds as strings.
    """

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter an amount in yuan, e.g. 1200000."),
        "too_large": _l("This number is too large."),
        "special": _l("Enter an amount in yuan, e.g. 1200000."),
    }

    def __init__(self, *args, high: Decimal = Decimal("99999999999999"), **kwargs) -> None:
        kwargs.setdefault("places", 2)
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("metadata", {}).setdefault("pattern", DECIMAL_PATTERN)
        super().__init__(*args, **kwargs)
        self.high = high

    def _deserialize(self, value, attr, data, **kwargs):
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not Decimal(0) <= amount <= self.high:
            raise ma.ValidationError(
                str(_l("Enter a value from %(low)s to %(high)s.", low=0, high=self.high))
            )
        return amount


class Percent(Money):
    """A percentage as a decimal string, 0 to 100 (the service says so in its own words)."""

    default_error_messages = {**Money.default_error_messages, "invalid": _l("Enter a number.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, high=Decimal("999.99"), **kwargs)


class Bool(ma.fields.Boolean):
    default_error_messages = {**BASE_MESSAGES, "invalid": _l("Enter true or false.")}


class Day(ma.fields.Date):
    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter a date as YYYY-MM-DD."),
        "format": _l("Enter a date as YYYY-MM-DD."),
    }


class Timestamp(ma.fields.DateTime):
    """A UTC instant in RFC 3339 (2026-05-01T08:30:00Z); stored ones are UTC already."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": _l("Enter a time as 2026-05-01T08:30:00Z."),
        "invalid_awareness": _l("Give the time zone, e.g. 2026-05-01T08:30:00Z."),
        "format": _l("Enter a time as 2026-05-01T08:30:00Z."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(*args, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            raise self.make_error("invalid_awareness")
        return moment.astimezone(UTC)


def choice(allowed, **kwargs) -> Str:
    """A text field holding one of an enum's values (or of a list), documented as an enum."""
    values = [getattr(member, "value", member) for member in allowed]
    return Str(
        validate=validate.OneOf(values, error=_l("Choose one of the listed values.")),
        metadata={"enum": values, **kwargs.pop("metadata", {})},
        **kwargs,
    )


def max_length(limit: int) -> validate.Length:
    return validate.Length(max=limit, error=_l("At most %(n)d characters.", n=limit))


def between(low: int | Decimal, high: int | Decimal) -> validate.Range:
    return validate.Range(
        min=low, max=high, error=_l("Enter a value from %(low)s to %(high)s.", low=low, high=high)
    )


# The RFC 9457 problem document ----------------------------------------------------------


class FieldProblemSchema(ApiSchema):
    field = ma.fields.String(
        required=True, metadata={"description": "The field, as named in the request."}
    )
    location = ma.fields.String(
        metadata={"description": "Where the field was: json (the body), query or path."}
    )
    message = ma.fields.String(required=True)


class ProblemSchema(ApiSchema):
    """application/problem+json: what went wrong, in the token owner's language."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"description": "URI of the problem kind."})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(
        ma.fields.Nested(FieldProblemSchema),
        metadata={"description": "For a refused body or query: one entry per field."},
    )
    current = ma.fields.Dict(
        metadata={"description": "409 on a stale version: the record as it is stored now."}
    )


class PageSchema(ApiSchema):
    """A page of a list: `next_cursor` fetches the next one (null on the last page)."""

    next_cursor = ma.fields.String(allow_none=True, required=True)


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The schema of a page of `item_schema` items, named for the OpenAPI document."""
    return type(
        name,
        (PageSchema,),
        {"items": ma.fields.List(ma.fields.Nested(item_schema), required=True)},
    )


class ListArgs(ApiSchema):
    """The query of every list: how many, and where the last page ended."""

    limit = Int(
        strict=False,
        load_default=50,
        validate=between(1, 100),
        metadata={"description": "Items per page, 1 to 100 (default 50)."},
    )
    cursor = Str(
        load_default=None,
        validate=max_length(500),
        metadata={"description": "`next_cursor` of the page before; absent for the first."},
    )
