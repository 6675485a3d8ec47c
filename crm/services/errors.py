"""Errors the domain raises; views turn them into a flashed message or a 404."""

from __future__ import annotations


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
