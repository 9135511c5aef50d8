"""Two `companion live` processes joined by a real Redis: a client on each sees the other's vote."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from companion.core.bus import RedisBus
from companion.core.db import get_database
from tests.board.conftest import BoardWorld
from tests.board.live_client import LiveTestClient

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_live(app: Flask, redis_url: str, port: int, instance: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": get_database(app).url,
        "COMPANION_SECRET_KEY": app.config["SECRET_KEY"],
        "COMPANION_REDIS_URL": redis_url,
        "COMPANION_INSTANCE_PATH": str(instance),
    }
    command = [sys.executable, "-c", "from companion.cli import main; main()", "live"]
    log = instance / f"live-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    # Generous: a loaded machine takes a while to import the app in a fresh interpreter.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.05)
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError("companion live did not start")


@pytest.fixture()
def redis_writes(app: Flask, redis_url: str) -> Iterator[None]:
    """The web app publishes on Redis for this test (as a scaled-out web process does)."""
    original = app.extensions["companion.bus"]
    bus = RedisBus(redis_url, namespace=app.extensions["companion.config"].bus_namespace)
    app.extensions["companion.bus"] = bus
    try:
        yield
    finally:
        app.extensions["companion.bus"] = original
        bus.close()


def test_a_client_on_each_live_process_sees_the_others_vote(
    app: Flask, world: BoardWorld, redis_url: str, redis_writes: None, tmp_path: Path
) -> None:
    ports = [_free_port(), _free_port()]
    processes = [_start_live(app, redis_url, port, tmp_path) for port in ports]
    try:
        board = world.alice_client.get(world.board_url).get_json()["board"]
        channel = board["channel"]
        topic = world.alice_client.post(
            f"/api/v1/boards/{board['id']}/topics", json={"title": "Pricing"}
        ).get_json()["topics"][0]["id"]
        clients = []
        for name, port in (("alice", ports[0]), ("bob", ports[1])):
            grant = getattr(world, f"{name}_client").get(f"/api/v1/live/token?channel={channel}")
            assert grant.status_code == 200
            client = LiveTestClient(f"ws://127.0.0.1:{port}/ws", grant.get_json()["token"], channel)
            client.connect()
            assert client.seq == 1
            clients.append(client)
        alice, bob = clients

        assert world.alice_client.post(f"/api/v1/topics/{topic}/vote").status_code == 200
        assert world.bob_client.post(f"/api/v1/topics/{topic}/vote").status_code == 200
        for client in clients:
            client.wait_for_seq(3, timeout=5)
            assert [e["kind"] for e in client.events] == ["vote.cast", "vote.cast"]
            assert client.events[-1]["data"]["vote"]["votes"] == 2
        alice.close()
        bob.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
