"""Notice views (being built)."""

from blueprints.notices import bp  # noqa: F401
