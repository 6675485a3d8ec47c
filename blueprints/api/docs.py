"""The API's docs page: Swagger UI from static/vendor reading /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.get("/docs")
def docs():
    """Open to anyone, like the document it shows: the contract is no secret, the data is."""
    return render_template("api/docs.html")
