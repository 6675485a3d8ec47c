"""Errors the domain raises; views turn them into a flashed message or a 404."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule refused the change; `message` is shown to the user as it is."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The actor may not make this change."""


class NotFound(DomainError):
    """The record does not exist or is out of the actor's scope."""


class StaleEdit(DomainError):
    """Someone saved the record since this form was opened; `current` is what they saved."""

    def __init__(self, message: object, current: object) -> None:
        super().__init__(message)
        self.current = current


def check_version(record: object, submitted_version: int | None) -> None:
    """Refuse a save made from an older version of `record` than the stored one."""
    if submitted_version is None or int(submitted_version) != record.version:
        raise StaleEdit(
            _l(
                "Someone else saved this record while you were editing it. "
                "Their version is shown below; your changes were not saved."
            ),
            current=record,
        )
