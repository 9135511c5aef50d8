"""Background jobs and the worker that runs them together with mail delivery.

A job is a row: queued in the caller's transaction, claimed by any worker with
`FOR UPDATE SKIP LOCKED`, run in its own transaction, and marked done in that same
transaction, so its effects and its completion commit together. Handlers register with
`@job_handler("kind")`; periodic checks (due reminders, sessions that have ended) register
with `@periodic(seconds)`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, Db, get_database, utcnow
from companion.core.mail import backoff, deliver_due

log = logging.getLogger(__name__)

STALE_JOB = timedelta(minutes=15)


class Job(Base):
    """A unit of background work."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Makes enqueueing idempotent (e.g. one digest run per session).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    #: "queued", "running", "done" or "failed".
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    run_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


JobHandler = Callable[[Db, dict[str, Any]], None]
PeriodicTask = Callable[[Db], None]

_HANDLERS: dict[str, JobHandler] = {}


@dataclass
class _Periodic:
    name: str
    every: float
    task: PeriodicTask
    last_run: float = 0.0


_PERIODIC: list[_Periodic] = []


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of `kind` (called with a session and the payload)."""

    def register(handler: JobHandler) -> JobHandler:
        _HANDLERS[kind] = handler
        return handler

    return register


def periodic(every_seconds: float) -> Callable[[PeriodicTask], PeriodicTask]:
    """Register a check the worker runs every `every_seconds` in its own transaction."""

    def register(task: PeriodicTask) -> PeriodicTask:
        name = f"{task.__module__}.{task.__qualname__}"
        if not any(p.name == name for p in _PERIODIC):
            _PERIODIC.append(_Periodic(name, every_seconds, task))
        return task

    return register


def enqueue_job(
    db: Db,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
) -> Job | None:
    """Queue a job in the caller's transaction; None if `dedupe_key` exists already."""
    if kind not in _HANDLERS:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    job = Job(
        kind=kind,
        payload=payload or {},
        run_at=run_at or utcnow(),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
    )
    if dedupe_key is None:
        db.add(job)
        db.flush()
        return job
    if db.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)) is not None:
        return None
    try:
        with db.begin_nested():
            db.add(job)
            db.flush()
    except IntegrityError:
        return None
    return job


def claim_job(db: Db, now: datetime | None = None) -> int | None:
    """Claim the next due job and commit the claim; None when nothing is due."""
    now = now or utcnow()
    due = or_(
        (Job.status == "queued") & (Job.run_at <= now),
        (Job.status == "running") & (Job.claimed_at < now - STALE_JOB),
    )
    job_id = db.scalar(
        select(Job.id)
        .where(due)
        .order_by(Job.run_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job_id is not None:
        db.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", claimed_at=now, attempts=Job.attempts + 1)
        )
    db.commit()
    return job_id


def run_job(app: Flask, job_id: int, retry_base_seconds: float = 30.0) -> bool:
    """Run one claimed job; its work and its completion commit together. True if it succeeded."""
    database = get_database(app)
    with database.session() as db:
        job = db.get(Job, job_id)
        if job is None:
            return False
        handler = _HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(db, dict(job.payload))
            job.status = "done"
            job.finished_at = utcnow()
            job.last_error = ""
            db.commit()
            return True
        except Exception as exc:
            db.rollback()
            log.exception("Job %s (%s) failed", job_id, job.kind)
            job = db.get(Job, job_id)
            if job is None:
                return False
            job.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            retry_at: datetime | None = getattr(exc, "retry_at", None)
            if retry_at is not None and retry_at > utcnow():
                # The other side named the time (a platform's daily limit): wait for it, and
                # do not count this as a failed attempt.
                job.status = "queued"
                job.run_at = retry_at
                job.attempts = max(job.attempts - 1, 0)
            elif job.attempts >= job.max_attempts:
                job.status = "failed"
                job.finished_at = utcnow()
            else:
                job.status = "queued"
                job.run_at = utcnow() + backoff(job.attempts, retry_base_seconds)
            db.commit()
            return False


class Worker:
    """Delivers mail, runs due jobs and periodic checks; any number may run at once."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.config = app.extensions["companion.config"]
        self.stop_event = threading.Event()

    def run_once(self) -> int:
        """One pass: periodic checks, due jobs, one mail batch. Returns the work done."""
        done = 0
        with self.app.app_context():
            database = get_database(self.app)
            self._run_periodic()
            # Only jobs due when the pass began: a job retried during this pass waits for the
            # next one, even with no backoff.
            started = utcnow()
            while not self.stop_event.is_set():
                with database.session() as db:
                    job_id = claim_job(db, started)
                if job_id is None:
                    break
                run_job(self.app, job_id, self.app.config["JOB_RETRY_SECONDS"])
                done += 1
            done += deliver_due(
                database,
                self.config,
                self.app.extensions.get("companion.mail_transport"),
                retry_base_seconds=self.app.config["MAIL_RETRY_SECONDS"],
            )
        return done

    def _run_periodic(self) -> None:
        now = time.monotonic()
        database = get_database(self.app)
        for entry in _PERIODIC:
            if now - entry.last_run < entry.every:
                continue
            entry.last_run = now
            with database.session() as db:
                try:
                    entry.task(db)
                    db.commit()
                except Exception:
                    db.rollback()
                    log.exception("Periodic task %s failed", entry.name)

    def run_forever(self) -> None:
        """Poll until `stop()`; errors are logged and the loop goes on."""
        log.info("Worker started")
        while not self.stop_event.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("Worker pass failed")
                busy = 0
            if not busy:
                self.stop_event.wait(self.config.worker_poll_seconds)
        log.info("Worker stopped")

    def stop(self) -> None:
        """Ask the loop to finish its current pass and return."""
        self.stop_event.set()
