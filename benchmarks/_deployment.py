"""A scaled-out Kollega on this machine, for the fault and load benchmarks: PostgreSQL and Redis
started from the Debian binaries, an SMTP server (aiosmtpd) that logs what it accepts, web
processes under gunicorn, `companion live` and `companion worker` processes, and nginx in front
with the repository's own location file (deploy/nginx/kollega-locations.conf).

Every service runs on a free loopback port in one temporary folder and is stopped at the end;
each can be killed, frozen, stopped and started again by the benchmark."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The same key as the fan-out harness, whose setup (`setup_product`) signs the voters' tokens.
SECRET = "benchmark-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wait_http(url: str, timeout: float = 240, process: subprocess.Popen[Any] | None = None) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=3).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def stop_on_term() -> None:
    """SIGTERM ends the benchmark through its `finally`, which stops every service."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@dataclass
class Service:
    """One process of the deployment and how to start it again."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int | None = None
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        assert self.log is not None
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 45) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


@dataclass
class Deployment:
    """The services, started by `start()` and stopped by `close()`."""

    web: int = 2
    live: int = 2
    workers: int = 2
    smtp_delay: float = 0.0
    settings: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kollega-")))
    services: dict[str, Service] = field(default_factory=dict)

    # --- the engines -------------------------------------------------------------------------

    def start_postgres(self) -> None:
        stop_on_term()
        pg = _pg_bin()
        self.pg_data = self.workdir / "pg"
        self.pg_data.mkdir()
        self.pg_port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.pg_data, "postgres", "postgres")
            os.chmod(self.workdir, 0o755)
        subprocess.run(
            _as_postgres(
                [str(pg / "initdb"), "-D", str(self.pg_data), "-A", "trust", "-U", "postgres"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._pg_ctl("start")
        subprocess.run(
            _as_postgres(
                [str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "kollega"]
            ),
            check=True,
        )
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.pg_port}/kollega"

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.pg_port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c max_connections=300"
        command = [
            str(_pg_bin() / "pg_ctl"),
            "-D",
            str(self.pg_data),
            "-l",
            str(self.pg_data / "log"),
        ]
        if action in ("start", "restart"):
            command += ["-o", options]
        subprocess.run(
            _as_postgres([*command, "-w", *extra, action]), check=True, stdout=subprocess.DEVNULL
        )

    def restart_postgres(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def start_redis(self) -> None:
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed")
        self.services["redis"] = Service(
            "redis",
            [
                binary,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dict(os.environ),
            self.redis_port,
            self.workdir / "redis.log",
        ).start()
        wait_port(self.redis_port)

    def start_smtp(self) -> None:
        self.smtp_port = getattr(self, "smtp_port", None) or free_port()
        self.smtp_log = self.workdir / "smtp.jsonl"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "smtp",
            str(self.smtp_port),
            str(self.smtp_log),
            str(self.smtp_delay),
        ]
        self.services["smtp"] = Service(
            "smtp", command, dict(os.environ), self.smtp_port, self.workdir / "smtp.log"
        ).start()
        wait_port(self.smtp_port)

    # --- Kollega -----------------------------------------------------------------------------

    def prepare_database(self) -> None:
        """Migrate, and add what the models have and no migration yet (as the tests do)."""
        from companion.app import create_app
        from companion.core.db import create_missing_schema, get_database, upgrade_database

        app = create_app(self.app_settings())
        database = get_database(app)
        upgrade_database(database)
        create_missing_schema(database)
        database.dispose()

    def app_settings(self) -> dict[str, Any]:
        """The settings as a `create_app` override (for setting up data from this process)."""
        return {
            "instance_path": self.workdir / "instance",
            "database_url": self.database_url,
            "secret_key": SECRET,
            "base_url": self.base_url,
            "redis_url": self.redis_url,
            "live_port": 0,
        }

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
        env.update(
            {
                "COMPANION_INSTANCE_PATH": str(self.workdir / "instance"),
                "COMPANION_DATABASE_URL": self.database_url,
                "COMPANION_REDIS_URL": self.redis_url,
                "COMPANION_SECRET_KEY": SECRET,
                "COMPANION_BASE_URL": self.base_url,
                "COMPANION_LIVE_URL": f"ws://127.0.0.1:{self.nginx_port}/ws",
                "COMPANION_SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
                "COMPANION_TRUSTED_PROXIES": "1",
                "COMPANION_SERVE_WORKER": "false",
                "COMPANION_SERVE_LIVE": "false",
                "COMPANION_LOG_FORMAT": "json",
                "COMPANION_WORKER_POLL_SECONDS": "0.2",
                "COMPANION_DEFAULT_LANGUAGE": "en",
                "PYTHONUNBUFFERED": "1",
                **self.settings,
            }
        )
        return env

    def start(self) -> Deployment:
        """Every service, in dependency order; returns once each answers."""
        stop_on_term()
        (self.workdir / "instance").mkdir(exist_ok=True)
        self.nginx_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.nginx_port}"
        self.start_postgres()
        self.start_redis()
        self.start_smtp()
        self.prepare_database()
        self.web_ports = [free_port() for _ in range(self.web)]
        self.live_ports = [free_port() for _ in range(self.live)]
        for index, port in enumerate(self.web_ports):
            self.services[f"web{index + 1}"] = self._web(index, port).start()
        for index, port in enumerate(self.live_ports):
            self.services[f"live{index + 1}"] = self._live(index, port).start()
        for index in range(self.workers):
            self.services[f"worker{index + 1}"] = self._worker(index).start()
        self.start_nginx()
        for index, port in enumerate(self.web_ports):
            wait_http(
                f"http://127.0.0.1:{port}/readyz", process=self.services[f"web{index + 1}"].process
            )
        for index, port in enumerate(self.live_ports):
            wait_http(
                f"http://127.0.0.1:{port}/readyz", process=self.services[f"live{index + 1}"].process
            )
        return self

    def _web(self, index: int, port: int) -> Service:
        env = {
            **self.env(),
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"metrics-web{index + 1}"),
        }
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "8",
            "companion.wsgi:app",
        ]  # fmt: skip
        return Service(f"web{index + 1}", command, env, port, self.workdir / f"web{index + 1}.log")

    def _live(self, index: int, port: int) -> Service:
        command = [sys.executable, "-m", "companion.cli", "live", "--port", str(port)]
        return Service(
            f"live{index + 1}", command, self.env(), port, self.workdir / f"live{index + 1}.log"
        )

    def _worker(self, index: int) -> Service:
        command = [sys.executable, "-m", "companion.cli", "worker"]
        return Service(
            f"worker{index + 1}", command, self.env(), None, self.workdir / f"worker{index + 1}.log"
        )

    def restart(self, name: str, wait: bool = True) -> None:
        """Start a stopped or killed process again, the same way."""
        service = self.services[name]
        service.start()
        if wait and service.port is not None and name.startswith(("web", "live")):
            wait_http(f"http://127.0.0.1:{service.port}/readyz", process=service.process)
        elif wait and service.port is not None:
            wait_port(service.port, process=service.process)

    def start_nginx(self) -> None:
        """nginx with the repository's locations and upstreams as in deploy/nginx/kollega.conf."""
        folder = self.workdir / "nginx"
        (folder / "tmp").mkdir(parents=True)
        os.chmod(folder, 0o777)
        os.chmod(folder / "tmp", 0o777)
        deploy = ROOT / "deploy" / "nginx"
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.web_ports
        )
        lives = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.live_ports
        )
        # An upstream needs a server: a deployment without live processes names one that is down.
        lives = lives or "    server 127.0.0.1:9 down;"
        temp = folder / "tmp"
        config = f"""
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
worker_processes 1;
events {{ worker_connections 8192; }}
http {{
    client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
    uwsgi_temp_path {temp}; scgi_temp_path {temp};
    include {deploy / "kollega-http.conf"};
    access_log {folder / "access.log"} kollega;
    upstream kollega_web {{
{servers}
        keepalive 16;
    }}
    upstream kollega_live {{
        least_conn;
{lives}
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        include {deploy / "kollega-locations.conf"};
    }}
}}
"""
        (folder / "nginx.conf").write_text(config)
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
        self.services["nginx"] = Service(
            "nginx", command, dict(os.environ), self.nginx_port, folder / "stdout.log"
        ).start()
        wait_port(self.nginx_port)

    def close(self) -> None:
        for name in reversed(list(self.services)):
            service = self.services[name]
            with contextlib.suppress(Exception):
                service.signal(signal.SIGCONT)
                service.stop(timeout=15)
        if hasattr(self, "pg_data"):
            with contextlib.suppress(Exception):
                subprocess.run(
                    _as_postgres(
                        [
                            str(_pg_bin() / "pg_ctl"),
                            "-D",
                            str(self.pg_data),
                            "-m",
                            "immediate",
                            "stop",
                        ]
                    ),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=30,
                )
        if os.environ.get("KOLLEGA_BENCH_KEEP"):
            print(f"kept {self.workdir} (KOLLEGA_BENCH_KEEP)", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self, name: str, lines: int = 20) -> str:
        service = self.services.get(name)
        if service is None or service.log is None or not service.log.exists():
            return ""
        return "\n".join(service.log.read_text(errors="replace").splitlines()[-lines:])


# --- the SMTP server role ---------------------------------------------------------------------


def smtp_role(port: int, log_path: Path, delay: float) -> None:
    """aiosmtpd on `port`: appends {recipient, message_id, at} per accepted message."""
    import asyncio
    import email

    from aiosmtpd.controller import Controller

    log = log_path.open("a", buffering=1)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            if delay:
                await asyncio.sleep(delay)
            message = email.message_from_bytes(envelope.content)
            for recipient in envelope.rcpt_tos:
                log.write(
                    json.dumps(
                        {"to": recipient, "id": message.get("Message-ID", ""), "at": time.time()}
                    )
                    + "\n"
                )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def smtp_received(log_path: Path) -> list[dict[str, Any]]:
    """What the SMTP server accepted so far."""
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "smtp":
    smtp_role(int(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
