"""A small synchronous WebSocket client for tests: auth, subscribe with resume, collect events."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class LiveTestClient:
    """Follows one channel like the browser client does: snapshot, events, resume by seq."""

    def __init__(self, url: str, token: str | Callable[[], str], channel: str) -> None:
        self.url = url
        #: A token, or (for clients that reconnect) a function giving a fresh one each time:
        #: a live token opens one connection.
        self.token = token
        self.channel = channel
        self.seq: int | None = None
        self.snapshots: list[dict[str, Any]] = []
        #: Every event frame received, in order (duplicates would show up here).
        self.events: list[dict[str, Any]] = []
        self.ws: ClientConnection | None = None

    def connect(self, timeout: float = 5.0) -> None:
        """Open, authenticate and subscribe (resuming from the last seq seen)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                # Entered as a context manager, as websockets 17 asks of direct connections.
                self.ws = contextlib.ExitStack().enter_context(
                    connect(self.url, open_timeout=2, compression=None)
                )
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        token = self.token() if callable(self.token) else self.token
        self.ws.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(self.ws.recv(timeout=timeout))
        assert ready["type"] == "ready", ready
        self.ws.send(json.dumps({"type": "subscribe", "channel": self.channel, "since": self.seq}))
        self.read_until(lambda m: m["type"] == "subscribed", timeout)

    def handle(self, message: dict[str, Any]) -> None:
        """Apply one frame as the browser client does."""
        if message["type"] == "snapshot":
            self.snapshots.append(message)
            self.seq = message["seq"]
        elif message["type"] == "event":
            assert self.seq is None or message["seq"] == self.seq + 1, (self.seq, message)
            self.events.append(message)
            self.seq = message["seq"]
        elif message["type"] == "resync":
            assert self.ws is not None
            self.ws.send(
                json.dumps({"type": "subscribe", "channel": self.channel, "since": self.seq})
            )

    def read_until(self, done: Any, timeout: float = 5.0) -> dict[str, Any]:
        """Read frames until `done(frame)` is true; returns that frame."""
        assert self.ws is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout}s; at seq {self.seq}")
            message = json.loads(self.ws.recv(timeout=left))
            self.handle(message)
            if done(message):
                return message

    def wait_for_seq(self, seq: int, timeout: float = 5.0) -> None:
        """Read until the client has seen `seq`."""
        if self.seq is not None and self.seq >= seq:
            return
        self.read_until(lambda _m: self.seq is not None and self.seq >= seq, timeout)

    def drain_until_closed(self, timeout: float = 5.0) -> None:
        """Read what is left until the server closes the connection."""
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            self.read_until(lambda _m: False, timeout)

    def close(self) -> None:
        """Close the connection."""
        if self.ws is not None:
            self.ws.close()
