"""The mail outbox: messages are queued in the database and delivered by the worker.

Queueing is part of the caller's transaction, so a message exists exactly when the change
that caused it was committed; a dedupe key makes it idempotent (`queue_mail`, or
`queue_mails` for many in one statement).

Delivery (`deliver_due`) claims a batch (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time) and loads its rows in the same transaction, then, per message: builds its
bytes (`message_bytes`: assembled directly, cheap, and the same bytes on every attempt), hands
them to the transport and marks the message sent (or failed) in its own short transaction
right after the server answered. A worker that dies can therefore have at most the one message
that was on the wire delivered but not recorded; it is retried after `STALE_CLAIM` with the
same bytes and Message-ID, so receivers can tell a repeat.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr, quote
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import quote as url_quote
from urllib.parse import unquote, urlsplit

from sqlalchemy import (
    Connection,
    CursorResult,
    ForeignKey,
    Row,
    String,
    Table,
    Text,
    bindparam,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from companion.config import Config
from companion.core.db import Base, Database, Db, after_commit, utcnow

log = logging.getLogger(__name__)

#: A message claimed longer ago than this is assumed abandoned by a dead worker.
STALE_CLAIM = timedelta(minutes=10)
#: A batch stops sending after this long and hands back the rest of its claim, so a slow batch
#: (an SMTP server timing out message after message) never outlives its claim: another worker
#: taking over a stale claim must never find a message this one is still going to send.
BATCH_DEADLINE = STALE_CLAIM / 2
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


# --- the message's bytes ------------------------------------------------------------------------


class MailFields(Protocol):
    """What building a message reads: an `OutboxMessage` or a row of the same columns."""

    @property
    def id(self) -> int: ...
    @property
    def to_address(self) -> str: ...
    @property
    def to_name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text_body(self) -> str: ...
    @property
    def html_body(self) -> str: ...
    @property
    def attachments(self) -> list[dict[str, str]]: ...
    @property
    def created_at(self) -> datetime: ...


CRLF = b"\r\n"
#: RFC 5322: a line is at most 998 octets; a part with longer lines is quoted-printable.
MAX_LINE = 998
#: Where headers are folded (RFC 5322 recommends 78).
FOLD_AT = 78
_LINE_BREAKS = re.compile(r"[\r\n]+")


def sender_address(config: Config) -> str:
    """The envelope sender: the address of `mail_from`."""
    return _address_of(config.mail_from)


@lru_cache(maxsize=8)
def _address_of(mail_from: str) -> str:
    return parseaddr(mail_from)[1]


def message_id(message: MailFields, config: Config) -> str:
    """The message's Message-ID; the same on every attempt, so a repeat can be recognised."""
    domain = sender_address(config).rpartition("@")[2] or "kollega.local"
    return f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"


def _one_line(value: str) -> str:
    # A line break in a header value would start a new header (header injection).
    return _LINE_BREAKS.sub(" ", value) if ("\n" in value or "\r" in value) else value


def _needs_encoding(value: str) -> bool:
    # Plain ASCII that looks like an encoded word would be decoded by mail programs.
    return not value.isascii() or "=?" in value


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 "B" encoded words of 64 characters at most, cut between characters (short
    enough to follow "Subject: " within 78 characters)."""
    data = value.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = min(start + 39, len(data))  # 39 bytes are 52 base64 characters
        while end < len(data) and data[end] & 0xC0 == 0x80:  # never inside a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode()}?=")
        start = end
    return words


def _fold(name: str, words: Sequence[str]) -> bytes:
    """`Name: words` with lines folded before FOLD_AT where a space allows."""
    lines = []
    line = f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > FOLD_AT and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode()


def _header(name: str, value: str) -> bytes:
    """`Name: value` with RFC 2047 encoded words for non-ASCII text, folded at 78."""
    value = _one_line(value)
    if _needs_encoding(value):
        return _fold(name, _encoded_words(value))
    if len(name) + 2 + len(value) <= FOLD_AT:
        return f"{name}: {value}\r\n".encode("ascii")
    return _fold(name, value.split(" "))


def _mailbox(name: str, address: str) -> str:
    """A From/To value: the name encoded if need be; a non-ASCII address stays UTF-8."""
    name = _one_line(name)
    if not name:
        return address
    if not _needs_encoding(name):
        return formataddr((name, address))
    return " ".join([*_encoded_words(name), f"<{address}>"])


def _address_header(name: str, display_name: str, address: str) -> bytes:
    value = _mailbox(display_name, address)
    if len(name) + 2 + len(value) <= FOLD_AT:
        return f"{name}: {value}\r\n".encode()
    return _fold(name, value.split(" "))


@lru_cache(maxsize=8)
def _from_header(mail_from: str) -> bytes:
    return _address_header("From", *parseaddr(mail_from))


def _param(key: str, value: str) -> str:
    if value.isascii() and value.isprintable():
        return f'; {key}="{quote(value)}"'
    return f"; {key}*=utf-8''{url_quote(value, safe='')}"  # RFC 2231


@dataclass
class _Part:
    headers: bytes
    body: bytes
    #: Whether the body has 8-bit bytes (the transport then asks for BODY=8BITMIME).
    eight_bit: bool = False
    #: Whether the body is sent as it is (7bit/8bit), so a boundary must be checked against it.
    literal: bool = True


def _text_part(
    content: str, content_type: str, extra: bytes = b"", *, seven_bit: bool = False
) -> _Part:
    """A UTF-8 text part: as it is (7bit/8bit) when no line is too long, else quoted-printable.

    `seven_bit` asks for quoted-printable whenever the text is not ASCII, for a server that
    does not offer 8BITMIME (RFC 6152).
    """
    raw = content.encode("utf-8")
    lines = raw.splitlines()
    body = CRLF.join(lines) + CRLF if lines else b""
    headers = f'Content-Type: {content_type}; charset="utf-8"'.encode()
    if max(map(len, lines), default=0) <= MAX_LINE and not (seven_bit and not raw.isascii()):
        eight_bit = not raw.isascii()
        cte = b"8bit" if eight_bit else b"7bit"
        return _Part(
            headers + CRLF + b"Content-Transfer-Encoding: " + cte + CRLF + extra, body, eight_bit
        )
    encoded = binascii.b2a_qp(body, istext=True)
    headers += CRLF + b"Content-Transfer-Encoding: quoted-printable" + CRLF + extra
    return _Part(headers, encoded, literal=False)


def _attachment_part(attachment: dict[str, str], *, seven_bit: bool = False) -> _Part:
    maintype, _, rest = attachment["content_type"].partition("/")
    subtype, _, raw_params = rest.partition(";")
    params = "".join(
        _param(key.strip(), value.strip().strip('"'))
        for key, _, value in (p.partition("=") for p in raw_params.split(";") if "=" in p)
    )
    disposition = f"Content-Disposition: attachment{_param('filename', attachment['filename'])}"
    extra = disposition.encode() + CRLF
    content_type = f"{maintype.strip()}/{subtype.strip()}"
    if maintype.strip() == "text":
        # Text parts keep their charset; calendar clients also read METHOD from the part's
        # Content-Type.
        part = _text_part(attachment["content"], content_type, extra, seven_bit=seven_bit)
        if params:
            first, _, others = part.headers.partition(CRLF)
            part.headers = first + params.encode() + CRLF + others
        return part
    body = base64.encodebytes(attachment["content"].encode()).replace(b"\n", CRLF)
    headers = f"Content-Type: {content_type}{params}\r\nContent-Transfer-Encoding: base64\r\n"
    return _Part(headers.encode() + extra, body, literal=False)


def _boundary(seed: str, parts: Sequence[_Part]) -> str:
    # "=_" never occurs in quoted-printable or base64 text; bodies sent as they are (and
    # multiparts holding one) are checked, and the next number is taken on a collision.
    # Derived from the message, not random, so every attempt sends the very same bytes.
    number = 0
    while True:
        boundary = f"=_kollega_{seed}_{number}"
        marker = b"--" + boundary.encode()
        if not any(p.literal and marker in p.body for p in parts):
            return boundary
        number += 1


def _multipart(subtype: str, seed: str, parts: Sequence[_Part]) -> _Part:
    boundary = _boundary(seed, parts)
    delimiter = f"--{boundary}".encode()
    # The line break before a delimiter belongs to the delimiter (RFC 2046), not to the body.
    chunks = []
    for part in parts:
        chunks += [delimiter, CRLF, part.headers, CRLF, part.body, CRLF]
    chunks += [delimiter, b"--", CRLF]
    return _Part(
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode(),
        b"".join(chunks),
        eight_bit=any(p.eight_bit for p in parts),
        # Holds its parts' literal text: an enclosing boundary must be checked against it.
        literal=any(p.literal for p in parts),
    )


@dataclass(frozen=True)
class Outgoing:
    """One message as a transport sends it: the envelope and the exact bytes."""

    id: int
    sender: str
    recipient: str
    raw: bytes
    #: The bytes have 8-bit text (UTF-8 bodies), for BODY=8BITMIME.
    eight_bit: bool = False
    #: The recipient's address is not ASCII (needs the server's SMTPUTF8).
    smtputf8: bool = False
    #: Makes the same message with quoted-printable text, for a server without 8BITMIME.
    seven_bit_form: Callable[[], Outgoing] | None = field(default=None, compare=False, repr=False)
    #: What SMTP sends: the addresses as in MAIL FROM / RCPT TO, and the dot-stuffed data.
    #: Made with the rest, so that delivery prepares them while the server is busy.
    smtp_sender: str = field(init=False)
    smtp_recipient: str = field(init=False)
    smtp_data: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "smtp_sender", _quoted_address(self.sender))
        object.__setattr__(self, "smtp_recipient", _quoted_address(self.recipient))
        object.__setattr__(self, "smtp_data", _dot_stuffed(self.raw))


#: A plain address (no display name, comments or quoting), which smtplib would just bracket.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def _quoted_address(address: str) -> str:
    """The address as MAIL FROM / RCPT TO take it, as `smtplib.quoteaddr` makes it (whose
    full RFC 5322 parse is kept for anything but a plain address)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _dot_stuffed(raw: bytes) -> bytes:
    """The DATA payload without its end: lines starting with "." doubled (RFC 5321 4.5.2),
    as smtplib does it (with a replace, ten times faster than its regular expression)."""
    data = raw.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data if data.endswith(CRLF) else data + CRLF


def message_bytes(message: MailFields, config: Config) -> bytes:
    """The message as sent (CRLF line ends): text, HTML alternative and attachments."""
    return prepare(message, config).raw


def prepare(
    message: MailFields, config: Config, sender: str | None = None, *, seven_bit: bool = False
) -> Outgoing:
    """The message's envelope and bytes, assembled directly.

    The `email` package's modern API parses every header it sets and refolds it when
    flattening, several milliseconds a message; this writes the same structure (text/plain
    and text/html alternatives, attachments beside them) in a tenth of a millisecond. Bodies
    go as they are (7bit/8bit) unless a line is too long for SMTP, then quoted-printable.
    """
    parts = [_text_part(message.text_body, "text/plain", seven_bit=seven_bit)]
    if message.html_body:
        parts.append(_text_part(message.html_body, "text/html", seven_bit=seven_bit))
    body = parts[0] if len(parts) == 1 else _multipart("alternative", f"a{message.id}", parts)
    if message.attachments:
        attachments = [_attachment_part(a, seven_bit=seven_bit) for a in message.attachments]
        body = _multipart("mixed", f"m{message.id}", [body, *attachments])
    raw = b"".join(
        (
            _from_header(config.mail_from),
            _address_header("To", message.to_name, message.to_address),
            _header("Subject", message.subject),
            b"Date: " + format_datetime(message.created_at).encode() + CRLF,
            b"Message-ID: " + message_id(message, config).encode() + CRLF,
            b"Auto-Submitted: auto-generated\r\n",
            b"MIME-Version: 1.0\r\n",
            body.headers,
            CRLF,
            body.body,
        )
    )
    return Outgoing(
        id=message.id,
        sender=sender if sender is not None else sender_address(config),
        recipient=message.to_address,
        raw=raw,
        eight_bit=body.eight_bit,
        smtputf8=not message.to_address.isascii(),
        seven_bit_form=(lambda: prepare(message, config, sender, seven_bit=True))
        if body.eight_bit
        else None,
    )


def build_email(message: MailFields, config: Config) -> EmailMessage:
    """The message as an `EmailMessage` (for the outbox page's .eml download): the very bytes
    delivery sends, parsed."""
    email = message_from_bytes(message_bytes(message, config), policy=email_policy.default)
    assert isinstance(email, EmailMessage)
    return email


# --- transports ---------------------------------------------------------------------------------


class TemporaryFailure(Exception):
    """Delivery failed in a way that may work later (4xx, connection trouble)."""


class ConnectionLost(TemporaryFailure):
    """The connection to the server is gone and cannot be made again right now."""


class PermanentFailure(Exception):
    """Delivery can never work (5xx: unknown recipient, rejected)."""


#: A step the deliverer runs during a send (see `Transport.send`).
Hook = Callable[[], None]


class Transport(Protocol):
    """Delivers messages; used within `open()` so a batch shares one connection."""

    def open(self) -> Any:
        """A context manager for one batch."""

    def send(
        self,
        message: Outgoing,
        *,
        before_accept: Hook | None = None,
        while_accepting: Hook | None = None,
    ) -> None:
        """Deliver one message or raise TemporaryFailure / PermanentFailure.

        `before_accept` runs exactly once, always, and before the message can have been
        accepted (even when the send fails): delivery records the previous message there, so
        a message is never accepted while an earlier one is accepted but not recorded.
        `while_accepting` runs at most once, after the message was handed over and before
        the server's answer is read: delivery builds the next message there.
        """


class FileTransport:
    """Writes each message as `<id>.eml` in the outbox folder (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def open(self) -> Iterator[FileTransport]:
        """Make sure the folder exists."""
        self.folder.mkdir(parents=True, exist_ok=True)
        yield self

    def send(
        self,
        message: Outgoing,
        *,
        before_accept: Hook | None = None,
        while_accepting: Hook | None = None,
    ) -> None:
        """Write atomically so a half-written file never appears."""
        if before_accept is not None:
            before_accept()
        target = self.folder / f"{message.id:08d}.eml"
        temporary = target.with_suffix(".tmp")
        try:
            temporary.write_bytes(message.raw)
            os.replace(temporary, target)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target.name}: {exc.strerror}") from exc


class _Once:
    """Runs a hook at most once."""

    def __init__(self, hook: Hook | None) -> None:
        self.hook = hook

    def __call__(self) -> None:
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()


class _BeforeData(Exception):
    """The connection dropped before the message's data was sent (so it cannot be accepted)."""


#: The end of the DATA payload: only when the server reads it can it accept the message.
_END_OF_DATA = b"." + CRLF


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
        # One connection per thread: workers running in one process (each with its mail
        # loop) may share an installed transport.
        self._local = threading.local()

    @property
    def _smtp(self) -> smtplib.SMTP | None:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        return smtp

    @_smtp.setter
    def _smtp(self, smtp: smtplib.SMTP | None) -> None:
        self._local.smtp = smtp

    @contextmanager
    def open(self) -> Iterator[SmtpTransport]:
        """Connect once for a batch; a connection failure is temporary."""
        try:
            self._smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        try:
            yield self
        finally:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()

    def _tls_context(self) -> ssl.SSLContext:
        # Made only when needed: loading the system's CA certificates takes tens of
        # milliseconds, once per batch.
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
            smtp.ehlo()
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            elif self.require_starttls:
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
        if self.username:
            smtp.login(self.username, self.password or "")
        if smtp.sock is not None:
            # The end-of-data marker goes out as a small write of its own, after the data;
            # Nagle's algorithm would hold it until the data is acknowledged.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def send(
        self,
        message: Outgoing,
        *,
        before_accept: Hook | None = None,
        while_accepting: Hook | None = None,
    ) -> None:
        """Send one message on the open connection, reconnecting once if it had dropped."""
        before = _Once(before_accept)
        try:
            self._send(message, before, _Once(while_accepting))
        finally:
            before()

    def _send(self, message: Outgoing, before_accept: Hook, while_accepting: Hook) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                try:
                    self._smtp = self._connect()
                except (OSError, smtplib.SMTPException) as exc:
                    raise ConnectionLost(f"cannot connect: {exc}") from exc
            try:
                self._transaction(self._smtp, message, before_accept, while_accepting)
            except _BeforeData as exc:
                # Typically a connection the server closed while idle: nothing of this message
                # was sent, so sending it on a new connection cannot duplicate it.
                self._smtp = None
                if attempt == 2:
                    raise ConnectionLost(f"server disconnected: {exc.__cause__}") from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                reply = "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
                if all(code >= 500 for code in codes):
                    raise PermanentFailure(reply) from exc
                raise TemporaryFailure(reply) from exc
            except smtplib.SMTPResponseException as exc:
                reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                if exc.smtp_code >= 500:
                    raise PermanentFailure(reply) from exc
                raise TemporaryFailure(reply) from exc
            except smtplib.SMTPNotSupportedError as exc:
                raise PermanentFailure(f"the server cannot take this address: {exc}") from exc
            except (OSError, smtplib.SMTPException) as exc:
                # Lost after the data was sent: whether the server took the message is
                # unknown, so it is retried later like any temporary failure.
                self._smtp = None
                raise TemporaryFailure(str(exc) or exc.__class__.__name__) from exc
            except BaseException:
                # A hook failed mid-conversation: the connection's state is unknown.
                self._drop()
                raise
            return

    def _transaction(
        self, smtp: smtplib.SMTP, message: Outgoing, before_accept: Hook, while_accepting: Hook
    ) -> None:
        """One mail transaction, as `smtplib.SMTP.sendmail` does it, with two pauses.

        While the server reads this message's data, but before the end-of-data marker that
        lets it accept the message, `before_accept` records the previous message; while the
        server takes the message in, `while_accepting` builds the next one. Both are work the
        server's reply time hides, and the first keeps the re-send window at one message: this
        one cannot be accepted before its predecessor's result is committed.
        """
        try:
            smtp.ehlo_or_helo_if_needed()
            eight_bit_ok = smtp.does_esmtp and smtp.has_extn("8bitmime")
            if message.eight_bit and not eight_bit_ok and message.seven_bit_form is not None:
                # RFC 6152: 8-bit data only to a server that offers 8BITMIME.
                message = message.seven_bit_form()
            options = []
            if smtp.does_esmtp:
                if smtp.has_extn("size"):
                    options.append(f"SIZE={len(message.raw)}")
                if message.eight_bit and smtp.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
                if message.smtputf8:
                    if not smtp.has_extn("smtputf8"):
                        raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
                    smtp.command_encoding = "utf-8"
                    options.append("SMTPUTF8")
            option_text = "".join(f" {option}" for option in options)
            smtp.putcmd("mail", f"FROM:{message.smtp_sender}{option_text}")
            code, reply = smtp.getreply()
            if code != 250:
                self._abort(smtp, code)
                raise smtplib.SMTPSenderRefused(code, reply, message.sender)
            smtp.putcmd("rcpt", f"TO:{message.smtp_recipient}")
            code, reply = smtp.getreply()
            if code not in (250, 251):
                self._abort(smtp, code)
                raise smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)})
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._abort(smtp, code)
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPServerDisconnected as exc:
            raise _BeforeData() from exc
        smtp.send(message.smtp_data)
        # The server is reading the data; it cannot accept the message before the end marker.
        before_accept()
        smtp.send(_END_OF_DATA)
        while_accepting()
        code, reply = smtp.getreply()
        if code != 250:
            self._abort(smtp, code)
            raise smtplib.SMTPDataError(code, reply)

    def _abort(self, smtp: smtplib.SMTP, code: int) -> None:
        # As sendmail does: 421 means the server is closing the connection; otherwise RSET
        # ends the refused transaction and the connection stays usable.
        if code == 421:
            smtp.close()
            self._smtp = None
            return
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def make_transport(config: Config) -> Transport:
    """SMTP when configured, otherwise .eml files in the instance's outbox folder."""
    if config.smtp_url:
        return SmtpTransport(config.smtp_url, ca_file=config.smtp_ca_file)
    return FileTransport(config.outbox_path)


# --- delivery -----------------------------------------------------------------------------------


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
    connection: Connection | Db, *, limit: int, now: datetime | None = None
) -> list[Row[Any]]:
    """Claim up to `limit` due messages, load them, and commit the claim (one transaction)."""
    now = now or utcnow()
    stale_before = now - STALE_CLAIM
    due = or_(
        (OUTBOX.c.status == "queued") & (OUTBOX.c.next_attempt_at <= now),
        (OUTBOX.c.status == "sending") & (OUTBOX.c.claimed_at < stale_before),
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
            update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(status="sending", claimed_at=now)
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
) -> int:
    """Deliver one batch of due messages; returns how many were handled (sent or failed).

    If `stop` is set mid-batch, the messages not yet sent are handed back at once.
    """
    transport = transport or make_transport(config)
    # One connection for the whole batch: the per-message commits then cost one round trip
    # each, with no pool checkout (and pre-ping) in between.
    with database.engine.connect() as connection:
        rows = claim_due_messages(connection, limit=batch_size)
        if not rows:
            return 0
        batch = _Batch(connection, config, rows, retry_base_seconds)
        try:
            with transport.open():
                batch.run(transport, stop)
        except ConnectionLost as exc:
            # The server cannot be reached: the message being sent (not on the wire: nothing
            # of it was sent) and the rest of the batch wait for their next attempt.
            log.warning("Mail delivery paused: %s", exc)
            batch.record()
            for row in rows[batch.done :]:
                _record_failure(connection, config, row, str(exc), retry_base_seconds)
            connection.commit()
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
        self, connection: Connection, config: Config, rows: list[Row[Any]], retry_base: float
    ) -> None:
        self.connection = connection
        self.config = config
        self.rows = rows
        self.retry_base = retry_base
        self.sender = sender_address(config)
        self.deadline = time.monotonic() + BATCH_DEADLINE.total_seconds()
        #: How many of `rows` were handled (sent, refused or put back to wait).
        self.done = 0
        #: The outcome not yet recorded: the row, "sent", "failed" or "retry", and the error.
        self.outcome: tuple[Row[Any], str, str] | None = None
        self.prepared: dict[int, Outgoing] = {}

    def run(self, transport: Transport, stop: threading.Event | None) -> None:
        """Send every row (until `stop` or the deadline); record every outcome."""
        for index, row in enumerate(self.rows):
            if (stop is not None and stop.is_set()) or time.monotonic() > self.deadline:
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
        """Commit the pending outcome, if any."""
        if self.outcome is None:
            return
        row, result, error = self.outcome
        if result == "sent":
            self.connection.execute(
                _MARK_SENT, {"message_id": row.id, "attempts": row.attempts + 1, "now": utcnow()}
            )
        elif result == "failed":
            _mark_failed(self.connection, row, error)
        else:
            _record_failure(self.connection, self.config, row, error, self.retry_base)
        self.connection.commit()
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
    connection.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))


def _release(connection: Connection, ids: list[int]) -> None:
    """Hand unsent claimed messages back (not an attempt: they were never tried)."""
    connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
        .values(status="queued", claimed_at=None)
    )
    connection.commit()


def hostname() -> str:
    """This machine's name, for worker identification in logs."""
    return socket.gethostname()
