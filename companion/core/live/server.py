"""The live server: serves `/ws` and pushes each channel's events to its subscribers in order.

The protocol is described in the package's docstring (`companion.core.live`). The server
remembers, per channel, the last seq it pushed; a jump means the bus lost something, and the
gap is read from the database before anything newer goes out. A periodic check against the
database covers a lost final event, and another checks that every connection may still watch
what it is subscribed to. Database calls run in a thread pool so the event loop never waits
on SQL. Long because it is one asyncio object whose connections, subscriptions and catch-up
state live on one event loop and change together; its frames, tokens and health answers are
sibling modules already.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from flask import Flask
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from companion.core.access_mode import read_only
from companion.core.bus import RESYNC_CHANNEL, get_bus
from companion.core.db import Db, get_database, reading
from companion.core.events import (
    authorize_channel,
    current_seq,
    current_seqs,
    events_since,
    snapshot_channel,
)
from companion.core.identity import actor_from_reference
from companion.core.live import health
from companion.core.live.frames import MAX_FRAME_BYTES, read_frame
from companion.core.live.tokens import LIVE_TOKEN_SECONDS, claim_live_token, lost_access
from companion.core.metrics import FANOUT_LAG, LIVE_CONNECTIONS, LIVE_SUBSCRIPTIONS
from companion.core.security import TokenError, unsign_timed

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a new connection has to authenticate.
AUTH_TIMEOUT_SECONDS = 10.0
#: Seconds between checks of the subscribed channels against the database: an event the bus
#: lost or dropped (Redis away or frozen) reaches clients within this.
CHECK_SECONDS = 2.0
#: Bus messages kept for a channel whose first subscriber is still reading its snapshot.
PENDING_LIMIT = 1000
#: Seconds between checks that every connection may still watch what it is subscribed to.
ACCESS_CHECK_SECONDS = 30.0


@dataclass(eq=False)
class _Client:
    """One connection: who it is and, per subscribed channel, the last seq it was sent."""

    ws: ServerConnection
    actor: dict[str, Any]
    allowed: frozenset[str]
    #: The actor reference as one string: connections per person are counted by it.
    person: str = ""
    #: channel -> last seq sent; a client receives event n only when it holds n - 1.
    seqs: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class _Channel:
    """The subscribers of one channel on this server and the last seq pushed to them."""

    subscribers: set[_Client] = field(default_factory=set)
    seq: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Subscriptions reading the database now (outside the lock).
    joining: int = 0
    #: Bus messages that came while `seq` was unknown (the first subscriber still reading).
    pending: list[dict[str, Any]] = field(default_factory=list)


def _frame(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _event_frame(channel: str, message: dict[str, Any]) -> str:
    return _frame({"type": "event", "channel": channel, **message})


def _observe_lag(message: dict[str, Any]) -> dict[str, Any]:
    """Record the time from the event's commit to now; the message without its timestamp."""
    at = message.get("at")
    if at is None:
        return message
    if isinstance(at, int | float):
        FANOUT_LAG.observe(max(time.time() - at, 0.0))
    return {k: v for k, v in message.items() if k != "at"}


class LiveServer:
    """Serves `/ws` for one app on host:port (port 0 picks a free one, see `.port`)."""

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        check_seconds: float = CHECK_SECONDS,
        access_check_seconds: float = ACCESS_CHECK_SECONDS,
        db_threads: int = 8,
        max_connections_per_person: int | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.check_seconds = check_seconds
        self.access_check_seconds = access_check_seconds
        self.channels: dict[str, _Channel] = {}
        self.clients: set[_Client] = set()
        self.max_connections_per_person = (
            max_connections_per_person
            or app.extensions["companion.config"].live_connections_per_person
        )
        #: Open connections per person (see `_Client.person`).
        self.per_person: dict[str, int] = {}
        self._executor = ThreadPoolExecutor(max_workers=db_threads, thread_name_prefix="live-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._stop: asyncio.Event | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        #: Set when the server is shutting down (/readyz then says so).
        self.stopping = False

    # -- running ----------------------------------------------------------------------------

    async def run(self, started: Callable[[], None] | None = None) -> None:
        """Serve until `stop()`; `started` is called once the port is bound."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._unsubscribe = get_bus(self.app).subscribe(self._from_bus)
        async with serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            compression=None,  # frames are small; deflate would cost ~100 KiB per connection
            max_size=MAX_FRAME_BYTES,
            max_queue=16,
        ) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1] if server.sockets else self.port
            checker = asyncio.ensure_future(self._check_periodically())
            if started is not None:
                started()
            await self._stop.wait()
            checker.cancel()
            if self._unsubscribe is not None:
                self._unsubscribe()
            server.close()
            await server.wait_closed()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Close every connection and stop serving (safe from any thread)."""
        self.stopping = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def start_in_thread(self) -> LiveServer:
        """Run in a background thread; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self.run(started=ready.set))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                log.exception("The live server stopped")

        self._thread = threading.Thread(target=main, name="live", daemon=True)
        self._thread.start()
        ready.wait(timeout=15)
        if failure:
            raise RuntimeError("the live server did not start") from failure[0]
        return self

    @property
    def url(self) -> str:
        """The ws:// address of this server (for tests and local runs)."""
        return f"ws://{self.host}:{self.port}/ws"

    # -- connections ----------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, req: Request) -> Response | None:
        """Let `/ws` through to the WebSocket handshake; answer health and metrics requests."""
        if req.path.split("?", 1)[0] == "/ws":
            return None
        return await health.answer(self, connection, req)

    async def _handle(self, ws: ServerConnection) -> None:
        client = await self._authenticate(ws)
        if client is None:
            return
        self.clients.add(client)
        LIVE_CONNECTIONS.inc()
        try:
            async for raw in ws:
                await self._on_message(client, raw)
        except ConnectionClosed:
            pass
        finally:
            LIVE_CONNECTIONS.dec()
            self.clients.discard(client)
            left = self.per_person.get(client.person, 1) - 1
            if left > 0:
                self.per_person[client.person] = left
            else:
                self.per_person.pop(client.person, None)
            for channel in list(client.seqs):
                self._leave(client, channel)

    async def _authenticate(self, ws: ServerConnection) -> _Client | None:
        try:
            raw = await asyncio.wait_for(ws.recv(), AUTH_TIMEOUT_SECONDS)
        except (TimeoutError, ConnectionClosed):
            await ws.close(4400, "auth expected")
            return None
        message = read_frame(raw)
        if message is None or message.type != "auth" or message.token is None:
            await self._refuse(ws, "auth-expected", "auth expected")
            return None
        try:
            with self.app.app_context():
                data = unsign_timed(message.token, "live", LIVE_TOKEN_SECONDS)
        except TokenError as exc:
            code = "token-expired" if exc.expired else "token-invalid"
            await self._refuse(ws, code, code)
            return None
        channels = data.get("c") if isinstance(data, dict) else None
        if not isinstance(channels, list) or not isinstance(data.get("a"), dict):
            await self._refuse(ws, "token-invalid", "token-invalid")
            return None
        person = json.dumps(data["a"], sort_keys=True, default=str)
        if self.per_person.get(person, 0) >= self.max_connections_per_person:
            await self._refuse(ws, "too-many-connections", "too many connections", 4429)
            return None
        # Counted before the database call below, so a burst cannot slip past the cap.
        self.per_person[person] = self.per_person.get(person, 0) + 1
        jti = data.get("j")
        if not await self._in_db(lambda db: claim_live_token(db, jti)):
            self.per_person[person] -= 1
            if not self.per_person[person]:
                del self.per_person[person]
            # A token opens one connection: a copied or replayed one is refused.
            await self._refuse(ws, "token-used", "token-used")
            return None
        client = _Client(ws, data["a"], frozenset(str(c) for c in channels), person)
        try:
            await ws.send(_frame({"type": "ready", "channels": sorted(client.allowed)}))
        except ConnectionClosed:
            self.per_person[person] -= 1
            if not self.per_person[person]:
                del self.per_person[person]
            return None
        return client

    async def _refuse(
        self, ws: ServerConnection, code: str, reason: str, close_code: int = 4401
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(_frame({"type": "error", "code": code}))
            await ws.close(close_code, reason)

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        message = read_frame(raw)
        if message is None:
            await client.ws.send(_frame({"type": "error", "code": "bad-message"}))
            return
        kind, channel = message.type, message.channel
        if kind == "ping":
            await client.ws.send(_frame({"type": "pong"}))
        elif kind == "auth":
            await client.ws.send(_frame({"type": "error", "code": "bad-message"}))
        elif channel is None or channel not in client.allowed:
            await client.ws.send(_frame({"type": "error", "code": "forbidden", "channel": channel}))
        elif kind == "subscribe":
            await self._subscribe(client, channel, message.since)
        elif kind == "unsubscribe":
            self._leave(client, channel)
        else:
            await client.ws.send(_frame({"type": "error", "code": "bad-message"}))

    def _leave(self, client: _Client, channel: str) -> None:
        if client.seqs.pop(channel, None) is not None:
            LIVE_SUBSCRIPTIONS.dec()
        state = self.channels.get(channel)
        if state is not None:
            state.subscribers.discard(client)
            self._forget_if_unwatched(channel, state)

    def _forget_if_unwatched(self, channel: str, state: _Channel) -> None:
        unwatched = not state.subscribers and not state.joining and not state.lock.locked()
        if unwatched and self.channels.get(channel) is state:
            del self.channels[channel]

    # -- database work in threads ------------------------------------------------------------

    async def _in_db(self, work: Callable[[Db], T]) -> T:
        def run() -> T:
            # Only reads: on SQLite a deferred transaction, so a slow snapshot never holds
            # the write lock that votes and notes wait for.
            # read_only: a live connection only watches, so an observer may watch too.
            with (
                reading(),
                read_only(),
                self.app.app_context(),
                get_database(self.app).session() as db,
            ):
                return work(db)

        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, run)

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(*args)` in the database thread pool (for the health answers)."""
        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, partial(work, *args))

    # -- subscribing -----------------------------------------------------------------------------

    async def _subscribe(self, client: _Client, channel: str, since: int | None) -> None:
        """Send the client what it lacks (events or a snapshot), then add it to the channel.

        The database is read outside the channel's lock, so a slow snapshot (a big board, many
        clients joining at once) never holds up events for those already subscribed: the
        snapshot's sequence number says which events it contains, and the events this server
        pushed since are read after it. Only the final step, adding the client, holds the lock.
        """
        state = self.channels.setdefault(channel, _Channel())
        state.joining += 1
        try:
            caught_up = await self._catch_up(client, channel, since, state)
            if caught_up is None:
                return
            frames, seq = caught_up
            async with state.lock:
                if state.seq is not None and state.seq > seq:
                    # Pushed while we read: rare, and a short read of a few events.
                    more = await self._in_db(lambda db: events_since(db, channel, seq))
                    if more is None:
                        self._send_all(client.ws, [_frame({"type": "resync", "channel": channel})])
                        return
                    frames += [_event_frame(channel, e.message()) for e in more]
                    seq = more[-1].seq if more else seq
                frames.append(_frame({"type": "subscribed", "channel": channel, "seq": seq}))
                self._send_all(client.ws, frames)
                if client.seqs.get(channel) is None:
                    LIVE_SUBSCRIPTIONS.inc()
                client.seqs[channel] = seq
                state.subscribers.add(client)
                if state.seq is None:
                    state.seq = seq
                    self._replay_pending(channel, state)
        finally:
            state.joining -= 1
            self._forget_if_unwatched(channel, state)

    async def _catch_up(
        self, client: _Client, channel: str, since: int | None, state: _Channel
    ) -> tuple[list[str], int] | None:
        """What the client lacks (frames and the seq they end at), read without the lock.

        None when the client may not watch the channel (it was told) or must resubscribe.
        """

        def read(db: Db) -> tuple[str, int, Any]:
            actor = actor_from_reference(db, client.actor)
            if actor is None or not authorize_channel(db, actor, channel):
                return "denied", 0, None
            if since is not None:
                events = events_since(db, channel, since)
                if events is not None:
                    return "events", since + len(events), [e.message() for e in events]
            # Read the seq before the data: an event that lands in between is then both
            # in the data and sent again, and events carry full state, so that is harmless.
            seq = current_seq(db, channel)
            return "snapshot", seq, snapshot_channel(db, actor, channel)

        kind, seq, payload = await self._in_db(read)
        if kind == "denied":
            await client.ws.send(_frame({"type": "error", "code": "forbidden", "channel": channel}))
            return None
        if kind == "snapshot":
            frames = [_frame({"type": "snapshot", "channel": channel, "seq": seq, "data": payload})]
        else:
            frames = [_event_frame(channel, e) for e in payload]
        # Events this server pushed after our read must reach this client too.
        for _ in range(3):
            pushed = state.seq
            if pushed is None or pushed <= seq:
                break
            more = await self._in_db(partial(events_since, channel=channel, seq=seq))
            if more is None:
                self._send_all(client.ws, [_frame({"type": "resync", "channel": channel})])
                return None
            frames += [_event_frame(channel, e.message()) for e in more]
            seq = more[-1].seq if more else seq
        return frames, seq

    def _replay_pending(self, channel: str, state: _Channel) -> None:
        """Bus messages that came while the first subscriber read: push what is newer."""
        pending, state.pending = state.pending, []
        for message in sorted(pending, key=lambda m: m["seq"]):
            assert state.seq is not None
            if message["seq"] > state.seq:
                self._spawn(self._push_in_order(state, channel, message))

    def _send_all(self, ws: ServerConnection, frames: list[str]) -> None:
        # broadcast() writes without waiting, so a slow client cannot hold the channel lock.
        for frame in frames:
            broadcast([ws], frame)

    # -- events from the bus -------------------------------------------------------------------

    def _from_bus(self, channel: str, message: dict[str, Any]) -> None:
        """Bus thread (or the writer's thread in-process): hand over to the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is shutting down
            loop.call_soon_threadsafe(self._on_event, channel, message)

    def _on_event(self, channel: str, message: dict[str, Any]) -> None:
        if channel == RESYNC_CHANNEL:
            self._spawn(self._check_all())
            return
        state = self.channels.get(channel)
        seq = message.get("seq")
        if state is None or not isinstance(seq, int):
            return  # nobody here watches the channel
        message = _observe_lag(message)
        if state.seq is None:
            # A first subscriber is still reading: its snapshot's seq decides (`_replay_pending`).
            if len(state.pending) < PENDING_LIMIT:
                state.pending.append(message)
            return
        if seq <= state.seq:
            return  # a duplicate, or already read from the database
        if seq == state.seq + 1 and not state.lock.locked():
            self._push(state, channel, message)
        else:
            self._spawn(self._push_in_order(state, channel, message))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_in_order(self, state: _Channel, channel: str, message: dict[str, Any]) -> None:
        async with state.lock:
            if state.seq is None or message["seq"] <= state.seq:
                return
            if message["seq"] > state.seq + 1:
                await self._fill_gap(state, channel)
            if state.seq is not None and message["seq"] == state.seq + 1:
                self._push(state, channel, message)

    async def _fill_gap(self, state: _Channel, channel: str) -> None:
        """Read what the bus did not bring from the database and push it (lock held)."""
        assert state.seq is not None
        since = state.seq
        events = await self._in_db(lambda db: events_since(db, channel, since))
        if events is None:
            # Too far behind to replay here: each client resubscribes with its own seq.
            frame = _frame({"type": "resync", "channel": channel})
            broadcast([c.ws for c in state.subscribers], frame)
            for client in state.subscribers:
                client.seqs.pop(channel, None)
            state.subscribers.clear()
            state.seq = None
            return
        for event in events:
            if event.seq == state.seq + 1:
                self._push(state, channel, event.message())

    def _push(self, state: _Channel, channel: str, message: dict[str, Any]) -> None:
        seq = message["seq"]
        frame = _event_frame(channel, message)
        targets = []
        for client in state.subscribers:
            if client.seqs.get(channel) == seq - 1:
                client.seqs[channel] = seq
                targets.append(client.ws)
        broadcast(targets, frame)
        state.seq = seq

    async def _check_periodically(self) -> None:
        loop = asyncio.get_running_loop()
        access_due = loop.time() + self.access_check_seconds
        while True:
            await asyncio.sleep(min(self.check_seconds, self.access_check_seconds))
            try:
                await self._check_all()
            except Exception:
                log.exception("Checking live channels against the database failed")
            if loop.time() >= access_due:
                access_due = loop.time() + self.access_check_seconds
                try:
                    await self._check_access()
                except Exception:
                    log.exception("Checking live connections' access failed")

    async def _check_access(self) -> None:
        """Drop what connections may no longer watch; close those whose actor is gone."""
        clients = [c for c in self.clients if c.seqs]
        if not clients:
            return
        subscriptions = [(c.actor, list(c.seqs)) for c in clients]
        lost = await self._in_db(lambda db: lost_access(db, subscriptions))
        for index, channels in lost.items():
            client = clients[index]
            for channel in channels if channels is not None else list(client.seqs):
                self._leave(client, channel)
                if channels is not None:
                    error = {"type": "error", "code": "forbidden", "channel": channel}
                    broadcast([client.ws], _frame(error))
            if channels is None:
                self._spawn(self._close_revoked(client.ws))

    async def _close_revoked(self, ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(_frame({"type": "error", "code": "access-revoked"}))
            await ws.close(4403, "access revoked")

    async def _check_all(self) -> None:
        """Push what the database has and the bus did not deliver (a lost last event)."""
        watched = [c for c, s in self.channels.items() if s.subscribers and s.seq is not None]
        if not watched:
            return
        latest = await self._in_db(lambda db: current_seqs(db, watched))
        for channel, seq in latest.items():
            state = self.channels.get(channel)
            if state is not None and state.seq is not None and seq > state.seq:
                async with state.lock:
                    if state.seq is not None and seq > state.seq:
                        await self._fill_gap(state, channel)
