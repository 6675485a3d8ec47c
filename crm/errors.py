"""Error pages (403, 404, 429, 500) rendered in the user's language."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from crm.extensions import db


def register(app: Flask) -> None:
    def page(status: int):
        def handler(error):
            if status == 500:
                db.session.rollback()
            if status == 429:
                app.logger.warning(
                    "rate limit reached: path=%s ip=%s limit=%s",
                    request.path,
                    request.remote_addr,
                    getattr(error, "description", ""),
                )
            return render_template("errors/error.html", status=status), status

        return handler

    for status in (400, 403, 404, 405, 429, 500):
        app.register_error_handler(status, page(status))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        app.logger.warning("CSRF refused: path=%s ip=%s", request.path, request.remote_addr)
        return render_template("errors/error.html", status=400, csrf=True), 400
