"""Background jobs and the worker that runs them together with mail delivery.

A job is a row: queued in the caller's transaction, claimed by any worker with
`FOR UPDATE SKIP LOCKED`, run in its own transaction, and marked done in that same
transaction, so its effects and its completion commit together. (A handler may commit parts
of its work earlier when re-running it is idempotent, as the digest does so that its first
emails go out while the rest are still being written.) Handlers register with
`@job_handler("kind")`; periodic checks (due reminders, sessions that have ended) register
with `@periodic(seconds)`.

A running worker (`Worker.run_forever`, as `companion worker` and `companion serve` run it)
has two loops: jobs and periodic checks in one thread, mail delivery in another, so mail a
job queues is delivered while the job goes on, and a long job never holds up mail. Both wake
at once when this process commits new work (`Doorbell`), and otherwise poll.
"""

from __future__ import annotations

import logging
import sys
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
from companion.core.leases import Heartbeat, Lease, new_worker_id
from companion.core.mail.delivery import backoff, deliver_due, process_worker_id
from companion.core.mail.outbox import MAIL_DOORBELL, Doorbell

log = logging.getLogger(__name__)

STALE_JOB = timedelta(minutes=15)

#: Rung when a job was queued.
JOB_DOORBELL = Doorbell()

#: The interpreter's thread switch interval the worker sets for its process when its loops
#: start, and leaves (seconds; Python's default is 0.005). The mail loop waits on the SMTP
#: server four times per message and must take the interpreter back each time; while the job
#: loop renders (pure Python), each of those takes up to the switch interval, so at 5 ms
#: delivery beside a busy job fell to a tenth of its speed (24 ms a message instead of 1.8 in
#: a two-thread test). A thread that computes alone is not interrupted more often: the
#: interval only matters when another thread is waiting.
SWITCH_INTERVAL = 0.0002


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
    #: The worker running it (`core.leases`); it renews `lease_until` while it lives.
    claimed_by: Mapped[str | None] = mapped_column(String(120), default=None)
    #: A running job whose lease ended was abandoned by a dead worker: it runs again.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
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
    else:
        if db.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)) is not None:
            return None
        try:
            with db.begin_nested():
                db.add(job)
                db.flush()
        except IntegrityError:
            return None
    JOB_DOORBELL.ring_after_commit(db)
    return job


def claim_job(
    db: Db,
    now: datetime | None = None,
    *,
    worker_id: str | None = None,
    lease_seconds: float = 20.0,
) -> int | None:
    """Claim the next due job under a lease and commit the claim; None when nothing is due.

    Due: queued and its time has come, or running under a lease that ended (its worker died).
    """
    now = now or utcnow()
    due = or_(
        (Job.status == "queued") & (Job.run_at <= now),
        (Job.status == "running") & (Job.lease_until < now),
        (Job.status == "running") & Job.lease_until.is_(None) & (Job.claimed_at < now - STALE_JOB),
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
            .values(
                status="running",
                claimed_at=now,
                claimed_by=worker_id or process_worker_id(),
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
            )
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
        #: Written on every row this worker claims; its heartbeat renews their leases.
        self.worker_id = new_worker_id()
        self.lease = Lease(self.config.worker_lease_seconds)
        self.heartbeat: Heartbeat | None = None
        self.stop_event = threading.Event()
        #: When each periodic check last ran in this worker (monotonic seconds).
        self.periodic_runs: dict[str, float] = {}
        #: The events the loops wait on, so `stop()` can wake them.
        self._wakers: list[threading.Event] = []

    def run_once(self) -> int:
        """One pass: periodic checks, due jobs, one mail batch. Returns the work done."""
        return self.run_jobs() + self.deliver_mail()

    def run_jobs(self) -> int:
        """Periodic checks, then the jobs due when the pass began. Returns how many jobs ran."""
        done = 0
        with self.app.app_context():
            database = get_database(self.app)
            self._run_periodic()
            # Only jobs due when the pass began: a job retried during this pass waits for the
            # next one, even with no backoff.
            started = utcnow()
            while not self.stop_event.is_set():
                with database.session() as db:
                    job_id = claim_job(
                        db, started, worker_id=self.worker_id, lease_seconds=self.lease.seconds
                    )
                if job_id is None:
                    break
                run_job(self.app, job_id, self.app.config["JOB_RETRY_SECONDS"])
                done += 1
        return done

    def deliver_mail(self) -> int:
        """One batch of due mail (handed back unsent if the worker is stopped mid-batch)."""
        return deliver_due(
            get_database(self.app),
            self.config,
            self.app.extensions.get("companion.mail_transport"),
            retry_base_seconds=self.app.config["MAIL_RETRY_SECONDS"],
            stop=self.stop_event,
            worker_id=self.worker_id,
            lease=self.lease,
        )

    def _run_periodic(self) -> None:
        now = time.monotonic()
        database = get_database(self.app)
        for entry in _PERIODIC:
            # Each worker keeps its own clock: a new worker checks everything at once.
            last_run = self.periodic_runs.get(entry.name)
            if last_run is not None and now - last_run < entry.every:
                continue
            self.periodic_runs[entry.name] = now
            with database.session() as db:
                try:
                    entry.task(db)
                    db.commit()
                except Exception:
                    db.rollback()
                    log.exception("Periodic task %s failed", entry.name)

    def run_forever(self) -> None:
        """Run the job loop here and the mail loop in a thread beside it, until `stop()`.

        A heartbeat thread renews the leases of what this worker claimed while it runs.
        """
        log.info("Worker %s started", self.worker_id)
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        from companion.core.metrics import key_fingerprint

        self.heartbeat = Heartbeat(
            get_database(self.app),
            self.worker_id,
            self.lease,
            key_fingerprint(self.app.config["SECRET_KEY"]),
        ).start()
        mail = threading.Thread(
            target=self._loop,
            args=("mail", self.deliver_mail, MAIL_DOORBELL),
            name="worker-mail",
            daemon=True,
        )
        mail.start()
        try:
            self._loop("jobs", self.run_jobs, JOB_DOORBELL)
        finally:
            self.stop()
            mail.join(timeout=60)
            self.heartbeat.stop()
        log.info("Worker %s stopped", self.worker_id)

    def _loop(self, name: str, work: Callable[[], int], doorbell: Doorbell) -> None:
        """Do `work` until stopped; when idle, wait for the doorbell or the next poll."""
        wake = doorbell.listen()
        self._wakers.append(wake)
        try:
            while not self.stop_event.is_set():
                # Cleared before the pass: work committed during the pass rings again, so the
                # wait below returns at once and nothing is left waiting for a poll.
                wake.clear()
                try:
                    busy = work()
                except Exception:
                    log.exception("Worker %s pass failed", name)
                    busy = 0
                if not busy:
                    wake.wait(self.config.worker_poll_seconds)
        finally:
            doorbell.forget(wake)

    def stop(self) -> None:
        """Ask the loops to finish their current step and return."""
        self.stop_event.set()
        for wake in list(self._wakers):
            wake.set()
