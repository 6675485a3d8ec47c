"""Error pages (403, 404, 409, 429, 500) rendered in the user's language."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError

from crm.extensions import db


def _numeric_out_of_range(error: DataError) -> bool:
    # SQLSTATE 22003: numeric_value_out_of_range (integer, bigint); other data errors
    # are bugs to see, not bad input to hide.
    return getattr(error.orig, "sqlstate", None) == "22003"


# app.extensions key: a function (status, error, message) -> response or None, asked before
# an HTML error page is rendered. The JSON API answers its own paths with problem+json,
# also for errors raised before any of its views is found (an unknown path, a wrong method).
OTHER_FORMAT = "crm.error_answer"


def answered_elsewhere(app: Flask, status: int, error=None, message=None):
    answer = app.extensions.get(OTHER_FORMAT)
    return answer(status, error, message) if answer is not None else None


def register(app: Flask) -> None:
    def page(status: int):
        def handler(error):
            if status == 500:
                db.session.rollback()
            other = answered_elsewhere(app, status, error)
            if other is not None:
                return other
            if status == 429:
                app.logger.warning(
                    "rate limit reached: path=%s ip=%s limit=%s",
                    request.path,
                    request.remote_addr,
                    getattr(error, "description", ""),
                )
            return render_template("errors/error.html", status=status), status

        return handler

    for status in (400, 403, 404, 405, 409, 429, 500):
        app.register_error_handler(status, page(status))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(error):
        """A number no column can hold (a forty-digit id or page in the URL): SQLite
        refuses to bind it, PostgreSQL to cast it. No record can match: not found."""
        if isinstance(error, DataError) and not _numeric_out_of_range(error):
            raise error
        db.session.rollback()
        app.logger.info("number out of range: path=%s", request.path)
        other = answered_elsewhere(app, 404)
        if other is not None:
            return other
        return render_template("errors/error.html", status=404), 404

    @app.errorhandler(StaleDataError)
    def stale_write(error):
        """Two saves of one record at once, the later one not caught by its service:
        nothing of it was saved, and the user is told to reload, not shown a 500."""
        db.session.rollback()
        app.logger.warning("stale write refused: path=%s error=%s", request.path, error)
        return render_template("errors/error.html", status=409), 409

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        app.logger.warning("CSRF refused: path=%s ip=%s", request.path, request.remote_addr)
        return render_template("errors/error.html", status=400, csrf=True), 400
