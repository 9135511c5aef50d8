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


@pytest.mark.redis
def test_publishing_never_waits_for_a_frozen_redis(tmp_path: Path) -> None:
    import os
    import signal

    port = _free_port()
    server = _start_redis(port, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    sender, receiver = RedisBus(url), RedisBus(url)
    inbox = Inbox()
    receiver.subscribe(inbox)
    try:
        sender.publish("board:1", {"seq": 1})
        inbox.wait_for(1)
        os.kill(server.pid, signal.SIGSTOP)  # frozen: connections hang, nothing is refused
        for seq in range(2, 202):
            sender.publish("board:1", {"seq": seq})
        # Every call returned with its message still queued or on the (hanging) wire: the
        # callers never waited for Redis.
        assert sender.pending > 0
        # The publisher thread gives up on each try after half a second and drops what
        # queued meanwhile.
        assert sender.flush(timeout=10)
        assert sender.dropped >= 1
        os.kill(server.pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sender.reconnects == 0:
            sender.publish("board:1", {"seq": 999})
            sender.flush(timeout=2)
            time.sleep(0.1)
        assert sender.reconnects >= 1
        assert ("board:1", {"seq": 999}) in inbox.wait_for(2)
    finally:
        os.kill(server.pid, signal.SIGCONT)
        sender.close()
        receiver.close()
        server.terminate()
        server.wait(timeout=5)


@pytest.mark.redis
def test_deployments_sharing_a_redis_do_not_see_each_others_events(redis_url: str) -> None:
    ours, theirs, listener = (
        RedisBus(redis_url, namespace="kollega:ours"),
        RedisBus(redis_url, namespace="kollega:theirs"),
        RedisBus(redis_url, namespace="kollega:ours"),
    )
    inbox = Inbox()
    listener.subscribe(inbox)
    try:
        theirs.publish("board:1", {"seq": 1, "from": "theirs"})
        ours.publish("board:1", {"seq": 1, "from": "ours"})
        assert ours.flush() and theirs.flush()
        assert inbox.wait_for(1) == [("board:1", {"seq": 1, "from": "ours"})]
        time.sleep(0.2)
        assert len(inbox.items) == 1
    finally:
        for bus in (ours, theirs, listener):
            bus.close()


def test_the_namespace_follows_the_database_not_its_password(tmp_path: Path) -> None:
    from companion.config import load_config

    def namespace(**settings: str) -> str:
        config = load_config({"instance_path": tmp_path, "secret_key": "k" * 20, **settings})
        return config.bus_namespace

    one = namespace(database_url="postgresql://kollega:one@db.example/kollega")
    assert one == namespace(database_url="postgresql://kollega:two@db.example/kollega")
    assert one != namespace(database_url="postgresql://kollega:one@db.example/other")
    assert namespace(redis_namespace="kollega:staging") == "kollega:staging"
