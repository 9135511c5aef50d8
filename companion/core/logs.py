"""Logging: readable lines or one JSON object a line, each with the request it belongs to.

`configure_logging(config)` sets the root logger up once per process (`log_format` "text" or
"json"). A request's id (`X-Request-ID` from the proxy, or a fresh one) is kept in a context
variable while the request runs, and every record logged meanwhile carries it. Log lines name
routes and ids, never personal data: no email addresses, names, tokens or message bodies.

`Throttle` keeps a warning that repeats with every request (Redis is away, the mail server
does not answer) to one line per interval, with a count of what it held back.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request being handled in this context ("" outside requests).
request_id: ContextVar[str] = ContextVar("kollega_request_id", default="")

#: What an incoming X-Request-ID may look like to be kept (a proxy's id, not arbitrary text).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

#: Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def new_request_id(incoming: str | None = None) -> str:
    """The proxy's id when it looks like one, else a fresh random id."""
    if incoming and _REQUEST_ID.match(incoming):
        return incoming
    return secrets.token_hex(8)


class _RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "")
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key != "request_id" and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", "")
        return f"{line} [request {rid}]" if rid else line


_configured: list[str] = []


def configure_logging(log_format: str = "text") -> None:
    """Set up the root logger once per process (a second app in tests keeps the first)."""
    root = logging.getLogger()
    if _configured:
        return
    if root.handlers and not _configured:
        # Someone (pytest, gunicorn's own logging) set handlers up: add the id to theirs.
        for handler in root.handlers:
            handler.addFilter(_RequestIdFilter())
            if log_format == "json":
                handler.setFormatter(JsonFormatter())
        _configured.append(log_format)
        return
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _configured.append(log_format)


class Throttle:
    """Lets a repeated message through once per `every` seconds and counts the rest."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._next = 0.0
        self._held = 0

    def allow(self) -> int | None:
        """None while held back; else how many were held back since the last one let through."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return None
            held, self._held = self._held, 0
            self._next = now + self.every
            return held
