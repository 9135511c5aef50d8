"""The production profile's processes: several web processes side by side, draining on
SIGTERM, `companion.wsgi:app` under gunicorn, and `companion check`."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.core.test_cli import COMPANION, _env, _free_port, _run

pytestmark = pytest.mark.slow


def _prepare_database(env: dict[str, str], instance: Path) -> None:
    """Migrate, and add what the models have and no migration yet (as the test suite does)."""
    from companion.core.db import Database, create_missing_schema

    assert _run(["db", "upgrade"], env).returncode == 0
    database = Database(f"sqlite:///{instance / 'kollega.sqlite'}")
    create_missing_schema(database)
    database.dispose()


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except requests.RequestException:  # not listening yet, or its workers still booting
            time.sleep(0.2)
    raise AssertionError("no answer in 60 s:\n" + log.read_text())


def test_two_web_processes_without_live_servers_start_side_by_side(tmp_path: Path) -> None:
    env = _env(tmp_path, COMPANION_SECRET_KEY="a-shared-secret-key-0123456789")
    _prepare_database(env, tmp_path)
    log = tmp_path / "web.log"
    ports = [_free_port(), _free_port()]
    processes = [
        _start([*COMPANION, "serve", "--no-worker", "--no-live", "--port", str(p)], env, log)
        for p in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_ready(port, process, log)
        assert "address already in use" not in log.read_text()
        assert "Live server on" not in log.read_text()  # neither opened a live port
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            assert process.wait(timeout=30) == 0


def test_sigterm_lets_a_request_under_way_finish_and_refuses_new_ones(tmp_path: Path) -> None:
    env = _env(tmp_path, COMPANION_SECRET_KEY="a-shared-secret-key-0123456789")
    port = _free_port()
    log = tmp_path / "serve.log"
    process = _start(
        [*COMPANION, "serve", "--no-worker", "--no-live", "--port", str(port)], env, log
    )
    try:
        _wait_ready(port, process, log)
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        # A request whose body is still arriving when SIGTERM comes.
        slow.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
            b"Content-Type: text/plain\r\n\r\n01234"
        )
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.05)
            except OSError:
                break  # the listening socket is closed
        else:
            raise AssertionError("still accepting connections 10 s after SIGTERM")
        assert process.poll() is None  # still serving the request under way
        slow.sendall(b"56789")
        answer = slow.recv(4096)
        assert answer.startswith(b"HTTP/1.1 4"), answer  # answered (a GET route), not cut
        slow.close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_gunicorn_serves_the_wsgi_app(tmp_path: Path) -> None:
    env = _env(tmp_path, COMPANION_SECRET_KEY="a-shared-secret-key-0123456789")
    _prepare_database(env, tmp_path)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "companion.wsgi:app",
    ]
    process = _start(command, env, log)
    try:
        _wait_ready(port, process, log)
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert "Kollega" in requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
    finally:
        process.terminate()
        assert process.wait(timeout=40) == 0


def test_check_reports_a_generated_key_and_an_unreachable_base_url(tmp_path: Path) -> None:
    env = _env(tmp_path, COMPANION_BASE_URL=f"http://127.0.0.1:{_free_port()}")
    _prepare_database(env, tmp_path)
    result = _run(["check", "--timeout", "2"], env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL  secret key") for line in lines), result.stdout
    assert any(line.startswith("ok    database") for line in lines), result.stdout
    assert any(line.startswith("FAIL  base url") for line in lines), result.stdout
    assert any(line.startswith("warn  workers") for line in lines), result.stdout


def test_check_passes_on_a_running_one_machine_deployment(tmp_path: Path) -> None:
    web_port = _free_port()
    env = _env(
        tmp_path,
        COMPANION_SECRET_KEY="a-shared-secret-key-0123456789",
        COMPANION_BASE_URL=f"http://127.0.0.1:{web_port}",
        COMPANION_LIVE_PORT=str(_free_port()),
    )
    _prepare_database(env, tmp_path)
    log = tmp_path / "serve.log"
    process = _start([*COMPANION, "serve", "--port", str(web_port)], env, log)
    try:
        _wait_ready(web_port, process, log)
        deadline = time.monotonic() + 20
        while True:
            result = _run(["check", "--timeout", "3"], env)
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the worker's first heartbeat may still be on its way
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ok    base url" in result.stdout and "same secret key" in result.stdout
        assert "ok    live url" in result.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
