"""One digest per participant per session, whatever happens: "End session" pressed twice or
at once, a worker failing mid-run, a worker killed (SIGKILL) mid-batch and restarted."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, get_database
from companion.core.jobs import Job
from companion.core.mail import OutboxMessage
from companion.digest import operations as digest_ops
from tests.digest.conftest import Held, by_recipient, end_session, run_worker
from tests.services import SmtpHandler, SmtpServer, _free_port


def _digest_rows(db: Db, session_id: int) -> list[OutboxMessage]:
    db.rollback()  # a fresh snapshot of what the app and the workers committed
    return list(
        db.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"digest-{session_id}-%"))
        )
    )


def _recipients(held: Held) -> set[str]:
    return {m.participant.email for m in held.world.session.group.memberships}


def test_ending_twice_queues_one_digest_each(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    end_session(held.world)
    end_session(held.world, again=True)
    with app.app_context():
        session = db.get(type(held.world.session), held.world.session.id)
        assert digest_ops.queue_digest(db, session) is None  # a third time, directly
        db.rollback()
    run_worker(app)
    with app.app_context():
        # Running the digest again (a job retried after its work committed) adds nothing.
        session = db.get(type(held.world.session), held.world.session.id)
        assert digest_ops.send_digest(db, app.extensions["companion.config"], session) == 0
        db.rollback()
    jobs = db.scalars(select(Job).where(Job.kind == "digest.send")).all()
    assert len(jobs) == 1 and jobs[0].status == "done"
    received = by_recipient(use_smtp)
    assert {k: len(v) for k, v in received.items()} == {e: 1 for e in _recipients(held)}


def test_ending_and_sending_at_the_same_moment_queues_once(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer, sign_in: Any
) -> None:
    clients = [sign_in(app.test_client(), held.world.facilitator) for _ in range(4)]

    def press_together(url: str) -> list[int]:
        barrier = threading.Barrier(len(clients))
        statuses: list[int] = []

        def press(client: Any) -> None:
            barrier.wait()
            statuses.append(client.post(url).status_code)

        threads = [threading.Thread(target=press, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sorted(statuses)

    session_id = held.world.session.id
    assert press_together(f"/sessions/{session_id}/end") == [303] * 4
    # The summary goes once: the first press sends it, the others are told it went.
    assert press_together(f"/sessions/{session_id}/digest/send") == [303, 409, 409, 409]
    run_worker(app)
    assert len(db.scalars(select(Job).where(Job.kind == "digest.send")).all()) == 1
    assert Counter(r.status for r in _digest_rows(db, held.world.session.id)) == {"sent": 3}
    assert all(len(v) == 1 for v in by_recipient(use_smtp).values())


def test_a_run_that_fails_midway_leaves_nothing_and_the_retry_sends_all(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = digest_ops.render_digest
    calls = {"n": 0}

    def crash_on_the_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died here")
        return real(*args, **kwargs)

    monkeypatch.setattr(digest_ops, "render_digest", crash_on_the_second)
    end_session(held.world)
    worker_pass = __import__("companion.core.jobs", fromlist=["Worker"]).Worker(app)
    worker_pass.run_once()
    # The chunk being written is all or nothing (here the first chunk, of all three): nothing.
    # test_chunks.py shows a run dying after some chunks were committed.
    assert _digest_rows(db, held.world.session.id) == []
    job = db.scalars(select(Job).where(Job.kind == "digest.send")).one()
    assert job.status == "queued" and job.attempts == 1 and "died here" in job.last_error
    run_worker(app)
    assert len(_digest_rows(db, held.world.session.id)) == 3
    assert {k: len(v) for k, v in by_recipient(use_smtp).items()} == {
        e: 1 for e in _recipients(held)
    }


# --- a real worker process, killed with SIGKILL ------------------------------------------------


@dataclass
class SlowHandler(SmtpHandler):
    """Takes its time over each message, so a worker can be killed in the middle of a batch."""

    delay: float = 0.25

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture()
def slow_smtp() -> Iterator[SmtpServer]:
    """An aiosmtpd server that needs a quarter of a second per message."""
    from aiosmtpd.controller import Controller

    handler = SlowHandler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def _start_worker(
    app: Flask, smtp: SmtpServer, instance: Path, log: Path
) -> subprocess.Popen[bytes]:
    config = app.extensions["companion.config"]
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": get_database(app).url,
        "COMPANION_SECRET_KEY": app.config["SECRET_KEY"],
        "COMPANION_BASE_URL": config.base_url,
        "COMPANION_INSTANCE_PATH": str(instance),
        "COMPANION_SMTP_URL": smtp.url,
        "COMPANION_WORKER_POLL_SECONDS": "0.05",
        "COMPANION_WORKER_LEASE_SECONDS": "4",
        "COMPANION_LIVE_PORT": "0",
        "COMPANION_DEFAULT_LANGUAGE": "en",
    }
    command = shutil.which("companion")
    argv = (
        [command, "worker"]
        if command
        else [sys.executable, "-c", "from companion.cli import main; main()", "worker"]
    )
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_and_restarted_delivers_each_digest_once(
    app: Flask,
    db: Db,
    held: Held,
    slow_smtp: SmtpServer,
    make_participant: Any,
    tmp_path: Path,
) -> None:
    world = held.world
    for number in range(9):
        make_participant(world.programme, group=world.programme.groups[0], name=f"Extra {number}")
    everyone = {m.participant.email for m in world.session.group.memberships}
    assert len(everyone) == 12
    end_session(world)
    log = tmp_path / "worker.log"

    first = _start_worker(app, slow_smtp, tmp_path / "one", log)
    try:
        _wait(lambda: len(slow_smtp.messages) >= 4, 30, "the first deliveries")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    rows = _digest_rows(db, world.session.id)
    statuses = Counter(r.status for r in rows)
    assert len(rows) == 12, statuses  # the job had queued all of them before delivering
    assert statuses["sending"] >= 1, (statuses, log.read_text())  # killed mid-batch

    # The dead worker renews nothing: its claims carry a lease (4 s here) that runs out by
    # itself, and the next worker takes them over.
    claims = [r for r in rows if r.status == "sending"]
    assert all(r.claimed_by and r.lease_until is not None for r in claims)
    second = _start_worker(app, slow_smtp, tmp_path / "two", log)
    try:
        _wait(
            lambda: Counter(r.status for r in _digest_rows(db, world.session.id)) == {"sent": 12},
            60,
            "every digest to be sent",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)

    delivered = [(r, m) for r, ms in by_recipient(slow_smtp).items() for m in ms]
    ids_by_recipient: dict[str, set[str]] = {}
    for recipient, message in delivered:
        ids_by_recipient.setdefault(recipient, set()).add(str(message["Message-ID"]))
    # Each person got exactly one digest (one Message-ID). Only the message that was on the
    # wire when the worker died may arrive twice, and then as the same message (same
    # Message-ID), which mail programs show once.
    assert set(ids_by_recipient) == everyone
    assert all(len(ids) == 1 for ids in ids_by_recipient.values())
    assert len(delivered) - len(everyone) <= 1
    assert len(db.scalars(select(Job).where(Job.kind == "digest.send")).all()) == 1
