"""Logs as one line per event, each carrying the id of the request it belongs to.

Format: `timestamp level logger request_id message`. The id comes from the
X-Request-ID header when a proxy set a sane one, else it is made here; it is sent
back in the response so a user's report can be matched with the log lines.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_base_factory = logging.getLogRecordFactory()
request_log = logging.getLogger("crm.request")


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = (
        g.get("request_id", "-") if has_request_context() else "-"
    )  # every record has it, so any handler can format it
    return record


# Terminal colour and style codes (ESC [ ... m): Werkzeug paints its dev-server lines.
_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _LineFormatter(logging.Formatter):
    """One plain line per event: a traceback's newlines are escaped, colour codes dropped.

    Logs go to files and collectors, where a colour code is noise in every line.
    """

    def format(self, record: logging.LogRecord) -> str:
        return _ANSI_CODE.sub("", super().format(record)).replace("\n", "\\n")


def install_handler(level: str = "INFO") -> None:
    """Log to stderr in LOG_FORMAT, once per process (gunicorn workers, CLI, scheduler)."""
    root = logging.getLogger()
    if any(getattr(h, "crm_handler", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(LOG_FORMAT))
    handler.crm_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def request_id() -> str:
    incoming = request.headers.get(HEADER, "")
    return incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    logging.setLogRecordFactory(_record_factory)
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if not app.testing:
        install_handler(app.config.get("LOG_LEVEL", "INFO"))
        # Flask's own handler on the "crm" logger would print every line a second time.
        app.logger.removeHandler(default_handler)

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        rid = g.get("request_id")
        if rid:
            response.headers[HEADER] = rid
            if request.endpoint != "static":
                elapsed = (time.perf_counter() - g.request_started) * 1000
                request_log.info(
                    "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed
                )
        return response
