"""The worker as `companion worker` and `serve` run it: a job loop and a mail loop side by side."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.core.jobs import Job, Worker, enqueue_job, job_handler
from companion.core.mail import OutboxMessage, SmtpTransport, queue_mail
from tests.services import SmtpHandler, SmtpServer, _free_port

#: Set by the test that uses it: the blocking job waits for it.
RELEASE = threading.Event()
#: Set when the quick job ran.
RAN = threading.Event()


@job_handler("tests.blocking")
def _blocking_job(db: Db, payload: dict[str, Any]) -> None:
    # Long work outside a transaction, as the digest job renders: on SQLite an open write
    # transaction would keep every other writer (the mail loop too) waiting.
    db.commit()
    if not RELEASE.wait(timeout=30):
        raise TimeoutError("the test never released the job")


@job_handler("tests.quick")
def _quick_job(db: Db, payload: dict[str, Any]) -> None:
    RAN.set()


@contextmanager
def running(app: Flask, *, poll_seconds: float | None = None) -> Iterator[Worker]:
    """A worker running as in `serve` (run_forever in a thread), stopped at the end."""
    worker = Worker(app)
    if poll_seconds is not None:
        worker.config = worker.config.model_copy(update={"worker_poll_seconds": poll_seconds})
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=30)
        assert not thread.is_alive()


def _queue(db: Db, address: str = "aino@example.fi") -> None:
    assert queue_mail(db, to_address=address, subject="Hei", text_body="Hei") is not None
    db.commit()


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _job_status(db: Db) -> str | None:
    db.rollback()  # see what the worker committed
    return db.scalar(select(Job.status))


def test_mail_goes_out_while_a_long_job_runs(app: Flask, db: Db, smtp_server: SmtpServer) -> None:
    app.extensions["companion.mail_transport"] = SmtpTransport(smtp_server.url)
    RELEASE.clear()
    with app.app_context():
        enqueue_job(db, "tests.blocking")
        db.commit()
    try:
        with running(app):
            _wait(lambda: _job_status(db) == "running", 10, "the job to start")
            _queue(db)
            assert len(smtp_server.wait_for(1)) == 1
            assert _job_status(db) == "running"  # delivered while the job still runs
            RELEASE.set()
            _wait(lambda: _job_status(db) == "done", 10, "the job to finish")
    finally:
        RELEASE.set()


def test_new_work_wakes_the_worker_at_once(app: Flask, db: Db, smtp_server: SmtpServer) -> None:
    """Committed jobs and mail wake an in-process worker; it does not wait for its poll."""
    app.extensions["companion.mail_transport"] = SmtpTransport(smtp_server.url)
    RAN.clear()
    with running(app, poll_seconds=60):
        time.sleep(0.3)  # both loops have found nothing and wait (for a minute)
        with app.app_context():
            enqueue_job(db, "tests.quick")
            db.commit()
        assert RAN.wait(timeout=20)
        _queue(db)
        assert len(smtp_server.wait_for(1, timeout=20)) == 1


@dataclass
class SlowHandler(SmtpHandler):
    """Takes a quarter of a second over each message."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.25)
        return await super().handle_DATA(server, session, envelope)


def test_stopping_hands_back_the_unsent_part_of_a_batch(app: Flask, db: Db) -> None:
    """A worker stopped (SIGTERM) mid-batch releases its claims: nothing waits for staleness."""
    from aiosmtpd.controller import Controller

    handler = SlowHandler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.extensions["companion.mail_transport"] = SmtpTransport(f"smtp://127.0.0.1:{port}")
        for number in range(10):
            _queue(db, f"p{number}@example.fi")
        with running(app):
            _wait(lambda: len(handler.delivered) >= 2, 20, "the first deliveries")
    finally:
        controller.stop()
    db.rollback()
    rows = db.scalars(select(OutboxMessage)).all()
    statuses = Counter(r.status for r in rows)
    assert statuses["sending"] == 0 and statuses["queued"] >= 1, statuses
    assert statuses["sent"] == len(handler.delivered)
    assert all(r.attempts == 0 and r.claimed_at is None for r in rows if r.status == "queued")
