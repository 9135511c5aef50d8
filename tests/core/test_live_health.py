"""The live server's health answers, and subscriptions that read the database without the lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from companion.accounts.identity import Actor
from companion.core.db import Db
from companion.core.events import register_channel
from companion.core.live import LiveServer, issue_live_token
from companion.core.metrics import may_read_metrics
from tests.board.live_client import LiveTestClient
from tests.core.test_live import _write

#: Closed: snapshots of "liveslow" channels wait until it opens.
SNAPSHOT_GATE = threading.Event()
SNAPSHOT_GATE.set()
#: Set when a "liveslow" snapshot starts waiting at the gate.
SNAPSHOT_WAITING = threading.Event()


def _slow_snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    if not SNAPSHOT_GATE.is_set():
        SNAPSHOT_WAITING.set()
        SNAPSHOT_GATE.wait(timeout=20)
    return {"channel": channel}


register_channel("liveslow", authorize=lambda db, actor, channel: True, snapshot=_slow_snapshot)


@pytest.fixture()
def token(app: Flask, db: Db, make_facilitator: Callable[..., Any]) -> Callable[[list[str]], str]:
    """`token(channels)`: a live token for a facilitator."""
    facilitator = make_facilitator()

    def make(channels: list[str]) -> str:
        with app.app_context():
            return issue_live_token(db, Actor(facilitator=facilitator), channels)

    return make


@pytest.fixture()
def slow_server(app: Flask) -> Iterator[LiveServer]:
    """A live server whose database check is too rare to hide a lost event."""
    live = LiveServer(app, "127.0.0.1", 0, check_seconds=600).start_in_thread()
    SNAPSHOT_GATE.set()
    SNAPSHOT_WAITING.clear()
    yield live
    SNAPSHOT_GATE.set()
    live.stop()


def _http(live: LiveServer, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{live.port}{path}", timeout=5, **kwargs)


def test_health_ready_and_metrics_answer_beside_the_websocket(
    slow_server: LiveServer, token: Any
) -> None:
    health = _http(slow_server, "/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = _http(slow_server, "/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["database"] == "ok" and body["schema"]
    assert len(body["key"]) == 12  # asked from an allowed address: the key's fingerprint
    client = LiveTestClient(slow_server.url, token(["liveslow:1"]), "liveslow:1")
    client.connect()
    metrics = _http(slow_server, "/metrics")
    assert metrics.status_code == 200
    assert "kollega_live_connections" in metrics.text
    assert "kollega_live_subscriptions" in metrics.text
    assert _http(slow_server, "/elsewhere").status_code == 404
    client.close()


def test_readyz_says_not_ready_once_the_server_is_stopping(app: Flask) -> None:
    live = LiveServer(app, "127.0.0.1", 0).start_in_thread()
    try:
        live.stopping = True  # what stop() sets first, before connections close
        answer = _http(live, "/readyz")
        assert answer.status_code == 503 and answer.json()["stopping"] is True
    finally:
        live.stop()


def test_metrics_answer_allowed_addresses_or_the_token(app: Flask) -> None:
    config = app.extensions["companion.config"].model_copy(
        update={"metrics_allow": "10.1.0.0/16, ::1", "metrics_token": "scrape-secret-1234"}
    )
    assert may_read_metrics(config, "10.1.2.3", None)
    assert may_read_metrics(config, "::1", None)
    assert not may_read_metrics(config, "10.2.0.1", None)
    assert not may_read_metrics(config, "203.0.113.5", "Bearer wrong")
    assert may_read_metrics(config, "203.0.113.5", "Bearer scrape-secret-1234")
    assert not may_read_metrics(config, None, None)


def test_a_slow_snapshot_does_not_hold_up_events_for_those_already_subscribed(
    app: Flask, slow_server: LiveServer, token: Any
) -> None:
    channel = "liveslow:2"
    first = LiveTestClient(slow_server.url, token([channel]), channel)
    first.connect()
    SNAPSHOT_GATE.clear()
    second = LiveTestClient(slow_server.url, token([channel]), channel)
    joining = threading.Thread(target=second.connect, kwargs={"timeout": 20})
    joining.start()
    try:
        assert SNAPSHOT_WAITING.wait(timeout=5)
        _write(app, channel, 2)
        # The second client's snapshot is still waiting, and the first gets the events anyway.
        first.wait_for_seq(2)
        assert not SNAPSHOT_GATE.is_set()
    finally:
        SNAPSHOT_GATE.set()
        joining.join(timeout=20)
    second.wait_for_seq(2)
    assert second.snapshots[0]["seq"] == 0
    assert [e["seq"] for e in second.events] == [1, 2]  # read after its snapshot, once each
    _write(app, channel, 1)
    first.wait_for_seq(3)
    second.wait_for_seq(3)
    assert [e["seq"] for e in first.events] == [1, 2, 3]
    assert [e["seq"] for e in second.events] == [1, 2, 3]
    first.close()
    second.close()


def test_an_event_during_the_first_subscribers_snapshot_is_pushed_after_it(
    app: Flask, slow_server: LiveServer, token: Any
) -> None:
    channel = "liveslow:3"
    SNAPSHOT_GATE.clear()
    client = LiveTestClient(slow_server.url, token([channel]), channel)
    joining = threading.Thread(target=client.connect, kwargs={"timeout": 20})
    joining.start()
    try:
        assert SNAPSHOT_WAITING.wait(timeout=5)
        _write(app, channel, 1)  # on the bus while nobody on this server knows the seq yet
    finally:
        SNAPSHOT_GATE.set()
        joining.join(timeout=20)
    # The periodic database check is ten minutes away: the event comes from the bus message
    # kept while the snapshot was read.
    client.wait_for_seq(1, timeout=5)
    assert client.snapshots[0]["seq"] == 0
    assert [e["seq"] for e in client.events] == [1]
    client.close()
