"""Real services for tests: an SMTP server (aiosmtpd), Redis, Chromium and the app served live.

`require_service(name, reason)` skips locally and fails under CI=true, so CI can never pass
by skipping.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

CHROMIUM = "/usr/bin/chromium"


def require_service(name: str, reason: str) -> None:
    """Skip (locally) or fail (under CI=true) because a service is missing."""
    message = f"{name} is not available: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI must provide it)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class Delivered:
    """One message as the SMTP server received it."""

    mail_from: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        """The parsed message."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class SmtpHandler:
    """Collects messages; can fail the next N transactions or refuse given recipients."""

    delivered: list[Delivered] = field(default_factory=list)
    fail_next: int = 0
    fail_code: str = "451 4.3.0 Try again later"
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_code
            self.delivered.append(
                Delivered(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running aiosmtpd server and what it received."""

    host: str
    port: int
    handler: SmtpHandler
    scheme: str = "smtp"
    ca_file: str = ""

    @property
    def url(self) -> str:
        """The COMPANION_SMTP_URL that reaches this server."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def messages(self) -> list[Delivered]:
        """Messages accepted so far."""
        with self.handler.lock:
            return list(self.handler.delivered)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivered]:
        """Wait until at least `count` messages arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        return self.messages


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture()
def smtp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server on localhost. `@pytest.mark.parametrize('smtp_server', ['starttls',
    'ssl'], indirect=True)` gives one that speaks TLS with a self-signed certificate;
    'smtputf8' and 'no-smtputf8' one that does or does not offer SMTPUTF8 (international
    addresses, RFC 6531)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        require_service("aiosmtpd", "pip install aiosmtpd")
        raise
    mode = getattr(request, "param", "plain")
    handler = SmtpHandler()
    port = _free_port()
    kwargs: dict[str, Any] = {}
    scheme, ca_file, host = "smtp", "", "127.0.0.1"
    if mode in ("starttls", "ssl"):
        cert, key = _self_signed(tmp_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        ca_file, host = str(cert), "localhost"
        if mode == "starttls":
            kwargs = {"tls_context": context, "require_starttls": True}
            scheme = "smtp+starttls"
        else:
            kwargs = {"ssl_context": context}
            scheme = "smtps"
    if mode in ("smtputf8", "no-smtputf8"):
        kwargs = {"enable_SMTPUTF8": mode == "smtputf8"}
    controller = Controller(handler, hostname=host, port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(host, port, handler, scheme, ca_file)
    finally:
        controller.stop()


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server: COMPANION_TEST_REDIS_URL, or one started here from `redis-server`."""
    configured = os.environ.get("COMPANION_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = shutil.which("redis-server")
    if binary is None:
        require_service("Redis", "redis-server is not installed")
    port = _free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        require_service("Redis", "redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- the app served for browsers ---------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The app served by waitress on its configured port (base_url); yields that URL."""
    from waitress.server import create_server

    port = app.config["TEST_PORT"]
    server = create_server(app, host="127.0.0.1", port=port, threads=8, ident="Kollega-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    yield url
    server.close()


# --- Chromium ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (Playwright cannot download its own here)."""
    if not Path(CHROMIUM).exists():
        require_service("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("Playwright", "pip install playwright")
        raise
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
        ],
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def signed_in_context(app: Flask, browser: Any, client: Any, width: int, height: int = 900) -> Any:
    """A browser context of the given window size carrying the session cookie of `client` (a
    Flask test client that has signed in or opened a join link)."""
    cookie = client.get_cookie("kollega_session")
    assert cookie is not None
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies(
        [
            {
                "name": "kollega_session",
                "value": cookie.value,
                "url": f"http://127.0.0.1:{app.config['TEST_PORT']}",
            }
        ]
    )
    context.set_default_timeout(5000)
    return context


def wait_until(page: Any, expression: str, arg: Any = None, timeout: float = 8.0) -> Any:
    """Poll ``expression`` in ``page`` until it is truthy; return its value.

    Playwright's ``wait_for_function`` builds its predicate with ``eval`` inside the page once
    it starts polling, which the pages' Content-Security-Policy (no 'unsafe-eval') rightly
    refuses. ``page.evaluate`` goes through the DevTools protocol and is not subject to it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)
