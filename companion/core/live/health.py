"""The live server's plain HTTP answers beside `/ws`: `/healthz`, `/readyz` and `/metrics`.

A proxy (nginx) or an orchestrator asks these: `/healthz` says the process's event loop runs,
`/readyz` that it can serve (the database answers at this code's schema, the bus is
connected, and it is not shutting down), `/metrics` gives its Prometheus figures to the
addresses allowed to read them.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from companion.core.bus import RedisBus, get_bus
from companion.core.db import get_database, schema_is_current
from companion.core.metrics import (
    CONTENT_TYPE_LATEST,
    key_fingerprint,
    may_read_metrics,
    render_metrics,
)

if TYPE_CHECKING:
    from companion.core.live.server import LiveServer

#: Seconds /readyz waits for the database before answering "not ready".
READY_TIMEOUT = 2.0


def _json(status: int, body: dict[str, Any]) -> Response:
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ]
    )
    reason = "OK" if status == 200 else "Service Unavailable"
    return Response(status, reason, headers, payload)


def _remote(connection: ServerConnection) -> str | None:
    address = connection.remote_address
    return str(address[0]) if address else None


async def answer(server: LiveServer, connection: ServerConnection, request: Request) -> Response:
    """The answer to a plain HTTP request that is not the WebSocket handshake."""
    path = request.path.split("?", 1)[0]
    config = server.app.extensions["companion.config"]
    if path == "/healthz":
        return _json(200, {"status": "ok", "connections": len(server.clients)})
    if path == "/readyz":
        allowed = may_read_metrics(
            config, _remote(connection), request.headers.get("Authorization")
        )
        return await _ready(server, allowed)
    if path == "/metrics":
        if not may_read_metrics(config, _remote(connection), request.headers.get("Authorization")):
            return connection.respond(404, "Not found\n")
        body = render_metrics()
        headers = Headers(
            [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))]
        )
        return Response(200, "OK", headers, body)
    return connection.respond(404, "Not found\n")


async def _ready(server: LiveServer, show_key: bool) -> Response:
    checks: dict[str, Any] = {}
    ready = True
    if server.stopping:
        checks["stopping"] = True
        ready = False

    started = time.monotonic()
    try:
        current, revision = await asyncio.wait_for(
            server.in_thread(schema_is_current, get_database(server.app)), READY_TIMEOUT
        )
        checks["database"] = "ok"
        checks["schema"] = revision
        if not current:
            checks["schema_current"] = False
            ready = False
    except Exception as exc:
        checks["database"] = f"unavailable: {exc.__class__.__name__}"
        ready = False
    checks["database_ms"] = round((time.monotonic() - started) * 1000, 1)
    bus = get_bus(server.app)
    if isinstance(bus, RedisBus):
        checks["redis"] = "ok" if bus.listening else "reconnecting"
        # Without Redis this process still serves: it reads events from the database.
    if show_key:
        checks["key"] = key_fingerprint(server.app.config["SECRET_KEY"])
    checks["status"] = "ready" if ready else "not ready"
    return _json(200 if ready else 503, checks)
