"""Delivery: the worker claims due messages and sends them, recording each outcome at once.

`deliver_due` claims a batch (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer
at a time) under a lease (`core.leases`) and loads its rows in the same transaction, then, per
message: builds its bytes (`prepare`: the same bytes on every attempt), hands them to the
transport and marks the message sent (or failed) in its own short transaction right after the
server answered. A worker that dies can therefore have at most the one message that was on the
wire delivered but not recorded; its lease ends within `worker_lease_seconds` and another
worker sends it again with the same bytes and Message-ID, so receivers can tell a repeat.

A mail server that cannot be reached spends no message's attempts: the batch is handed back
and every worker waits before trying the server again (`reachability`).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError

from companion.config import Config
from companion.core.db import Database, Db, utcnow
from companion.core.leases import Lease, new_worker_id
from companion.core.logs import Throttle
from companion.core.mail.message import Outgoing, prepare, sender_address
from companion.core.mail.outbox import OUTBOX
from companion.core.mail.reachability import note_reachable, note_unreachable, server_status
from companion.core.mail.transport import (
    ConnectionLost,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    make_transport,
)

log = logging.getLogger(__name__)

#: A claim without a lease (made before leases existed) is abandoned after this long.
STALE_CLAIM = timedelta(minutes=10)
#: Longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=2)
#: How long recording an outcome keeps trying while the database is away (a restart): a sent
#: message left unrecorded would be sent again once its lease ends.
RECORD_PATIENCE = 15.0

#: The id this process claims with when no worker passes its own (`companion worker --once`).
_PROCESS_WORKER: list[str] = []
_WARN_UNREACHABLE = Throttle(60.0)


def process_worker_id() -> str:
    """A worker id for claims made outside a `Worker` (one per process)."""
    if not _PROCESS_WORKER:
        _PROCESS_WORKER.append(new_worker_id())
    return _PROCESS_WORKER[0]


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Wait before the next attempt: doubling from `base_seconds`, capped at MAX_BACKOFF."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


#: The columns delivery reads.
_DELIVERY_COLUMNS = (
    OUTBOX.c.id,
    OUTBOX.c.to_address,
    OUTBOX.c.to_name,
    OUTBOX.c.subject,
    OUTBOX.c.text_body,
    OUTBOX.c.html_body,
    OUTBOX.c.attachments,
    OUTBOX.c.created_at,
    OUTBOX.c.attempts,
)


def claim_due_messages(
    connection: Connection | Db,
    *,
    limit: int,
    now: datetime | None = None,
    worker_id: str | None = None,
    lease_seconds: float = 20.0,
) -> list[Row[Any]]:
    """Claim up to `limit` due messages, load them, and commit the claim (one transaction).

    Due: queued and their time has come, or claimed by a worker whose lease ended.
    """
    now = now or utcnow()
    due = or_(
        (OUTBOX.c.status == "queued") & (OUTBOX.c.next_attempt_at <= now),
        (OUTBOX.c.status == "sending") & (OUTBOX.c.lease_until < now),
        (OUTBOX.c.status == "sending")
        & OUTBOX.c.lease_until.is_(None)
        & (OUTBOX.c.claimed_at < now - STALE_CLAIM),
    )
    ids = list(
        connection.execute(
            select(OUTBOX.c.id)
            .where(due)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    rows: list[Row[Any]] = []
    if ids:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(
                status="sending",
                claimed_at=now,
                claimed_by=worker_id or process_worker_id(),
                lease_until=now + timedelta(seconds=lease_seconds),
            )
        )
        rows = list(
            connection.execute(
                select(*_DELIVERY_COLUMNS)
                .where(OUTBOX.c.id.in_(ids))
                .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            )
        )
    connection.commit()
    return rows


def deliver_due(
    database: Database,
    config: Config,
    transport: Transport | None = None,
    *,
    batch_size: int = 200,
    retry_base_seconds: float = 60.0,
    stop: threading.Event | None = None,
    worker_id: str | None = None,
    lease: Lease | None = None,
) -> int:
    """Deliver one batch of due messages; returns how many were handled (sent or failed).

    If `stop` is set mid-batch, or the worker's lease can no longer be trusted (its heartbeat
    failed for half a lease), the messages not yet sent are handed back at once. While the
    mail server is unreachable nothing is claimed until the shared retry time.
    """
    transport = transport or make_transport(config)
    lease = lease or Lease(config.worker_lease_seconds)
    # One connection for the whole batch: the per-message commits then cost one round trip
    # each, with no pool checkout (and pre-ping) in between.
    with database.engine.connect() as connection:
        status = server_status(connection)
        if status.down and status.retry_at is not None and status.retry_at > utcnow():
            connection.rollback()
            return 0
        claimed = time.monotonic()
        rows = claim_due_messages(
            connection,
            limit=batch_size,
            worker_id=worker_id or process_worker_id(),
            lease_seconds=lease.seconds,
        )
        if not rows:
            return 0
        batch = _Batch(connection, config, rows, retry_base_seconds, lease, claimed)
        try:
            with transport.open():
                if status.down:
                    note_reachable(connection)
                    connection.commit()
                    log.info("The mail server answers again; delivery resumes")
                batch.run(transport, stop)
        except ConnectionLost as exc:
            # The server cannot be reached: its fault, not the messages'. The message being
            # sent (nothing of it was on the wire) and the rest of the batch are handed back
            # without spending an attempt, and every worker waits before trying again.
            batch.record()
            _release(connection, [row.id for row in rows[batch.done :]])
            state = note_unreachable(connection, str(exc))
            connection.commit()
            held = _WARN_UNREACHABLE.allow()
            if held is not None:
                log.warning(
                    "Mail delivery paused: %s; next try at %s%s",
                    exc,
                    state.retry_at,
                    f" ({held} more failed tries since the last warning)" if held else "",
                )
        return batch.done


class _Batch:
    """Sends claimed messages one by one and records each outcome in its own commit.

    An outcome is recorded (and committed) while the server reads the next message's data,
    always before that next message can be accepted (see `SmtpTransport._transaction`), or at
    the end of the batch; the next message's bytes are built while the server takes in the
    current one. So the bookkeeping hides in the server's reply time, and a process that dies
    leaves at most one accepted message unrecorded, as if each were recorded straight after
    its own reply.
    """

    def __init__(
        self,
        connection: Connection,
        config: Config,
        rows: list[Row[Any]],
        retry_base: float,
        lease: Lease,
        claimed: float,
    ) -> None:
        self.connection = connection
        self.config = config
        self.rows = rows
        self.retry_base = retry_base
        self.sender = sender_address(config)
        self.lease = lease
        #: When the rows were claimed (monotonic): their lease runs from then, or the last renewal.
        self.claimed = claimed
        #: How many of `rows` were handled (sent, refused or put back to wait).
        self.done = 0
        #: The outcome not yet recorded: the row, "sent", "failed" or "retry", and the error.
        self.outcome: tuple[Row[Any], str, str] | None = None
        self.prepared: dict[int, Outgoing] = {}

    def run(self, transport: Transport, stop: threading.Event | None) -> None:
        """Send every row (until `stop` or the deadline); record every outcome."""
        for index, row in enumerate(self.rows):
            # A claim whose lease may have ended could be another worker's by now: never send it.
            if (stop is not None and stop.is_set()) or not self.lease.valid(self.claimed):
                self.record()
                _release(self.connection, [r.id for r in self.rows[index:]])
                return
            outgoing = self.prepared.pop(row.id, None) or self.prepare(row)
            if outgoing is None:
                self.done += 1
                continue
            following = self.rows[index + 1] if index + 1 < len(self.rows) else None
            try:
                transport.send(
                    outgoing,
                    before_accept=self.record,
                    while_accepting=partial(self.prepare_ahead, following) if following else None,
                )
            except PermanentFailure as exc:
                log.warning("Mail %s to a recipient was refused permanently: %s", row.id, exc)
                self.outcome = (row, "failed", str(exc))
            except ConnectionLost:
                raise
            except TemporaryFailure as exc:
                self.outcome = (row, "retry", str(exc))
            else:
                self.outcome = (row, "sent", "")
            self.done += 1
        self.record()

    def prepare(self, row: Row[Any]) -> Outgoing | None:
        """The row's message (kept for its turn), or None if it cannot be built (then failed)."""
        try:
            outgoing = self.prepared[row.id] = prepare(row, self.config, self.sender)
        except Exception as exc:  # a row that cannot become a message never will
            log.exception("Mail %s cannot be built", row.id)
            self.record()
            self.outcome = (row, "failed", f"cannot build the message: {exc}")
            return None
        return outgoing

    def prepare_ahead(self, row: Row[Any]) -> None:
        """Build the next message now; one that cannot be built fails in its own turn."""
        with suppress(Exception):
            self.prepared[row.id] = prepare(row, self.config, self.sender)

    def record(self) -> None:
        """Commit the pending outcome, if any; waits out a short database outage."""
        if self.outcome is None:
            return
        row, result, error = self.outcome
        give_up = time.monotonic() + RECORD_PATIENCE
        while True:
            try:
                if result == "sent":
                    self.connection.execute(
                        _MARK_SENT,
                        {"message_id": row.id, "attempts": row.attempts + 1, "now": utcnow()},
                    )
                elif result == "failed":
                    _mark_failed(self.connection, row, error)
                else:
                    _record_failure(self.connection, self.config, row, error, self.retry_base)
                self.connection.commit()
                break
            except DBAPIError as exc:
                # A restarting database: the message went out, so its outcome must be kept
                # or it is sent again. The connection reconnects after the rollback.
                with suppress(DBAPIError):
                    self.connection.rollback()
                if time.monotonic() > give_up:
                    raise
                log.warning("Recording mail %s waits for the database: %s", row.id, exc.orig)
                time.sleep(0.5)
        self.outcome = None


#: Built once: delivery runs it for every message.
_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("message_id"))
    .values(status="sent", attempts=bindparam("attempts"), sent_at=bindparam("now"), last_error="")
)


def _mark_failed(connection: Connection, row: Row[Any], error: str) -> None:
    connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == row.id)
        .values(status="failed", attempts=row.attempts + 1, last_error=error[:2000])
    )


def _record_failure(
    connection: Connection, config: Config, row: Row[Any], error: str, retry_base_seconds: float
) -> None:
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if attempts >= config.mail_max_attempts:
        values["status"] = "failed"
        log.warning("Mail %s failed after %s attempts: %s", row.id, attempts, error)
    else:
        values["status"] = "queued"
        values["next_attempt_at"] = utcnow() + backoff(attempts, retry_base_seconds)
        values["claimed_at"] = None
        values["claimed_by"] = None
        values["lease_until"] = None
    connection.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))


def _release(connection: Connection, ids: list[int]) -> None:
    """Hand unsent claimed messages back (not an attempt: they were never tried)."""
    if ids:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
            .values(status="queued", claimed_at=None, claimed_by=None, lease_until=None)
        )
    connection.commit()
