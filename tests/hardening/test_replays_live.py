"""The live server against bad frames and too many connections (issue 13, items 1 and 3),
over real WebSocket connections."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from companion.core.live import LiveServer
from tests.hardening.conftest import Site


@pytest.fixture()
def live(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app, "127.0.0.1", 0, check_seconds=0.5).start_in_thread()
    try:
        yield server
    finally:
        server.stop()


def _token(site: Site, who: str = "participant") -> str:
    channel = f"board:{site.ids['board']}"
    response = site.clients[who].get(f"/api/v1/live/token?channel={channel}")
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["token"]
    return token


def _open(server: LiveServer, token: str) -> tuple[ClientConnection, dict[str, Any]]:
    # Entered as a context manager, as websockets asks of direct connections; closed by the
    # test (or when the stack is collected).
    ws = contextlib.ExitStack().enter_context(connect(server.url, open_timeout=3, compression=None))
    ws.send(json.dumps({"type": "auth", "token": token}))
    return ws, json.loads(ws.recv(timeout=3))


def _still_answers(ws: ClientConnection) -> bool:
    ws.send(json.dumps({"type": "ping"}))
    return json.loads(ws.recv(timeout=3)) == {"type": "pong"}


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "subscribe", "channel": "board:1", "since": True},
        {"type": "subscribe", "channel": "board:1", "since": 2**64},
        {"type": "subscribe", "channel": "board:1", "since": -1},
        {"type": "subscribe", "channel": "board:1", "since": "3"},
        {"type": "subscribe", "channel": ["board:1"]},
        {"type": 7},
        [1, 2, 3],
    ],
)
def test_frames_of_the_wrong_types_are_bad_messages(
    live: LiveServer, site: Site, frame: Any
) -> None:
    ws, ready = _open(live, _token(site))
    with ws:
        assert ready["type"] == "ready"
        ws.send(json.dumps(frame))
        assert json.loads(ws.recv(timeout=3)) == {"type": "error", "code": "bad-message"}
        assert _still_answers(ws)


def test_deeply_nested_frames_are_bad_messages(live: LiveServer, site: Site) -> None:
    ws, _ready = _open(live, _token(site))
    with ws:
        ws.send("[" * 5000 + "]" * 5000)
        assert json.loads(ws.recv(timeout=3))["code"] == "bad-message"
        ws.send('{"type": "ping", "x": ' + "[" * 8 + "]" * 8 + "}")
        assert json.loads(ws.recv(timeout=3))["code"] == "bad-message"
        assert _still_answers(ws)
    # Not even as the first frame: the server refuses it as a failed sign-in, not a crash.
    with connect(live.url, open_timeout=3) as ws:
        ws.send("[" * 5000 + "]" * 5000)
        assert json.loads(ws.recv(timeout=3)) == {"type": "error", "code": "auth-expected"}


def test_an_oversized_frame_closes_with_message_too_big(live: LiveServer, site: Site) -> None:
    ws, _ready = _open(live, _token(site))
    with ws:
        ws.send(json.dumps({"type": "ping", "pad": "x" * 64 * 1024}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=3)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_token_opens_one_connection(live: LiveServer, site: Site) -> None:
    token = _token(site)
    first, ready = _open(live, token)
    with first:
        assert ready["type"] == "ready"
        again, refused = _open(live, token)
        with again:
            assert refused == {"type": "error", "code": "token-used"}
            with pytest.raises(ConnectionClosed):
                again.recv(timeout=3)
        assert _still_answers(first)


def test_connections_per_person_are_capped(app: Flask, site: Site, config_changed: Any) -> None:
    config_changed(live_connections_per_person=3)
    server = LiveServer(app, "127.0.0.1", 0).start_in_thread()
    try:
        opened = [_open(server, _token(site)) for _ in range(3)]
        assert all(ready["type"] == "ready" for _ws, ready in opened)
        extra, refused = _open(server, _token(site))
        assert refused == {"type": "error", "code": "too-many-connections"}
        with pytest.raises(ConnectionClosed) as closed:
            extra.recv(timeout=3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        # Someone else is not held back by it, and a closed connection frees its place.
        other, ready = _open(server, _token(site, "facilitator"))
        assert ready["type"] == "ready"
        other.close()
        opened[0][0].close()
        again = None
        for _attempt in range(50):
            again, ready = _open(server, _token(site))
            if ready["type"] == "ready":
                break
            again.close()
        assert ready["type"] == "ready"
        for ws, _ready in opened[1:]:
            ws.close()
        if again is not None:
            again.close()
    finally:
        server.stop()


def test_subscriptions_are_bounded_by_the_token(live: LiveServer, site: Site) -> None:
    many = "&".join(f"channel=board:{n}" for n in range(1, 22))
    response = site.clients["participant"].get(f"/api/v1/live/token?{many}")
    assert response.status_code == 422
    ws, _ready = _open(live, _token(site))
    with ws:
        ws.send(json.dumps({"type": "subscribe", "channel": "board:999"}))
        assert json.loads(ws.recv(timeout=3))["code"] == "forbidden"
