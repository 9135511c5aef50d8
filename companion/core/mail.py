"""The mail outbox: messages are queued in the database and delivered by the worker.

Queueing is part of the caller's transaction, so a message exists exactly when the change
that caused it was committed. Delivery claims messages (`FOR UPDATE SKIP LOCKED` on
PostgreSQL), sends each one, and marks it sent in its own short transaction. A message whose
delivery was interrupted (the worker died between handing it to SMTP and recording it) is
retried after `STALE_CLAIM`; it keeps its Message-ID so receivers can tell a repeat.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import ForeignKey, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from companion.config import Config
from companion.core.db import Base, Database, Db, utcnow

log = logging.getLogger(__name__)

#: A message claimed longer ago than this is assumed abandoned by a dead worker.
STALE_CLAIM = timedelta(minutes=10)
#: Longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=2)


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
    #: The last delivery error (SMTP reply), without the message body.
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class Attachment:
    """A text attachment such as a calendar invitation."""

    filename: str
    content_type: str
    content: str


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
        return message
    # A concurrent transaction may queue the same key; the unique index decides the winner.
    try:
        with db.begin_nested():
            db.add(message)
            db.flush()
    except IntegrityError:
        return None
    return message


def build_email(message: OutboxMessage, config: Config) -> EmailMessage:
    """The MIME message for an outbox row; the Message-ID is stable across retries."""
    email = EmailMessage()
    email["From"] = config.mail_from
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(config.mail_from)[1].rpartition("@")[2] or "kollega.local"
    email["Message-ID"] = f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        maintype, _, rest = attachment["content_type"].partition("/")
        subtype, _, raw_params = rest.partition(";")
        params = dict(
            (key.strip(), value.strip())
            for key, _, value in (p.partition("=") for p in raw_params.split(";") if "=" in p)
        )
        if maintype == "text":
            # Text parts keep their charset; calendar clients also read METHOD from the
            # part's Content-Type.
            email.add_attachment(
                attachment["content"],
                subtype=subtype.strip(),
                charset="utf-8",
                filename=attachment["filename"],
                params=params,
            )
        else:
            email.add_attachment(
                attachment["content"].encode(),
                maintype=maintype,
                subtype=subtype.strip(),
                filename=attachment["filename"],
            )
    return email


class TemporaryFailure(Exception):
    """Delivery failed in a way that may work later (4xx, connection trouble)."""


class PermanentFailure(Exception):
    """Delivery can never work (5xx: unknown recipient, rejected)."""


class Transport(Protocol):
    """Delivers MIME messages; used within `open()` so a batch shares one connection."""

    def open(self) -> Any:
        """A context manager for one batch."""

    def send(self, email: EmailMessage, message_id: int) -> None:
        """Deliver one message or raise TemporaryFailure / PermanentFailure."""


class FileTransport:
    """Writes each message as `<id>.eml` in the outbox folder (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def open(self) -> Iterator[FileTransport]:
        """Make sure the folder exists."""
        self.folder.mkdir(parents=True, exist_ok=True)
        yield self

    def send(self, email: EmailMessage, message_id: int) -> None:
        """Write atomically so a half-written file never appears."""
        target = self.folder / f"{message_id:08d}.eml"
        temporary = target.with_suffix(".tmp")
        try:
            temporary.write_bytes(bytes(email))
            os.replace(temporary, target)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target.name}: {exc.strerror}") from exc


class SmtpTransport:
    """Delivers through an SMTP server: smtps:// is SSL, smtp:// uses STARTTLS when offered."""

    def __init__(self, url: str, *, timeout: float = 30.0, ca_file: str = "") -> None:
        parts = urlsplit(url)
        self.ssl = parts.scheme == "smtps"
        self.require_starttls = parts.scheme == "smtp+starttls"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.ca_file = ca_file or None
        self._smtp: smtplib.SMTP | None = None

    @contextmanager
    def open(self) -> Iterator[SmtpTransport]:
        """Connect once for a batch; a connection failure is temporary."""
        try:
            self._smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        try:
            yield self
        finally:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.ca_file)
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif self.require_starttls:
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    def send(self, email: EmailMessage, message_id: int) -> None:
        """Send one message on the open connection, reconnecting once if it dropped."""
        for attempt in (1, 2):
            if self._smtp is None:
                try:
                    self._smtp = self._connect()
                except (OSError, smtplib.SMTPException) as exc:
                    raise TemporaryFailure(f"cannot connect: {exc}") from exc
            try:
                refused = self._smtp.send_message(email)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"server disconnected: {exc}") from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                reply = "; ".join(
                    f"{code} {text.decode(errors='replace')}"
                    for code, text in exc.recipients.values()
                )
                if all(code >= 500 for code in codes):
                    raise PermanentFailure(reply) from exc
                raise TemporaryFailure(reply) from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                reply = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
                if exc.smtp_code >= 500:
                    raise PermanentFailure(reply) from exc
                raise TemporaryFailure(reply) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                raise TemporaryFailure(str(exc) or exc.__class__.__name__) from exc
            if refused:
                reply = "; ".join(f"{code} {text!r}" for code, text in refused.values())
                raise PermanentFailure(reply)
            return

    def _reset(self) -> None:
        # After a refused transaction the connection is still usable once RSET is sent.
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._smtp = None


def make_transport(config: Config) -> Transport:
    """SMTP when configured, otherwise .eml files in the instance's outbox folder."""
    if config.smtp_url:
        return SmtpTransport(config.smtp_url, ca_file=config.smtp_ca_file)
    return FileTransport(config.outbox_path)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Wait before the next attempt: doubling from `base_seconds`, capped at MAX_BACKOFF."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_due_messages(db: Db, *, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due messages for this worker and commit the claim."""
    now = now or utcnow()
    stale_before = now - STALE_CLAIM
    due = or_(
        (OutboxMessage.status == "queued") & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < stale_before),
    )
    ids = list(
        db.scalars(
            select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="sending", claimed_at=now)
        )
    db.commit()
    return ids


def deliver_due(
    database: Database,
    config: Config,
    transport: Transport | None = None,
    *,
    batch_size: int = 200,
    retry_base_seconds: float = 60.0,
) -> int:
    """Deliver one batch of due messages; returns how many were handled (sent or failed)."""
    transport = transport or make_transport(config)
    with database.session() as db:
        ids = claim_due_messages(db, limit=batch_size)
        if not ids:
            return 0
        handled = 0
        try:
            with transport.open():
                for message_id in ids:
                    message = db.get(OutboxMessage, message_id)
                    if message is None or message.status != "sending":
                        continue
                    _deliver_one(db, config, transport, message, retry_base_seconds)
                    handled += 1
        except TemporaryFailure as exc:
            # The connection itself failed: put the rest of the batch back to wait.
            log.warning("Mail delivery paused: %s", exc)
            for message_id in ids:
                message = db.get(OutboxMessage, message_id)
                if message is not None and message.status == "sending":
                    _record_failure(db, config, message, str(exc), retry_base_seconds)
            db.commit()
        return handled


def _deliver_one(
    db: Db,
    config: Config,
    transport: Transport,
    message: OutboxMessage,
    retry_base_seconds: float,
) -> None:
    try:
        transport.send(build_email(message, config), message.id)
    except PermanentFailure as exc:
        message.status = "failed"
        message.attempts += 1
        message.last_error = str(exc)[:2000]
        log.warning("Mail %s to a recipient was refused permanently: %s", message.id, exc)
    except TemporaryFailure as exc:
        _record_failure(db, config, message, str(exc), retry_base_seconds)
    else:
        message.status = "sent"
        message.attempts += 1
        message.sent_at = utcnow()
        message.last_error = ""
    db.commit()


def _record_failure(
    db: Db, config: Config, message: OutboxMessage, error: str, retry_base_seconds: float
) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= config.mail_max_attempts:
        message.status = "failed"
        log.warning("Mail %s failed after %s attempts: %s", message.id, message.attempts, error)
    else:
        message.status = "queued"
        message.next_attempt_at = utcnow() + backoff(message.attempts, retry_base_seconds)
        message.claimed_at = None


def hostname() -> str:
    """This machine's name, for worker identification in logs."""
    return socket.gethostname()
