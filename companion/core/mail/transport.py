"""Transports hand a built message to its next hop: an SMTP server, or files in a folder.

`SmtpTransport` runs the mail transaction itself (as `smtplib.SMTP.sendmail` does) so that
delivery can record the previous message and build the next one while the server is busy.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from companion.config import Config
from companion.core.mail.message import CRLF, Outgoing


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
