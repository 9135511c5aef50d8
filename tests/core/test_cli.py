"""The `companion` command, run as a real process with its own instance folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

COMPANION = [sys.executable, "-m", "companion.cli"]


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env["COMPANION_INSTANCE_PATH"] = str(instance)
    env["COMPANION_DEFAULT_LANGUAGE"] = "en"  # messages the tests read
    env.update(extra)
    return env


def _run(
    args: list[str], env: dict[str, str], **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        COMPANION + args, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_demo_creates_once_and_prints_links(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = _run(["demo", "--no-serve"], env)
    assert first.returncode == 0, first.stderr
    assert "Kollega demo created." in first.stdout
    assert "http://127.0.0.1:5000/sign-in" in first.stdout
    assert first.stdout.count("/j/") == 3
    assert (tmp_path / "kollega.sqlite").exists()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # private to the owner
    second = _run(["demo", "--no-serve"], env)
    assert second.returncode == 0
    assert "already exists" in second.stdout
    password_line = next(line for line in first.stdout.splitlines() if "Password:" in line)
    assert password_line in second.stdout  # the same account, still usable


def test_invalid_configuration_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], _env(tmp_path, COMPANION_BASE_URL="kollega.example"))
    assert result.returncode != 0
    assert "COMPANION_BASE_URL" in result.stderr
    assert "http(s) URL" in result.stderr
    smtp = _run(["db", "upgrade"], _env(tmp_path, COMPANION_SMTP_URL="mail.example.org"))
    assert "COMPANION_SMTP_URL" in smtp.stderr


def test_facilitator_create_and_token(tmp_path: Path) -> None:
    env = _env(tmp_path)
    created = _run(
        [
            "facilitator",
            "create",
            "--email",
            "Fia@Example.org",
            "--name",
            "Fia",
            "--organisation",
            "VSY",
            "--admin",
        ],
        env,
        input="long enough password\nlong enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created fia@example.org in VSY." in created.stdout
    # The same strength check as the pages: zxcvbn, with the person's own words.
    weak = _run(
        ["facilitator", "create", "--email", "weak@example.org", "--organisation", "VSY"],
        env,
        input="password1234\npassword1234\n",
    )
    assert weak.returncode != 0
    assert "This password is too easy to guess." in weak.stderr
    duplicate = _run(
        ["facilitator", "create", "--email", "fia@example.org"],
        env,
        input="long enough password\nlong enough password\n",
    )
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    token = _run(["facilitator", "token", "fia@example.org"], env)
    assert token.returncode == 0 and len(token.stdout.strip()) > 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_the_front_page(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, COMPANION_LIVE_PORT=str(_free_port()))
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*COMPANION, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise AssertionError("no answer in 60 s:\n" + (tmp_path / "serve.log").read_text())
        assert response.status_code == 200
        assert "Kollega" in response.text
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {
            "status": "ok"
        }
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
