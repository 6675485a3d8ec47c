"""CSV import and export of customers and contacts. (Being built.)"""

from blueprints.imports import bp  # noqa: F401
