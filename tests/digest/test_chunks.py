"""The digest job commits its outbox a chunk at a time, and the mail loop delivers beside it:
still exactly one digest per participant, whatever fails and however many workers run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.core.jobs import Job, Worker
from companion.core.mail import OutboxMessage
from companion.digest import operations as digest_ops
from tests.digest.conftest import Held, by_recipient, end_session, run_worker
from tests.services import SmtpServer


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 1, then 2 digests, so a dozen people make several chunks."""
    monkeypatch.setattr(digest_ops, "FIRST_DIGEST_CHUNK", 1)
    monkeypatch.setattr(digest_ops, "DIGEST_CHUNK", 2)


@pytest.fixture()
def twelve(held: Held, make_participant: Any) -> set[str]:
    """Nine more people in the session's group: twelve digests."""
    world = held.world
    for number in range(9):
        make_participant(world.programme, group=world.programme.groups[0], name=f"Extra {number}")
    everyone = {m.participant.email for m in world.session.group.memberships}
    assert len(everyone) == 12
    return everyone


def _rows(db: Db, session_id: int) -> list[OutboxMessage]:
    db.rollback()  # what the workers committed
    return list(
        db.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"digest-{session_id}-%"))
        )
    )


def _once_each(smtp: SmtpServer, everyone: set[str]) -> None:
    received = by_recipient(smtp)
    assert {address: len(messages) for address, messages in received.items()} == {
        address: 1 for address in everyone
    }


@contextmanager
def running(app: Flask) -> Iterator[Worker]:
    """A worker as `serve` runs it (run_forever in a thread)."""
    worker = Worker(app)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=30)


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.usefixtures("small_chunks")
def test_a_run_that_dies_midway_keeps_its_chunks_and_the_rerun_queues_the_rest(
    app: Flask,
    db: Db,
    held: Held,
    twelve: set[str],
    use_smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = digest_ops.render_digest
    renders: list[str] = []

    def crash_on_the_sixth(config: Any, content: Any, *args: Any) -> Any:
        renders.append(content.recipient.email)
        if len(renders) == 6:
            raise RuntimeError("the worker died here")
        return real(config, content, *args)

    monkeypatch.setattr(digest_ops, "render_digest", crash_on_the_sixth)
    end_session(held.world)
    Worker(app).run_jobs()
    # Chunks of 1, 2 and 2 were committed; the fourth chunk, half rendered, left nothing.
    kept = _rows(db, held.world.session.id)
    assert len(kept) == 5
    job = db.scalars(select(Job).where(Job.kind == "digest.send")).one()
    assert job.status == "queued" and "died here" in job.last_error

    run_worker(app)  # the retry renders and queues only the seven still missing
    assert len(renders) == 6 + 7
    rows = _rows(db, held.world.session.id)
    assert len(rows) == 12 and {r.to_address for r in rows} == twelve
    assert Counter(r.status for r in rows) == {"sent": 12}
    _once_each(use_smtp, twelve)


@pytest.mark.usefixtures("small_chunks")
def test_the_first_digests_go_out_while_the_rest_render(
    app: Flask,
    db: Db,
    held: Held,
    twelve: set[str],
    use_smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = digest_ops.render_digest

    def slow(*args: Any) -> Any:
        time.sleep(0.1)  # a big programme's rendering, in miniature
        return real(*args)

    monkeypatch.setattr(digest_ops, "render_digest", slow)
    with running(app):
        end_session(held.world)
        _wait(
            lambda: Counter(r.status for r in _rows(db, held.world.session.id)) == {"sent": 12},
            60,
            "every digest to be sent",
        )
    job = db.scalars(select(Job).where(Job.kind == "digest.send")).one()
    assert job.status == "done" and job.finished_at is not None
    sent_during_the_job = [
        r for r in _rows(db, held.world.session.id) if r.sent_at and r.sent_at < job.finished_at
    ]
    assert len(sent_during_the_job) >= 6  # delivery did not wait for the job to finish
    _once_each(use_smtp, twelve)


@pytest.mark.usefixtures("small_chunks")
def test_two_workers_deliver_each_digest_once(
    app: Flask, db: Db, held: Held, twelve: set[str], use_smtp: SmtpServer
) -> None:
    with running(app), running(app):
        end_session(held.world)
        end_session(held.world, again=True)
        _wait(
            lambda: Counter(r.status for r in _rows(db, held.world.session.id)) == {"sent": 12},
            60,
            "every digest to be sent",
        )
    assert len(db.scalars(select(Job).where(Job.kind == "digest.send")).all()) == 1
    _once_each(use_smtp, twelve)
