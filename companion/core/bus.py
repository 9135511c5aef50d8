"""The bus that carries live events from the process that wrote them to every live process.

One interface, two engines: `InProcessBus` when web and live run in one process (the embedded
`companion serve`), `RedisBus` (Redis pub/sub) when they are scaled out. The bus is a hint, not
the record: events are in the database first (`core.events`), so a message lost while Redis
was away is found again by the live server's catch-up from the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask

log = logging.getLogger(__name__)

#: A subscriber: called with (channel, message) for every message published.
Handler = Callable[[str, dict[str, Any]], None]

#: Delivered to every handler after the bus reconnected: messages may have been missed, so
#: receivers compare what they hold with the database.
RESYNC_CHANNEL = "bus:resync"


class Bus(Protocol):
    """Publish a message on a channel; every subscriber of every process receives it."""

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send `message` (JSON-serialisable) to subscribers; never raises for a lost link."""
        ...

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler(channel, message)` for each message; returns the unsubscribe."""
        ...

    def close(self) -> None:
        """Stop delivering and release connections."""
        ...


class _Handlers:
    """A thread-safe list of handlers that one failing handler cannot break."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[Handler] = []

    def add(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def remove() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return remove

    def __bool__(self) -> bool:
        return bool(self._handlers)

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(channel, message)
            except Exception:
                log.exception("Bus handler failed on %s", channel)


class InProcessBus:
    """Delivers synchronously to the handlers of this process (web and live in one process)."""

    def __init__(self) -> None:
        self._handlers = _Handlers()

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Call every handler now, in the publisher's thread."""
        self._handlers.deliver(channel, message)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; returns the function that removes it."""
        return self._handlers.add(handler)

    def close(self) -> None:
        """Nothing to release."""


class RedisBus:
    """Redis pub/sub on one Redis channel; each message names its live channel.

    One Redis channel (rather than one per board) keeps a live process to a single
    subscription however many boards it serves; every process receives every event and
    drops those of channels nobody there watches, which is cheap at our sizes.
    """

    def __init__(self, url: str, *, redis_channel: str = "kollega:live") -> None:
        import redis

        self.url = url
        self.redis_channel = redis_channel
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=10
        )
        self._handlers = _Handlers()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Publish; a Redis outage is logged, not raised (the event is already committed)."""
        payload = json.dumps({"c": channel, "m": message}, separators=(",", ":"))
        for attempt in range(2):
            try:
                self._client.publish(self.redis_channel, payload)
                return
            except Exception as exc:
                if attempt == 1:
                    log.warning("Could not publish on Redis (%s); live servers catch up", exc)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; the first one starts the listening thread."""
        remove = self._handlers.add(handler)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen_forever, name="redis-bus", daemon=True
                )
                self._thread.start()
        # Wait briefly for the subscription so a publish right after subscribe is not missed.
        self._ready.wait(timeout=5)
        return remove

    def _listen_forever(self) -> None:
        delay = 0.1
        first = True
        while not self._stopping.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
            try:
                pubsub.subscribe(self.redis_channel)
                self._ready.set()
                if not first:
                    log.info("Reconnected to Redis; asking receivers to resynchronise")
                    self._handlers.deliver(RESYNC_CHANNEL, {})
                first, delay = False, 0.1
                while not self._stopping.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item is None or item.get("type") != "message":
                        continue
                    self._dispatch(item["data"])
            except Exception as exc:
                if self._stopping.is_set():
                    break
                log.warning("Redis bus connection lost (%s); retrying in %.1fs", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing the Redis pubsub failed", exc_info=True)

    def _dispatch(self, raw: bytes | str) -> None:
        try:
            envelope = json.loads(raw)
            channel, message = envelope["c"], envelope["m"]
        except (ValueError, KeyError, TypeError):
            log.warning("Ignored a malformed bus message")
            return
        self._handlers.deliver(channel, message)

    def close(self) -> None:
        """Stop listening and close the connections."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._client.close()


def make_bus(redis_url: str) -> Bus:
    """A Redis bus when a URL is configured, otherwise the in-process bus."""
    return RedisBus(redis_url) if redis_url else InProcessBus()


def get_bus(app: Flask) -> Bus:
    """The app's bus, created on first use from `COMPANION_REDIS_URL`."""
    bus: Bus | None = app.extensions.get("companion.bus")
    if bus is None:
        config = app.extensions["companion.config"]
        bus = app.extensions.setdefault("companion.bus", make_bus(config.redis_url))
    return bus
