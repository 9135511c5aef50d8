"""The outbox: the `OutboxMessage` table, queueing mail, and waking the worker.

Queueing is part of the caller's transaction, so a message exists exactly when the change
that caused it was committed; a dedupe key makes it idempotent (`queue_mail`, or
`queue_mails` for many in one statement). The doorbell wakes this process's worker loops once
the transaction commits.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, ForeignKey, String, Table, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, Db, after_commit, utcnow


class OutboxMessage(Base):
    """One email to one recipient, waiting for or done with delivery."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Makes queueing idempotent: a second message with the same key is not queued.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    #: What kind of mail this is ("invitation", "digest", "reminder", ...); for the outbox UI.
    kind: Mapped[str] = mapped_column(String(40), default="other")
    #: The programme the message belongs to, so its facilitators can see it.
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True, default=None
    )
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    #: [{"filename", "content_type", "content" (text)}], e.g. an .ics invitation.
    attachments: Mapped[list[dict[str, str]]] = mapped_column(default=list)
    #: "queued", "sending", "sent" or "failed".
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The worker holding the claim (`core.leases`); it renews `lease_until` while it lives.
    claimed_by: Mapped[str | None] = mapped_column(String(120), default=None)
    #: A claim not renewed by then is abandoned: any worker may take the message.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    #: The last delivery error (SMTP reply), without the message body.
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


#: The table, for Core statements: delivery touches hundreds of rows a second and needs none
#: of the ORM's identity map or flush bookkeeping.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Attachment:
    """A text attachment such as a calendar invitation."""

    filename: str
    content_type: str
    content: str


# --- waking the worker --------------------------------------------------------------------------


class Doorbell:
    """Wakes this process's waiting worker loops as soon as new work is committed.

    Without it a loop notices new work only at its next poll (`worker_poll_seconds`). Only
    loops in the same process hear it (`companion serve` runs the worker beside the web app,
    and the worker's job loop queues the mail its delivery loop sends); other processes poll.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[threading.Event] = set()

    def listen(self) -> threading.Event:
        """An event set at every ring from now on; `forget` it when done."""
        event = threading.Event()
        with self._lock:
            self._listeners.add(event)
        return event

    def forget(self, event: threading.Event) -> None:
        """Stop setting `event`."""
        with self._lock:
            self._listeners.discard(event)

    def ring(self) -> None:
        """Wake every listener."""
        with self._lock:
            listeners = list(self._listeners)
        for event in listeners:
            event.set()

    def ring_after_commit(self, db: Db) -> None:
        """Ring once `db`'s transaction has committed (work is visible only then)."""
        callbacks: list[Any] = db.info.get("after_commit", [])
        if self.ring not in callbacks:
            after_commit(db, self.ring)


#: Rung when mail was queued.
MAIL_DOORBELL = Doorbell()


# --- queueing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewMail:
    """One email to queue with `queue_mails`."""

    to_address: str
    subject: str
    text_body: str
    html_body: str = ""
    to_name: str = ""
    kind: str = "other"
    programme_id: int | None = None
    attachments: Sequence[Attachment] = ()
    dedupe_key: str | None = None
    send_at: datetime | None = None


def queue_mail(
    db: Db,
    *,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    to_name: str = "",
    kind: str = "other",
    programme_id: int | None = None,
    attachments: Sequence[Attachment] = (),
    dedupe_key: str | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one email in the caller's transaction; None if `dedupe_key` was already queued."""
    if dedupe_key is not None:
        existing = db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        programme_id=programme_id,
        to_address=to_address,
        to_name=to_name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attachments=[a.__dict__ for a in attachments],
        next_attempt_at=send_at or utcnow(),
    )
    if dedupe_key is None:
        db.add(message)
        db.flush()
    else:
        # A concurrent transaction may queue the same key; the unique index decides the winner.
        try:
            with db.begin_nested():
                db.add(message)
                db.flush()
        except IntegrityError:
            return None
    MAIL_DOORBELL.ring_after_commit(db)
    return message


def requeue_failed(db: Db, mail: NewMail) -> bool:
    """Queue a message that failed for good again, as `mail` (same dedupe key), fresh.

    For a corrected address: the earlier attempt was refused, so nothing was delivered and
    sending again cannot duplicate it. Only a message still marked failed is changed (the
    guard in the UPDATE), so two people pressing "send again" at once queue it once.
    """
    if mail.dedupe_key is None:
        raise ValueError("requeue_failed needs the message's dedupe key")
    result = db.execute(
        update(OUTBOX)
        .where(OUTBOX.c.dedupe_key == mail.dedupe_key, OUTBOX.c.status == "failed")
        .values(
            to_address=mail.to_address,
            to_name=mail.to_name,
            subject=mail.subject,
            text_body=mail.text_body,
            html_body=mail.html_body,
            attachments=[a.__dict__ for a in mail.attachments],
            status="queued",
            attempts=0,
            next_attempt_at=utcnow(),
            claimed_at=None,
            claimed_by=None,
            lease_until=None,
            last_error="",
        )
    )
    changed = cast("CursorResult[Any]", result).rowcount
    if changed:
        MAIL_DOORBELL.ring_after_commit(db)
    return bool(changed)


def queue_mails(db: Db, mails: Sequence[NewMail]) -> int:
    """Queue many emails with one statement in the caller's transaction; returns how many.

    A message whose dedupe key exists already (queued by an earlier, interrupted run, or by a
    concurrent one) is skipped by the unique index (`INSERT ... ON CONFLICT DO NOTHING`), so
    re-running a half-done run queues exactly the rest.
    """
    if not mails:
        return 0
    dialect = db.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return sum(
            queue_mail(
                db,
                to_address=m.to_address,
                subject=m.subject,
                text_body=m.text_body,
                html_body=m.html_body,
                to_name=m.to_name,
                kind=m.kind,
                programme_id=m.programme_id,
                attachments=m.attachments,
                dedupe_key=m.dedupe_key,
                send_at=m.send_at,
            )
            is not None
            for m in mails
        )
    now = utcnow()
    rows = [
        {
            "dedupe_key": m.dedupe_key,
            "kind": m.kind,
            "programme_id": m.programme_id,
            "to_address": m.to_address,
            "to_name": m.to_name,
            "subject": m.subject,
            "text_body": m.text_body,
            "html_body": m.html_body,
            "attachments": [a.__dict__ for a in m.attachments],
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": m.send_at or now,
            "claimed_at": None,
            "claimed_by": None,
            "lease_until": None,
            "last_error": "",
            "created_at": now,
            "sent_at": None,
        }
        for m in mails
    ]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OUTBOX)
        .on_conflict_do_nothing(index_elements=[OUTBOX.c.dedupe_key])
        .returning(OUTBOX.c.id)
    )
    queued = len(db.execute(statement, rows).all())
    if queued:
        MAIL_DOORBELL.ring_after_commit(db)
    return queued
