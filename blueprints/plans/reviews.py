"""Plan views (being built)."""

from blueprints.plans import bp  # noqa: F401
