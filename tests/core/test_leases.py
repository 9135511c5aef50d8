"""Leases on claimed mail and jobs: renewed by a living worker, back to the queue when it dies."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, get_database, utcnow
from companion.core.jobs import Job, claim_job, enqueue_job, job_handler
from companion.core.leases import Heartbeat, Lease, WorkerHeartbeat, renew_leases, workers_alive
from companion.core.mail import FileTransport, OutboxMessage, claim_due_messages, deliver_due
from tests.core.test_mail import _queue_many


@job_handler("tests.lease")
def _lease_job(db: Db, payload: dict[str, object]) -> None:
    """Does nothing; the tests only claim it."""


def _claim(app: Flask, worker: str, *, later: float = 0.0, lease: float = 20.0) -> list[int]:
    with get_database(app).engine.connect() as connection:
        rows = claim_due_messages(
            connection,
            limit=100,
            now=utcnow() + timedelta(seconds=later),
            worker_id=worker,
            lease_seconds=lease,
        )
    return [row.id for row in rows]


def test_a_dead_workers_mail_returns_once_its_lease_ends(app: Flask, db: Db) -> None:
    _queue_many(db, 3)
    taken = _claim(app, "dead-worker", lease=20)
    assert len(taken) == 3
    assert _claim(app, "other", later=5) == []  # still leased
    assert sorted(_claim(app, "other", later=21)) == sorted(taken)  # renewed by nobody
    db.rollback()
    rows = db.scalars(select(OutboxMessage)).all()
    assert {r.claimed_by for r in rows} == {"other"}
    assert all(r.attempts == 0 for r in rows)  # taking over is not an attempt


def test_a_living_workers_heartbeat_keeps_its_claims(app: Flask, db: Db) -> None:
    _queue_many(db, 2)
    assert len(_claim(app, "alive", lease=20)) == 2
    with get_database(app).session() as session:
        renew_leases(session, "alive", Lease(120.0), "abc")
        session.commit()
    assert _claim(app, "other", later=60) == []  # the renewal reached past the first lease
    assert len(_claim(app, "other", later=121)) == 2
    beat = db.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == "alive"))
    assert beat is not None and beat.key_fingerprint == "abc"


def test_a_dead_workers_job_runs_again_after_its_lease(app: Flask, db: Db) -> None:
    with app.app_context():
        enqueue_job(db, "tests.lease")
        db.commit()
    database = get_database(app)
    with database.session() as session:
        job_id = claim_job(session, worker_id="dead-worker", lease_seconds=20)
    assert job_id is not None
    with database.session() as session:
        assert claim_job(session, utcnow() + timedelta(seconds=5), worker_id="other") is None
    with database.session() as session:
        again = claim_job(session, utcnow() + timedelta(seconds=21), worker_id="other")
    assert again == job_id
    db.rollback()
    job = db.get(Job, job_id)
    assert job is not None and job.claimed_by == "other" and job.attempts == 2


def test_the_heartbeat_row_lives_as_long_as_the_worker(app: Flask, db: Db) -> None:
    heartbeat = Heartbeat(get_database(app), "w-1", Lease(8.0), "fp").start()
    try:
        db.rollback()
        assert [w.worker_id for w in workers_alive(db, 8.0)] == ["w-1"]
    finally:
        heartbeat.stop()
    db.rollback()
    assert workers_alive(db, 8.0) == []


def test_a_batch_whose_lease_is_in_doubt_sends_nothing_and_hands_back(
    app: Flask, db: Db, tmp_path
) -> None:
    _queue_many(db, 2)
    lease = Lease(0.0)  # over the moment it is claimed, and never renewed
    lease.renewed_at = time.monotonic() - 60
    config = app.extensions["companion.config"]
    transport = FileTransport(tmp_path)
    assert deliver_due(get_database(app), config, transport, worker_id="w", lease=lease) == 0
    assert list(tmp_path.glob("*.eml")) == []
    db.rollback()
    waiting = db.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all()
    assert len(waiting) == 2 and all(m.claimed_by is None and m.attempts == 0 for m in waiting)
