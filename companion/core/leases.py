"""Leases on claimed work, and the heartbeat that renews them while a worker lives.

A worker that claims messages or a job writes its id and a lease end (`lease_until`) on the
rows. While it runs, its heartbeat renews every lease it holds (every quarter of the lease)
and stamps its row in `worker_heartbeat`. A worker that dies stops renewing: its claims fall
free when their lease ends, within `worker_lease_seconds`, and any other worker takes them.

A worker also keeps sending only while its lease is surely valid (renewed within half the
lease), so it never sends a message another worker may have taken over.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, Database, Db, utcnow
from companion.core.logs import Throttle

log = logging.getLogger(__name__)

#: A heartbeat older than this many leases means the worker is gone (for health and metrics).
ALIVE_LEASES = 2
#: Heartbeat rows of workers gone this long are deleted.
FORGET_AFTER = timedelta(days=1)


class WorkerHeartbeat(Base):
    """A running worker: who it is and when it was last seen alive."""

    __tablename__ = "worker_heartbeat"

    #: "<host>:<pid>:<random>", also written on the rows it claims (`claimed_by`).
    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Renewed every quarter lease while the worker runs.
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: A fingerprint of the worker's secret key (`companion check` compares them).
    key_fingerprint: Mapped[str] = mapped_column(String(16), default="")


def new_worker_id() -> str:
    """An id naming this host and process, unique even if the pid is reused."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """This worker's view of its leases: valid while renewed within half the lease."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.renewed_at = time.monotonic()

    def renewed(self) -> None:
        """The database has just extended every lease of this worker."""
        self.renewed_at = time.monotonic()

    def valid(self, since: float | None = None) -> bool:
        """Whether claims made at `since` (monotonic) or renewed since are surely still ours."""
        latest = max(self.renewed_at, since or 0.0)
        return time.monotonic() < latest + self.seconds / 2

    def until(self, now: datetime | None = None) -> datetime:
        """The lease end to write on rows claimed now."""
        return (now or utcnow()) + timedelta(seconds=self.seconds)


def renew_leases(db: Db, worker_id: str, lease: Lease, fingerprint: str = "") -> None:
    """Stamp the heartbeat and extend every claim the worker holds (the caller commits)."""
    from companion.core.jobs import Job
    from companion.core.mail.outbox import OUTBOX

    now = utcnow()
    until = lease.until(now)
    values = {
        "worker_id": worker_id,
        "hostname": socket.gethostname()[:255],
        "pid": os.getpid(),
        "started_at": now,
        "seen_at": now,
        "key_fingerprint": fingerprint,
    }
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(WorkerHeartbeat).values(**values)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[WorkerHeartbeat.worker_id],
            set_={"seen_at": now, "key_fingerprint": fingerprint},
        )
    )
    db.execute(
        update(OUTBOX)
        .where(OUTBOX.c.claimed_by == worker_id, OUTBOX.c.status == "sending")
        .values(lease_until=until)
    )
    db.execute(
        update(Job)
        .where(Job.claimed_by == worker_id, Job.status == "running")
        .values(lease_until=until)
    )


def workers_alive(db: Db, lease_seconds: float) -> list[WorkerHeartbeat]:
    """Workers whose heartbeat is recent."""
    since = utcnow() - timedelta(seconds=lease_seconds * ALIVE_LEASES)
    return list(db.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since)))


class Heartbeat:
    """A thread renewing one worker's leases and heartbeat until stopped."""

    def __init__(
        self, database: Database, worker_id: str, lease: Lease, fingerprint: str = ""
    ) -> None:
        self.database = database
        self.worker_id = worker_id
        self.lease = lease
        self.fingerprint = fingerprint
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warn = Throttle(30.0)

    def beat(self) -> bool:
        """Renew now; False when the database could not be reached."""
        try:
            with self.database.session() as db:
                renew_leases(db, self.worker_id, self.lease, self.fingerprint)
                db.commit()
        except Exception as exc:
            held = self._warn.allow()
            if held is not None:
                log.warning("Worker heartbeat failed (%s); claims are not renewed", exc)
            return False
        self.lease.renewed()
        return True

    def start(self) -> Heartbeat:
        """Beat once now, then every quarter lease in a thread."""
        self.beat()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.lease.seconds / 4):
            self.beat()

    def stop(self) -> None:
        """Stop beating and remove the heartbeat row (the worker's claims were handed back)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            with self.database.session() as db:
                db.execute(
                    delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id)
                )
                db.execute(
                    delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < utcnow() - FORGET_AFTER)
                )
                db.commit()
        except Exception:
            log.warning("Could not remove the worker's heartbeat row", exc_info=True)
