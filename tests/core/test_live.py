"""The live server over real sockets: auth, snapshot, order, resume after a restart, gap filling."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from websockets.sync.client import connect

from companion.accounts.identity import Actor
from companion.core.db import Db, get_database
from companion.core.events import append_event, register_channel
from companion.core.live import LiveServer, issue_live_token
from tests.board.live_client import LiveTestClient


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    return actor.is_facilitator


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    return {"channel": channel, "who": actor.facilitator.id if actor.facilitator else None}


register_channel("livetest", authorize=_authorize, snapshot=_snapshot)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def token(app: Flask, db: Db, make_facilitator: Callable[..., Any]) -> Callable[[list[str]], str]:
    """`token(channels)`: a live token for a facilitator."""
    facilitator = make_facilitator()

    def make(channels: list[str]) -> str:
        with app.app_context():
            return issue_live_token(db, Actor(facilitator=facilitator), channels)

    return make


@pytest.fixture()
def server(app: Flask) -> Iterator[LiveServer]:
    """A live server in a thread on a free port."""
    live = LiveServer(app, "127.0.0.1", 0, check_seconds=0.3).start_in_thread()
    yield live
    live.stop()


def _write(app: Flask, channel: str, count: int, *, publish: bool = True) -> None:
    """Append `count` events, each in its own committed transaction."""
    database = get_database(app)
    for _ in range(count):
        if publish:
            with app.app_context(), database.session() as db:
                append_event(db, channel, "test.tick", {"n": 1})
                db.commit()
        else:
            with database.session() as db:  # no app: nothing goes on the bus
                append_event(db, channel, "test.tick", {"n": 1})
                db.commit()


def test_snapshot_then_events_in_order(app: Flask, server: LiveServer, token: Any) -> None:
    client = LiveTestClient(server.url, token(["livetest:1"]), "livetest:1")
    client.connect()
    assert client.snapshots[0]["seq"] == 0
    assert client.snapshots[0]["data"]["channel"] == "livetest:1"
    _write(app, "livetest:1", 5)
    client.wait_for_seq(5)
    assert [e["seq"] for e in client.events] == [1, 2, 3, 4, 5]
    assert client.events[0]["kind"] == "test.tick"
    client.close()


def test_resume_replays_only_what_was_missed(app: Flask, server: LiveServer, token: Any) -> None:
    _write(app, "livetest:2", 3)
    client = LiveTestClient(server.url, lambda: token(["livetest:2"]), "livetest:2")
    client.connect()
    assert client.seq == 3 and client.snapshots
    client.close()
    _write(app, "livetest:2", 4)
    client.connect()
    assert len(client.snapshots) == 1  # no new snapshot: the missed events were replayed
    assert [e["seq"] for e in client.events] == [4, 5, 6, 7]
    client.close()


def test_kill_the_server_mid_stream_and_catch_up(app: Flask, token: Any) -> None:
    port = _free_port()
    channel = "livetest:3"
    live = LiveServer(app, "127.0.0.1", port, check_seconds=0.3).start_in_thread()
    client = LiveTestClient(live.url, lambda: token([channel]), channel)
    client.connect()
    total = 60
    stopped = threading.Event()

    def write_across_the_stop() -> None:
        _write(app, channel, 20)
        stopped.wait(timeout=10)  # the rest is written while the server is down
        _write(app, channel, total - 20)

    writer = threading.Thread(target=write_across_the_stop)
    writer.start()
    client.wait_for_seq(10)
    live.stop()  # mid-stream: the writer goes on
    client.drain_until_closed(timeout=3)
    stopped.set()
    seen_before = client.seq
    assert seen_before is not None and seen_before < total
    live = LiveServer(app, "127.0.0.1", port, check_seconds=0.3).start_in_thread()
    try:
        client.connect()
        writer.join(timeout=20)
        client.wait_for_seq(total, timeout=5)
        seqs = [e["seq"] for e in client.events]
        assert seqs == list(range(1, total + 1))  # nothing missing, nothing twice
        assert len(client.snapshots) == 1
    finally:
        client.close()
        live.stop()


def test_events_lost_on_the_bus_are_read_from_the_database(
    app: Flask, server: LiveServer, token: Any
) -> None:
    channel = "livetest:4"
    client = LiveTestClient(server.url, lambda: token([channel]), channel)
    client.connect()
    _write(app, channel, 3, publish=False)  # the bus never hears of 1-3
    _write(app, channel, 1)  # 4 arrives: the server sees the jump and fills it in
    client.wait_for_seq(4, timeout=3)
    _write(app, channel, 1, publish=False)  # a lost last event: the periodic check finds it
    client.wait_for_seq(5, timeout=3)
    assert [e["seq"] for e in client.events] == [1, 2, 3, 4, 5]
    client.close()


def test_far_behind_gets_a_fresh_snapshot(app: Flask, server: LiveServer, token: Any) -> None:
    from companion.core import events

    channel = "livetest:5"
    client = LiveTestClient(server.url, lambda: token([channel]), channel)
    client.connect()
    client.close()
    _write(app, channel, 3, publish=False)
    limit = events.REPLAY_LIMIT
    events.REPLAY_LIMIT = 2
    try:
        client.connect()
    finally:
        events.REPLAY_LIMIT = limit
    assert client.seq == 3
    assert len(client.snapshots) == 2 and client.events == []


def test_tokens_and_channels_are_checked(app: Flask, server: LiveServer, token: Any) -> None:
    with connect(server.url) as ws:
        ws.send(json.dumps({"type": "auth", "token": "forged"}))
        assert json.loads(ws.recv(timeout=3)) == {"type": "error", "code": "token-invalid"}
    with connect(server.url) as ws:
        ws.send(json.dumps({"type": "subscribe", "channel": "livetest:1"}))
        assert json.loads(ws.recv(timeout=3)) == {"type": "error", "code": "auth-expected"}
    with connect(server.url) as ws:
        ws.send(json.dumps({"type": "auth", "token": token(["livetest:6"])}))
        assert json.loads(ws.recv(timeout=3))["type"] == "ready"
        ws.send(json.dumps({"type": "subscribe", "channel": "livetest:7", "since": None}))
        reply = json.loads(ws.recv(timeout=3))
        assert reply == {"type": "error", "code": "forbidden", "channel": "livetest:7"}
        ws.send("not json")
        assert json.loads(ws.recv(timeout=3))["code"] == "bad-message"


def test_other_paths_are_not_served(server: LiveServer) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        connect(server.url.replace("/ws", "/other"), open_timeout=3)


def test_many_clients_one_channel_no_duplicates(app: Flask, server: LiveServer, token: Any) -> None:
    channel = "livetest:8"
    clients = [LiveTestClient(server.url, token([channel]), channel) for _ in range(10)]
    for client in clients:
        client.connect()
    writers = [threading.Thread(target=_write, args=(app, channel, 10)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    for client in clients:
        client.wait_for_seq(30, timeout=5)
        assert [e["seq"] for e in client.events] == list(range(1, 31))
        client.close()


def test_serve_starts_the_live_server_with_a_short_switch_interval(app: Flask) -> None:
    import gc
    import sys

    from companion.core.live import SHARED_SWITCH_INTERVAL, start_live_in_thread

    config = app.extensions["companion.config"]
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    app.extensions["companion.config"] = config.model_copy(update={"live_port": _free_port()})
    try:
        stop = start_live_in_thread(app)
        try:
            assert sys.getswitchinterval() <= SHARED_SWITCH_INTERVAL
            assert gc.get_freeze_count() > 0
        finally:
            stop()
    finally:
        app.extensions["companion.config"] = config
        sys.setswitchinterval(interval)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_settle_heap_freezes_the_startup_heap_and_makes_full_collections_rarer() -> None:
    import gc

    from companion.core.live import GC_FULL_EVERY, settle_heap

    thresholds = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000
        young, middle, full = gc.get_threshold()
        assert (young, middle) == thresholds[:2] and full >= GC_FULL_EVERY
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


CLOSED_GATES: set[str] = set()
register_channel(
    "livegate",
    authorize=lambda db, actor, channel: channel not in CLOSED_GATES,
    snapshot=_snapshot,
)


@pytest.fixture()
def checking(app: Flask) -> Iterator[LiveServer]:
    """A live server that checks every connection's access three times a second."""
    live = LiveServer(
        app, "127.0.0.1", 0, check_seconds=0.3, access_check_seconds=0.3
    ).start_in_thread()
    yield live
    live.stop()


def _closed_with(client: LiveTestClient) -> tuple[list[dict[str, Any]], int | None]:
    """The frames a client gets until the server closes it, and the close code."""
    from websockets.exceptions import ConnectionClosed

    assert client.ws is not None
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.append(json.loads(client.ws.recv(timeout=5)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


def test_a_revoked_join_link_closes_the_open_connection(
    app: Flask,
    db: Db,
    checking: LiveServer,
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
) -> None:
    from companion.sessions.join_links import join_link_for, revoke_join_link

    participant = make_participant(make_programme())
    with app.app_context():
        join_link_for(db, participant)
        db.commit()
        token = issue_live_token(db, Actor(participant=participant), ["livegate:1"])
        db.rollback()  # end the read, so that our write below is not on a stale snapshot
    client = LiveTestClient(checking.url, token, "livegate:1")
    client.connect()
    _write(app, "livegate:1", 1)
    client.wait_for_seq(1)
    with app.app_context():
        revoke_join_link(db, participant)
        db.commit()
    frames, code = _closed_with(client)
    assert {"type": "error", "code": "access-revoked"} in frames
    assert code == 4403


def test_a_deactivated_facilitator_is_disconnected_and_others_are_not(
    app: Flask, db: Db, checking: LiveServer, make_facilitator: Callable[..., Any]
) -> None:
    leaving, staying = make_facilitator(), make_facilitator()
    with app.app_context():
        tokens = [
            issue_live_token(db, Actor(facilitator=f), ["livetest:20"]) for f in (leaving, staying)
        ]
    gone, kept = (LiveTestClient(checking.url, t, "livetest:20") for t in tokens)
    gone.connect()
    kept.connect()
    with app.app_context():
        db.get(type(leaving), leaving.id).active = False
        db.commit()
    frames, code = _closed_with(gone)
    assert code == 4403 and frames[-1]["code"] == "access-revoked"
    _write(app, "livetest:20", 1)
    kept.wait_for_seq(1)
    assert [e["seq"] for e in kept.events] == [1]
    kept.close()


def test_a_channel_one_may_no_longer_watch_stops_and_the_others_go_on(
    app: Flask, db: Db, checking: LiveServer, token: Any
) -> None:
    grant = token(["livegate:2", "livegate:3"])
    client = LiveTestClient(checking.url, grant, "livegate:2")
    client.connect()
    assert client.ws is not None
    client.ws.send(json.dumps({"type": "subscribe", "channel": "livegate:3", "since": None}))
    client.read_until(lambda m: m["type"] == "subscribed" and m["channel"] == "livegate:3")
    CLOSED_GATES.add("livegate:2")
    try:
        denied = client.read_until(lambda m: m["type"] == "error", timeout=5)
        assert denied == {"type": "error", "code": "forbidden", "channel": "livegate:2"}
        _write(app, "livegate:2", 1)
        _write(app, "livegate:3", 1)
        event = client.read_until(lambda m: m["type"] == "event", timeout=5)
        assert event["channel"] == "livegate:3"
        client.ws.send(json.dumps({"type": "ping"}))
        assert client.read_until(lambda m: m["type"] == "pong")["type"] == "pong"
    finally:
        CLOSED_GATES.discard("livegate:2")
        client.close()
