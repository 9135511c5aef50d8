"""Whether the work at hand only reads or may write: set once per request, read by the access
checks (`companion.accounts.access`).

A request reads when its method is GET, HEAD or OPTIONS; everything else writes. Work outside
a request (CLI, worker) writes; the live server, which only sends what happened, reads
(`read_only`). So a role that may only look is refused every write without a route saying so.

Some GET pages do write (`companion.core.db.writes`), but only bookkeeping nobody asked for:
an audit entry for a view of personal data, join links made on first need, a participant's
attendance from their join link, a board or survey with its defaults on first visit. None
changes what the programme's people decided, so they stay reads; the reviewed list of them is
in tests/hardening/test_authz_roles.py and a new one fails there until it is looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from flask import Flask, g, request


class Mode(StrEnum):
    """Whether the work at hand only reads (GET pages) or may write (everything else)."""

    READ = "read"
    WRITE = "write"


_MODE: ContextVar[Mode] = ContextVar("kollega_access_mode", default=Mode.WRITE)

#: Methods that only read.
_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_mode() -> Mode:
    """The access mode of the work at hand."""
    return _MODE.get()


@contextmanager
def read_only() -> Iterator[None]:
    """Within this block every access check asks only for reading."""
    token = _MODE.set(Mode.READ)
    try:
        yield
    finally:
        _MODE.reset(token)


def init_app(app: Flask) -> None:
    """Set each request's access mode from its method."""

    @app.before_request
    def _choose_access_mode() -> None:
        reads = request.method in _READING_METHODS
        g.access_mode_token = _MODE.set(Mode.READ if reads else Mode.WRITE)

    @app.teardown_request
    def _restore_access_mode(_exc: BaseException | None) -> None:
        token = g.pop("access_mode_token", None)
        if token is not None:
            _MODE.reset(token)
