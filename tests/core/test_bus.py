"""The bus: in-process delivery, Redis pub/sub between processes, and Redis reconnects."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from companion.core.bus import RESYNC_CHANNEL, InProcessBus, RedisBus, make_bus


class Inbox:
    """Collects what a handler receives."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.arrived = threading.Condition()

    def __call__(self, channel: str, message: dict[str, Any]) -> None:
        with self.arrived:
            self.items.append((channel, message))
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.items) >= count, timeout)
            return list(self.items)


def test_in_process_delivers_to_every_handler_until_unsubscribed() -> None:
    bus = InProcessBus()
    first, second = Inbox(), Inbox()
    stop_first = bus.subscribe(first)
    bus.subscribe(second)

    def broken(_channel: str, _message: dict[str, Any]) -> None:
        raise RuntimeError("one bad handler must not stop the others")

    bus.subscribe(broken)
    bus.publish("board:1", {"seq": 1})
    stop_first()
    bus.publish("board:1", {"seq": 2})
    assert first.items == [("board:1", {"seq": 1})]
    assert second.items == [("board:1", {"seq": 1}), ("board:1", {"seq": 2})]
    bus.close()


def test_make_bus_picks_the_engine() -> None:
    assert isinstance(make_bus(""), InProcessBus)
    assert isinstance(make_bus("redis://127.0.0.1:1/0"), RedisBus)


@pytest.mark.redis
def test_redis_carries_messages_between_buses(redis_url: str) -> None:
    sender, receiver = RedisBus(redis_url), RedisBus(redis_url)
    inbox = Inbox()
    receiver.subscribe(inbox)
    try:
        for seq in range(1, 4):
            sender.publish("board:7", {"seq": seq, "data": {"title": "Hinnoittelu"}})
        items = inbox.wait_for(3)
        assert [m["seq"] for _c, m in items] == [1, 2, 3]
        assert items[0] == ("board:7", {"seq": 1, "data": {"title": "Hinnoittelu"}})
    finally:
        sender.close()
        receiver.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary is not None
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.redis
def test_redis_bus_reconnects_and_asks_for_a_resync(redis_url: str, tmp_path: Path) -> None:
    port = _free_port()
    server = _start_redis(port, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    sender, receiver = RedisBus(url), RedisBus(url)
    inbox = Inbox()
    receiver.subscribe(inbox)
    try:
        sender.publish("board:1", {"seq": 1})
        inbox.wait_for(1)
        server.terminate()
        server.wait(timeout=5)
        sender.publish("board:1", {"seq": 2})  # lost with Redis; logged, not raised
        server = _start_redis(port, tmp_path)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and (RESYNC_CHANNEL, {}) not in inbox.items:
            time.sleep(0.05)
        assert (RESYNC_CHANNEL, {}) in inbox.items
        sender.publish("board:1", {"seq": 3})
        items = inbox.wait_for(3)
        assert ("board:1", {"seq": 3}) in items
    finally:
        sender.close()
        receiver.close()
        server.terminate()
        server.wait(timeout=5)
