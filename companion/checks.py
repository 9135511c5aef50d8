"""`companion check`: does this deployment hold together?

Each check returns a `Check`: "ok", "warn" (works, but not as a scaled-out deployment should)
or "fail" (something a person must fix). The checks ask the real services: the database and
its schema, Redis, the SMTP server, the material store's bucket, the public web and live
addresses, and the workers' heartbeats; and they compare the secret key's fingerprint with
the web's, the live server's and every worker's, since a key that differs between processes
breaks sign-ins, join links and live tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from flask import Flask

from companion.config import Config
from companion.core.db import get_database, schema_is_current
from companion.core.metrics import key_fingerprint

Outcome = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One finding."""

    name: str
    outcome: Outcome
    detail: str


def run_checks(app: Flask, *, timeout: float = 5.0) -> list[Check]:
    """Every check, in order; a check that raises is reported as failed."""
    config: Config = app.extensions["companion.config"]
    fingerprint = key_fingerprint(app.config["SECRET_KEY"])
    checks: list[tuple[str, Callable[[], Iterator[Check]]]] = [
        ("secret key", lambda: _secret_key(config)),
        ("database", lambda: _database(app, config, fingerprint)),
        ("redis", lambda: _redis(config, timeout)),
        ("smtp", lambda: _smtp(config, timeout)),
        ("materials", lambda: _materials(config, timeout)),
        ("base url", lambda: _web(config, fingerprint, timeout)),
        ("live url", lambda: _live(config, fingerprint, timeout)),
    ]
    found: list[Check] = []
    for name, check in checks:
        try:
            for item in check():  # what a check found before it failed is kept
                found.append(item)
        except Exception as exc:
            found.append(Check(name, "fail", f"{exc.__class__.__name__}: {exc}"))
    return found


def _secret_key(config: Config) -> Iterator[Check]:
    if config.secret_key_generated:
        yield Check(
            "secret key",
            "fail",
            "generated into the instance folder: set COMPANION_SECRET_KEY, the same in every "
            "web, live and worker process",
        )
    else:
        yield Check("secret key", "ok", "set in the configuration")


def _database(app: Flask, config: Config, fingerprint: str) -> Iterator[Check]:
    from companion.core.db import reading
    from companion.core.leases import workers_alive

    database = get_database(app)
    try:
        current, revision = schema_is_current(database)
    except Exception as exc:
        yield Check("database", "fail", f"cannot be reached: {exc.__class__.__name__}: {exc}")
        return
    if current:
        yield Check("database", "ok", f"{database.dialect}, schema at {revision}")
    else:
        yield Check(
            "database", "fail", f"schema at {revision}, not this code's: run `companion db upgrade`"
        )
        return
    if database.dialect == "sqlite" and config.redis_url:
        yield Check("database", "warn", "SQLite with Redis: several machines need PostgreSQL")
    with reading(), database.session() as db:
        workers = workers_alive(db, config.worker_lease_seconds)
    if not workers:
        yield Check("workers", "warn", "no worker heartbeat: mail and jobs wait for a worker")
        return
    others = [w for w in workers if w.key_fingerprint and w.key_fingerprint != fingerprint]
    if others:
        names = ", ".join(f"{w.hostname} (pid {w.pid})" for w in others)
        yield Check("workers", "fail", f"a different secret key on {names}")
    else:
        yield Check("workers", "ok", f"{len(workers)} alive, the same secret key")


def _redis(config: Config, timeout: float) -> Iterator[Check]:
    if not config.redis_url:
        if config.database_url.startswith("postgresql"):
            yield Check(
                "redis",
                "warn",
                "not configured: live servers in other processes see events "
                "only through their database check (seconds late)",
            )
        else:
            yield Check("redis", "ok", "not configured: the in-process bus (one process)")
        return
    import redis

    client = redis.Redis.from_url(
        config.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
        receivers = client.pubsub_numsub(f"{config.bus_namespace}:live")
    finally:
        client.close()
    count = int(receivers[0][1]) if receivers else 0
    yield Check(
        "redis", "ok", f"answers; channel {config.bus_namespace}:live has {count} live process(es)"
    )


def _smtp(config: Config, timeout: float) -> Iterator[Check]:
    if not config.smtp_url:
        yield Check("smtp", "warn", f"not configured: mail is written to {config.outbox_path}")
        return
    from companion.core.mail.transport import SmtpTransport

    transport = SmtpTransport(config.smtp_url, timeout=timeout, ca_file=config.smtp_ca_file)
    with transport.open():
        pass  # connected, TLS as configured, signed in; then QUIT
    yield Check("smtp", "ok", f"{transport.host}:{transport.port} accepts a connection")


def _materials(config: Config, timeout: float) -> Iterator[Check]:
    if not config.materials_s3_configured:
        folder = config.instance_path / "materials"
        if config.database_url.startswith("postgresql"):
            yield Check(
                "materials",
                "warn",
                f"kept in {folder}: web processes on several machines must share the folder "
                "(or use an S3-compatible store)",
            )
        else:
            yield Check("materials", "ok", f"kept in {folder}")
        return
    from companion.experts.s3_store import s3_store

    store = s3_store(config, timeout=timeout)
    where = f"bucket {config.materials_s3_bucket} at {config.materials_s3_endpoint}"
    try:
        store.check()
    except Exception as exc:
        # botocore's messages name the bucket and the error code, never the credentials.
        yield Check("materials", "fail", f"{where}: {exc.__class__.__name__}: {exc}")
        return
    yield Check("materials", "ok", f"{where} takes, gives back and removes a file")


def _web(config: Config, fingerprint: str, timeout: float) -> Iterator[Check]:
    import requests

    url = f"{config.base_url}/readyz"
    try:
        answer = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        yield Check("base url", "fail", f"{url} cannot be reached: {exc.__class__.__name__}")
        return
    body = _json(answer)
    if answer.status_code != 200:
        yield Check("base url", "fail", f"{url} answers {answer.status_code}: {body}")
        return
    yield from _key_matches("base url", url, body.get("key"), fingerprint)


def _live(config: Config, fingerprint: str, timeout: float) -> Iterator[Check]:
    from websockets.sync.client import connect

    url = config.public_live_url
    try:
        with connect(url, open_timeout=timeout, close_timeout=1):
            pass
    except Exception as exc:
        yield Check("live url", "fail", f"{url}: no WebSocket ({exc.__class__.__name__}: {exc})")
        return
    yield Check("live url", "ok", f"{url} opens a WebSocket")
    if config.live_url or config.live_port:
        # A live server reached directly (not through the proxy) answers its own /readyz.
        import requests

        parts = urlsplit(url)
        scheme = "https" if parts.scheme == "wss" else "http"
        ready = f"{scheme}://{parts.netloc}/readyz"
        try:
            body = _json(requests.get(ready, timeout=timeout))
        except requests.RequestException:
            return
        if "key" in body:
            yield from _key_matches("live url", ready, body.get("key"), fingerprint)


def _key_matches(name: str, url: str, theirs: object, fingerprint: str) -> Iterator[Check]:
    if theirs is None:
        yield Check(name, "ok", f"{url} is ready (key not shown to this address)")
    elif theirs != fingerprint:
        yield Check(name, "fail", f"{url} runs with a different secret key")
    else:
        yield Check(name, "ok", f"{url} is ready, with the same secret key")


def _json(answer: object) -> dict[str, object]:
    try:
        body = answer.json()  # type: ignore[attr-defined]
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
