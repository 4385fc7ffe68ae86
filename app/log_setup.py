"""Logs: one line per record carrying the request id (the X-Request-ID the proxy sent, or a new
one, echoed in the response) or the rq job id, so one request's or one job's lines can be found
across processes; as text, or as JSON for a log collector (HOTLINE_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req %(request_id)s job %(job_id)s] %(message)s"


def _job_id() -> str:
    from rq import get_current_job

    try:
        job = get_current_job()
    except Exception:  # noqa: BLE001 - outside a worker there is simply no job
        return "-"
    return job.id if job is not None else "-"


class ContextFilter(logging.Filter):
    """Stamps every record with the request and job it belongs to ("-" for neither)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        record.job_id = _job_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "request_id": getattr(record, "request_id", "-"), "job_id": getattr(record, "job_id", "-")}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str = "text", level: str = "INFO") -> logging.Handler:
    """Install the platform's handler on the root logger, once per process (web or worker)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "hotline", False):
            return handler
    handler = logging.StreamHandler()
    handler.hotline = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def init_app(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
