"""The bus that carries live events from the process that wrote them to every live process.

One interface, two engines: `InProcessBus` when web and live run in one process (the embedded
`companion serve`), `RedisBus` (Redis pub/sub) when they are scaled out. The bus is a hint, not
the record: events are in the database first (`core.events`), so a message lost while Redis
was away (or dropped because it hung) is found again by the live server's catch-up from the
database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask

from companion.core.logs import Throttle
from companion.core.metrics import BUS_DROPPED, REDIS_RECONNECTS

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


#: Live events waiting in a process to go out on Redis; beyond this they are dropped.
PUBLISH_QUEUE = 10_000
#: Seconds the publisher waits for Redis to connect or answer: a frozen Redis holds only the
#: publishing thread, never a request, and only this long per try. What queued up during a
#: failed try is dropped with it; the live servers read it from the database within seconds.
PUBLISH_TIMEOUT = 0.5
#: Seconds between two warnings about the same Redis trouble.
WARN_EVERY = 30.0


class RedisBus:
    """Redis pub/sub on one Redis channel per deployment; each message names its live channel.

    One Redis channel (rather than one per board) keeps a live process to a single
    subscription however many boards it serves; every process receives every event and
    drops those of channels nobody there watches, which is cheap at our sizes. The channel is
    `<namespace>:live`: pub/sub ignores the database number, so deployments sharing a Redis
    are kept apart by the namespace.

    Publishing never waits for Redis: `publish` puts the message on a bounded queue that a
    thread sends with short timeouts. When Redis is away, slow or frozen, messages are dropped
    (counted, with one warning per WARN_EVERY): the database's event log is the record, and
    live servers read what the bus did not bring.
    """

    def __init__(self, url: str, *, namespace: str = "kollega") -> None:
        import redis

        self.url = url
        self.namespace = namespace
        self.redis_channel = f"{namespace}:live"
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=10
        )
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=PUBLISH_TIMEOUT, socket_timeout=PUBLISH_TIMEOUT
        )
        self._handlers = _Handlers()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._outbox: queue.Queue[str | None] = queue.Queue(maxsize=PUBLISH_QUEUE)
        self._publish_thread: threading.Thread | None = None
        self._warn_publish = Throttle(WARN_EVERY)
        self._warn_listen = Throttle(WARN_EVERY)
        #: Messages dropped and reconnections made, for tests and metrics.
        self.dropped = 0
        self.reconnects = 0
        #: Whether the subscription is up (for readiness).
        self.listening = False

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue for Redis and return at once; a full queue drops the message (logged)."""
        payload = json.dumps({"c": channel, "m": message}, separators=(",", ":"))
        self._start_publisher()
        try:
            self._outbox.put_nowait(payload)
        except queue.Full:
            self._drop("the publish queue is full")

    @property
    def pending(self) -> int:
        """Messages queued or being sent now."""
        return self._outbox.unfinished_tasks

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued message was sent or dropped (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self.pending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _start_publisher(self) -> None:
        if self._publish_thread is not None:
            return
        with self._lock:
            if self._publish_thread is None:
                self._publish_thread = threading.Thread(
                    target=self._publish_forever, name="redis-bus-publish", daemon=True
                )
                self._publish_thread.start()

    def _publish_forever(self) -> None:
        failing = False
        while True:
            payload = self._outbox.get()
            try:
                if payload is None:
                    return
                try:
                    self._publisher.publish(self.redis_channel, payload)
                except Exception as exc:
                    reason = f"{exc.__class__.__name__}: {exc}"
                    self._drop(reason)
                    # What queued up while this try waited is stale by now, and trying each
                    # would cost PUBLISH_TIMEOUT again: drop it. Newer messages are tried.
                    if self._drop_queued(reason):
                        return
                    failing = True
                    continue
                if failing:
                    log.info("Publishing on Redis again")
                    self.reconnects += 1
                    REDIS_RECONNECTS.inc()
                    failing = False
            finally:
                self._outbox.task_done()

    def _drop_queued(self, reason: str) -> bool:
        """Drop every message queued now; True if the stop signal was among them."""
        while True:
            try:
                payload = self._outbox.get_nowait()
            except queue.Empty:
                return False
            self._outbox.task_done()
            if payload is None:
                return True
            self._drop(reason)

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        BUS_DROPPED.inc()
        held = self._warn_publish.allow()
        if held is not None:
            more = f" ({held} more since the last warning)" if held else ""
            log.warning(
                "A live event was not published on Redis: %s%s; live servers "
                "read it from the database",
                reason,
                more,
            )

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
                self.listening = True
                self._ready.set()
                if not first:
                    log.info("Reconnected to Redis; asking receivers to resynchronise")
                    self.reconnects += 1
                    REDIS_RECONNECTS.inc()
                    self._handlers.deliver(RESYNC_CHANNEL, {})
                first, delay = False, 0.1
                while not self._stopping.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item is None or item.get("type") != "message":
                        continue
                    self._dispatch(item["data"])
            except Exception as exc:
                self.listening = False
                if self._stopping.is_set():
                    break
                held = self._warn_listen.allow()
                if held is not None:
                    log.warning(
                        "Redis bus connection lost (%s); retrying every few seconds%s",
                        exc,
                        f" ({held} more failures since the last warning)" if held else "",
                    )
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
        """Send what is queued (briefly), stop listening and close the connections."""
        self._stopping.set()
        if self._publish_thread is not None:
            self.flush(timeout=1.0)
            with contextlib.suppress(queue.Full):
                self._outbox.put_nowait(None)
            self._publish_thread.join(timeout=2)
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._client.close()
        self._publisher.close()


def make_bus(redis_url: str, namespace: str = "kollega") -> Bus:
    """A Redis bus when a URL is configured, otherwise the in-process bus."""
    return RedisBus(redis_url, namespace=namespace) if redis_url else InProcessBus()


def get_bus(app: Flask) -> Bus:
    """The app's bus, created on first use from `COMPANION_REDIS_URL`."""
    bus: Bus | None = app.extensions.get("companion.bus")
    if bus is None:
        config = app.extensions["companion.config"]
        bus = app.extensions.setdefault(
            "companion.bus", make_bus(config.redis_url, config.bus_namespace)
        )
    return bus
